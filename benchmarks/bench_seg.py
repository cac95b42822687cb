"""DeepLab retraining throughput (batch 10, crop 321, the real augmentation pipeline and loader) and
multi-scale × flip inference (SEAM's six scales) on 500×375 images.

    python benchmarks/bench_seg.py                        # paper setting (LargeFOV on ResNet-38) on CUDA if present
    python benchmarks/bench_seg.py --arch aspp --backbone resnet101
    python benchmarks/bench_seg.py --device cpu --backbone efficientnet_lite0 --output-stride 16 --steps 5

Weights are random (throughput does not depend on them). Prints img/s for both phases.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from wsss.config import EngineConfig, OptimConfig
from wsss.data.transforms import segmentation_augment
from wsss.models.deeplab import SegmenterSpec, build_segmenter
from wsss.segment import multiscale_probs, segmentation_views
from wsss.devices import resolve_device
from wsss.losses.segmentation import segmentation_loss
from timing import device_name, engine_arguments, per_item_seconds, pipelined_seconds, training_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="largefov")
    engine_arguments(parser, backbone="resnet38", batch=10, size=321, steps=30, warmup=5, infer_images=20)
    parser.add_argument("--scales", default="0.5,0.75,1.0,1.25,1.5,1.75")
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.backends.cudnn.benchmark = True
    names = ("background", *(f"class{i}" for i in range(20)))
    model = build_segmenter(SegmenterSpec(args.arch, args.backbone, names, args.output_stride), weights=None)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (375, 500, 3), dtype=np.uint8) for _ in range(16)]
    labels = [rng.integers(0, 21, (375, 500), dtype=np.uint8) for _ in range(16)]

    def make_item(index: int, item_rng: np.random.Generator) -> dict:
        x, y = segmentation_augment(images[index % 16], labels[index % 16], item_rng, scale_range=(0.5, 2.0),
                                    crop=args.size, jitter=(0.3, 0.3, 0.3, 0.1), mean=model.backbone.mean,
                                    std=model.backbone.std)
        return {"image": x, "label": y, "id": str(index)}

    # Random weights diverge at any LR (NaN stops the run): the update is computed but moves nothing.
    config = EngineConfig(device=str(device), epochs=1, batch_size=args.batch, num_workers=args.workers,
                          precision=args.precision, compile=args.compile, checkpoint_every=0,
                          optim=OptimConfig(lr=0.0))
    train_s = training_seconds(model, segmentation_loss, make_item, config, args.warmup, args.steps)
    print(f"device: {device_name(device)}; "
          f"{args.arch}/{args.backbone} OS {args.output_stride}, batch {args.batch}, crop {args.size}, "
          f"precision {args.precision}, compile {args.compile}")
    print(f"segmentation training: {args.steps * args.batch / train_s:.1f} img/s (incl. data loading)")

    if not args.infer_images:
        return
    # The inference stages leave cuDNN's autotuner off (image sizes vary); so does this measurement.
    torch.backends.cudnn.benchmark = False
    model.eval()
    scales = tuple(float(s) for s in args.scales.split(","))
    dtype = torch.bfloat16 if device.type == "cuda" and args.precision != "fp32" else None
    serial = per_item_seconds(lambda k: multiscale_probs(model, images[k % 16], scales, True, "probs", device, dtype),
                              args.infer_images, device)
    piped = pipelined_seconds(
        lambda k: (images[k % 16], segmentation_views(images[k % 16], scales, (), device)),
        lambda items: multiscale_probs(model, items[0][0], scales, True, "probs", device, dtype, views=items[0][1]),
        args.infer_images, device)
    print(f"{len(scales)}-scale x flip inference (500x375): {1 / piped:.2f} img/s with views prepared in prefetch "
          f"threads (as infer_seg runs), {1 / serial:.2f} img/s serially")


if __name__ == "__main__":
    main()
