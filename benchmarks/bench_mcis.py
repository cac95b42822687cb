"""MCIS throughput: co-attention training steps (pairs + the three self-pair views, the real pair
sampler and loader) and multi-round localisation (self-pairs + 3 related images per class).

    python benchmarks/bench_mcis.py                       # paper setting (VGG-16, 256², batch 5) on CUDA if present
    python benchmarks/bench_mcis.py --device cpu --backbone efficientnet_lite0 --output-stride 16 --size 128 --steps 3

Weights are random (throughput does not depend on them). Prints pairs/s and images/s.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import device_name, engine_arguments, per_item_seconds, training_seconds

from wsss.cams.coattention import coattention_maps
from wsss.config import EngineConfig, OptimConfig
from wsss.data.transforms import square, to_tensor
from wsss.devices import resolve_device
from wsss.losses.mcis import McisLoss
from wsss.models.coattention import McisSpec, build_mcis
from wsss.params.mcis import LocaliseMcisParams


def main() -> None:
    parser = argparse.ArgumentParser()
    engine_arguments(parser, backbone="vgg16", batch=5, size=256, steps=20, warmup=3, infer_images=10)
    parser.add_argument("--width", type=int, default=512)
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.backends.cudnn.benchmark = True
    names = ("background", *(f"class{i}" for i in range(20)))
    # Small heads and LR keep random-weight training finite (the NaN guard would stop the run).
    model = build_mcis(McisSpec(args.backbone, 20, args.output_stride, args.width, names, head_std=0.01), weights=None)
    mean, std = model.backbone.mean, model.backbone.std
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (375, 500, 3), dtype=np.uint8) for _ in range(8)]

    def view(image: np.ndarray, side: int) -> torch.Tensor:
        return to_tensor(np.asarray(square(image, side)), mean, std)

    def make_item(index: int, item_rng: np.random.Generator) -> dict:
        a, b = images[index % 8], images[int(item_rng.integers(8))]
        label = torch.zeros(20)
        label[index % 20] = 1
        return {"image_a": view(a, args.size), "image_b": view(b, args.size), "image_flip": view(a, args.size).flip(-1),
                "image_small": view(a, round(0.75 * args.size)), "image_large": view(a, 2 * args.size),
                "label_a": label, "label_b": label, "id": str(index)}

    config = EngineConfig(device=str(device), epochs=1, batch_size=args.batch, num_workers=args.workers,
                          precision=args.precision, compile=args.compile, checkpoint_every=0,
                          optim=OptimConfig(lr=1e-4, momentum=0.9, nesterov=True, decay_biases=True))
    train_s = training_seconds(model, McisLoss(), make_item, config, args.warmup, args.steps)
    print(f"device: {device_name(device)}; backbone {args.backbone} OS {args.output_stride}, batch {args.batch} pairs, "
          f"size {args.size}, precision {args.precision}")
    print(f"MCIS training: {args.steps * args.batch / train_s:.2f} pairs/s (4 pairings each, incl. data loading)")

    model.eval()
    dtype = torch.bfloat16 if device.type == "cuda" and args.precision != "fp32" else None
    params = LocaliseMcisParams()
    classes = np.array([3, 14])
    related = {int(c): images[:3] for c in classes}
    seconds = per_item_seconds(
        lambda k: coattention_maps(model, images[k % 8], classes, related, params, args.size, device, dtype), args.infer_images, device)
    print(f"MCIS localisation (2 classes, 3 related each, 500x375): {1 / seconds:.2f} img/s")


if __name__ == "__main__":
    main()
