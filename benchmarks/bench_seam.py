"""SEAM throughput: training steps (siamese, batch 8, 448², real augmentation pipeline and loader)
and 4-scale × flip CAM inference on 500×375 images.

    python benchmarks/bench_seam.py                       # paper setting (ResNet-38) on CUDA if present
    python benchmarks/bench_seam.py --device cpu --backbone efficientnet_lite0 --size 160 --steps 5

Weights are random (throughput does not depend on them). Prints img/s for both phases.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import (
    device_name,
    engine_arguments,
    per_item_seconds,
    pipelined_seconds,
    training_seconds,
)

from wsss.cams.multiscale import batched_multiscale_cams, cam_views, multiscale_cams
from wsss.config import EngineConfig
from wsss.data.transforms import classification_augment
from wsss.devices import resolve_device
from wsss.losses.seam import SeamLoss
from wsss.models.classifier import ClassifierSpec, build_classifier
from wsss.params.seam import TrainClsParams


def main() -> None:
    parser = argparse.ArgumentParser()
    engine_arguments(parser, backbone="resnet38", batch=8, size=448, steps=30, warmup=5, infer_images=20)
    parser.add_argument("--scales", default="0.5,1.0,1.5,2.0")
    parser.add_argument("--infer-batch", type=int, default=4, help="same-size images per inference batch")
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.backends.cudnn.benchmark = True
    spec = ClassifierSpec("seam", args.backbone, 20, args.output_stride)
    model = build_classifier(spec, weights=None)
    params = TrainClsParams(crop=args.size, resize_long=[args.size, int(args.size * 1.7)])
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (375, 500, 3), dtype=np.uint8) for _ in range(16)]

    def make_item(index: int, item_rng: np.random.Generator) -> dict:
        x = classification_augment(images[index % len(images)], item_rng, resize_range=tuple(params.resize_long),
                                   crop=args.size, jitter=(0.3, 0.3, 0.3, 0.1), mean=model.backbone.mean,
                                   std=model.backbone.std)
        label = torch.zeros(20)
        label[index % 20] = 1
        return {"image": x, "label": label, "id": str(index)}

    config = EngineConfig(device=str(device), epochs=1, batch_size=args.batch, num_workers=args.workers,
                          precision=args.precision, compile=args.compile, checkpoint_every=0)
    train_s = training_seconds(model, SeamLoss(), make_item, config,
                               args.warmup, args.steps)
    print(f"device: {device_name(device)}; "
          f"backbone {args.backbone}, batch {args.batch}, crop {args.size}, precision {args.precision}, "
          f"compile {args.compile}")
    print(f"SEAM training: {args.steps * args.batch / train_s:.1f} img/s (incl. data loading)")

    if not args.infer_images:
        return
    # The inference stages leave cuDNN's autotuner off (image sizes vary); so does this measurement.
    torch.backends.cudnn.benchmark = False
    model.eval()
    scales = tuple(float(s) for s in args.scales.split(","))
    dtype = torch.bfloat16 if device.type == "cuda" and args.precision != "fp32" else None
    labels = np.zeros(20)
    labels[[3, 14]] = 1
    serial = per_item_seconds(
        lambda k: multiscale_cams(model, images[k % len(images)], labels, scales, True, "minmax", device, dtype),
        args.infer_images, device)
    rates = {}
    for per_batch in sorted({1, args.infer_batch}):
        piped = pipelined_seconds(
            lambda k: (images[k % len(images)], cam_views(images[k % len(images)], scales, device)),
            lambda items: batched_multiscale_cams(model, [image for image, _ in items], [labels] * len(items),
                                                  [views for _, views in items], True, "minmax", device, dtype),
            args.infer_images, device, per_batch)
        rates[per_batch] = f"{1 / piped:.2f} img/s in batches of {per_batch}"
    print(f"CAM inference ({len(scales)} scales x flip, 500x375), views prepared in prefetch threads (as "
          f"infer_cam runs): {'; '.join(rates.values())}; {1 / serial:.2f} img/s serially one by one")


if __name__ == "__main__":
    main()
