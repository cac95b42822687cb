"""Where a CUDA training step spends its time: the model alone on a resident batch (forward, forward +
backward + SGD step, eager and compiled) against the FLOP count, and the top kernels of one step.

    python benchmarks/profile_cuda.py --model seam --batch 8 --size 448
    python benchmarks/profile_cuda.py --model largefov --batch 10 --size 321

Weights are random; numbers are for the network's own arithmetic (no data loading).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from wsss.losses.seam import seam_losses
from wsss.models.classifier import ClassifierSpec, build_classifier
from wsss.models.deeplab import SegmenterSpec, build_segmenter


def build(name: str, backbone: str):
    if name in ("seam", "cam"):
        return build_classifier(ClassifierSpec(name, backbone, 20, 8), weights=None)
    return build_segmenter(SegmenterSpec(name, backbone, tuple(str(k) for k in range(21))), weights=None)


def loss_of(name: str, model, x, labels):
    if name == "seam":
        return seam_losses(model, x, labels)["loss"]
    if name == "cam":
        return F.multilabel_soft_margin_loss(model(x).float(), labels)
    target = torch.randint(0, 21, (x.shape[0], x.shape[2], x.shape[3]), device=x.device)
    logits = model(x)
    return F.cross_entropy(F.interpolate(logits.float(), x.shape[2:], mode="bilinear"), target)


def timed(fn, repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs (CUDA events), after two warm-up runs."""
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    return sorted(times)[len(times) // 2]


def profile_inference(model, kernels: int) -> None:
    """Host-side view preparation against the whole 4-scale × flip CAM call on one 500×375 image."""
    import numpy as np

    from wsss.cams.multiscale import cam_views, multiscale_cams

    image = np.random.default_rng(0).integers(0, 255, (375, 500, 3), dtype=np.uint8)
    labels = np.zeros(20)
    labels[[3, 14]] = 1
    scales = (0.5, 1.0, 1.5, 2.0)

    def views():
        cam_views(image, scales, "cuda")

    def call():
        multiscale_cams(model, image, labels, scales, True, "minmax", "cuda", torch.bfloat16)

    for _ in range(2):
        call()
    start = time.perf_counter()
    views()
    host = time.perf_counter() - start
    total = timed(call, 5)
    print(f"{torch.cuda.get_device_name()}; CAM inference 4 scales x flip, 500x375: {1 / total:.2f} img/s "
          f"({total * 1000:.0f} ms per image, of which host-side views {host * 1000:.0f} ms)")
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        call()
        torch.cuda.synchronize()
    print(prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=kernels, max_name_column_width=70))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="seam")
    parser.add_argument("--backbone", default="resnet38")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--compile", default="", help="comma-separated torch.compile modes to try")
    parser.add_argument("--no-channels-last", action="store_true")
    parser.add_argument("--kernels", type=int, default=15, help="rows of the kernel table (0 = none)")
    parser.add_argument("--infer", action="store_true", help="profile 4-scale x flip CAM inference instead")
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")
    model = build(args.model, args.backbone).to(device)
    memory_format = torch.contiguous_format if args.no_channels_last else torch.channels_last
    model = model.to(memory_format=memory_format).train()
    x = torch.randn(args.batch, 3, args.size, args.size, device=device).contiguous(memory_format=memory_format)
    labels = (torch.rand(args.batch, 20, device=device) < 0.15).float()
    labels[:, 0] = 1
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-6, momentum=0.9)

    if args.infer:
        profile_inference(model.eval(), args.kernels)
        return
    with FlopCounterMode(display=False) as counter, torch.autocast("cuda", torch.bfloat16):
        loss_of(args.model, model, x, labels).backward()
    step_flops = counter.get_total_flops()
    optimizer.zero_grad(set_to_none=True)

    def forward(net):
        with torch.no_grad(), torch.autocast("cuda", torch.bfloat16):
            net(x)

    def step(net):
        with torch.autocast("cuda", torch.bfloat16):
            loss = loss_of(args.model, net, x, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    print(f"{torch.cuda.get_device_name()}; {args.model}/{args.backbone}, batch {args.batch}, {args.size}², "
          f"bf16, {'NCHW' if args.no_channels_last else 'channels_last'}; "
          f"{step_flops / 1e12 / args.batch:.2f} TFLOP per image per training step")
    variants = [("eager", model)] + [(f"compile:{mode}", torch.compile(model, mode=mode, dynamic=False))
                                     for mode in args.compile.split(",") if mode]
    for name, net in variants:
        start = time.perf_counter()
        forward(net)
        step(net)
        torch.cuda.synchronize()
        warm = time.perf_counter() - start
        f = timed(lambda: forward(net), args.repeats)
        s = timed(lambda: step(net), args.repeats)
        print(f"{name:>24}: forward {args.batch / f:7.1f} img/s | train step {args.batch / s:7.1f} img/s "
              f"({step_flops / s / 1e12:5.0f} TFLOP/s) | first call {warm:.0f} s")
    if args.kernels:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            for _ in range(3):
                step(model)
            torch.cuda.synchronize()
        print(prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=args.kernels, max_name_column_width=70))


if __name__ == "__main__":
    main()
