"""GETAM throughput: training steps of both phases (phase 2 includes the online GETAM maps, PAMR
and label completion), and map extraction — batched (one backward per class present in the batch)
against the reference's one backward per (image, class).

    python benchmarks/bench_getam.py                      # paper setting (ViT-hybrid R50, 256², batch 4) on CUDA if present
    python benchmarks/bench_getam.py --device cpu --backbone lite0_vit_tiny --start-block 3 --features 64 \
        --size 160 --batch 8 --energy-scale 0.25 --steps 3 --workers 2 --infer-images 2   # the demo setting

Weights are random (throughput does not depend on them). Prints images/s and the speed-up.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import (
    device_name,
    engine_arguments,
    per_item_seconds,
    synchronize,
    training_seconds,
)

from wsss.cams.getam import block_relevance, refined_getam_maps
from wsss.config import EngineConfig
from wsss.devices import resolve_device
from wsss.losses.getam import GetamLoss
from wsss.models.getam import GetamSpec, build_getam
from wsss.params.getam import (
    CompletionParams,
    DenseEnergyParams,
    GetamMapParams,
    TrainGetamParams,
)


def per_pair_maps(model, images: torch.Tensor, labels: torch.Tensor, start_block: int) -> None:
    """The reference's schedule: one forward, then one backward per present (image, class)."""
    x = images.detach().requires_grad_(True)
    with model.encoder.recording_attention() as recorded:
        logits = model.forward_cls(x)
    attentions = [recorded[i] for i in range(start_block, model.encoder.depth)]
    for b, c in torch.nonzero(labels).tolist():
        grads = torch.autograd.grad(logits[b, c], attentions, retain_graph=True)
        sum(block_relevance(a[b : b + 1], g[b : b + 1]) for a, g in zip(attentions, grads))


def main() -> None:
    parser = argparse.ArgumentParser()
    engine_arguments(parser, backbone="vit_b_r50", batch=4, size=256, steps=20, warmup=3, infer_images=10)
    parser.add_argument("--features", type=int, default=256)
    parser.add_argument("--start-block", type=int, default=6)
    parser.add_argument("--energy-scale", type=float, default=0.5, help="dense-energy resolution (0 = term off)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.backends.cudnn.benchmark = True
    names = ("background", *(f"class{i}" for i in range(20)))
    model = build_getam(GetamSpec(args.backbone, names, args.features, depth=2 * args.start_block), weights=None)
    mean, std = model.encoder.mean, model.encoder.std
    rng = np.random.default_rng(0)

    def make_item(index: int, item_rng: np.random.Generator) -> dict:
        label = torch.zeros(20)
        label[[index % 20, (index * 7 + 3) % 20]] = 1  # two classes per image, as a busy VOC image
        image = (torch.from_numpy(rng.random((3, args.size, args.size), np.float32)) - torch.tensor(mean)[:, None, None]) \
            / torch.tensor(std)[:, None, None]
        saliency = torch.zeros(args.size, args.size)
        saliency[args.size // 4 : 3 * args.size // 4, args.size // 4 : 3 * args.size // 4] = 1
        return {"image": image, "saliency": saliency, "crop": torch.ones(args.size, args.size), "label": label,
                "id": str(index)}

    optim = TrainGetamParams().engine.optim
    config = EngineConfig(device=str(device), epochs=1, batch_size=args.batch, num_workers=args.workers,
                          precision=args.precision, compile=args.compile, checkpoint_every=0, optim=optim)
    print(f"device: {device_name(device)}; encoder {args.backbone}, batch {args.batch}, crop {args.size}, "
          f"decoder width {args.features}, precision {args.precision}")
    for phase, cls_epochs in (("phase 1 (classification)", 1), ("phase 2 (online maps + segmentation)", 0)):
        energy = DenseEnergyParams(weight=1e-7 if args.energy_scale > 0 else 0.0, scale=args.energy_scale or 0.5)
        params = TrainGetamParams(cls_epochs=cls_epochs, dense_energy=energy)
        maps = GetamMapParams(start_block=args.start_block)
        seconds = training_seconds(model, GetamLoss(params, maps, CompletionParams()), make_item, config, args.warmup, args.steps)
        print(f"GETAM training {phase}: {args.steps * args.batch / seconds:.2f} img/s")

    model.train()
    batch = [make_item(k, rng) for k in range(args.batch)]
    images = torch.stack([b["image"] for b in batch]).to(device)
    labels = torch.stack([b["label"] for b in batch]).to(device)
    batched = per_item_seconds(lambda k: refined_getam_maps(model, images, labels, args.start_block, iterations=0),
                               args.infer_images, device)
    pairs = per_item_seconds(lambda k: per_pair_maps(model, images, labels, args.start_block), args.infer_images, device)
    refined = per_item_seconds(lambda k: refined_getam_maps(model, images, labels, args.start_block),
                               args.infer_images, device)
    synchronize(device)
    print(f"GETAM maps, one backward per class: {args.batch / batched:.2f} img/s; per (image, class) as the "
          f"reference: {args.batch / pairs:.2f} img/s; ratio {pairs / batched:.2f}x")
    print(f"GETAM maps + PAMR (dilations 1-24, 10 iterations): {args.batch / refined:.2f} img/s")


if __name__ == "__main__":
    main()
