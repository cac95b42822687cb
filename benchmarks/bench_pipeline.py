"""The whole SEAM pipeline, stage by stage, at the paper's settings: images/s per stage and the wall
time that extrapolates to PASCAL VOC (10,582 train_aug + 1,464 train + 1,449 val, the paper's epochs).

    python benchmarks/bench_pipeline.py                     # ResNet-38 (random weights), CUDA if present
    python benchmarks/bench_pipeline.py --device cpu --backbone efficientnet_lite0 --images 8 \\
        --crop 160 --seg-crop 160 --scales 1.0 --seg-scales 1.0        # a smoke run on a CPU

Each stage runs through the library function its DVC stage calls, first on a small warm-up dataset
(untimed: cuDNN autotuning, allocator growth), then timed on ``--images`` synthetic photos of about
VOC's size (the demo generator at 375–500 px a side). Training stages are timed per image seen
(one epoch over the images), so the VOC figure is images × epochs / throughput.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import torch
from timing import device_name, synchronize

from wsss.cams.infer import infer_cams
from wsss.config import InferSegParams, PrepareParams, TrainSegParams, from_dict
from wsss.data.prepare import prepare_dataset
from wsss.devices import resolve_device
from wsss.params.seam import (
    CrfStageParams,
    InferCamParams,
    RandomWalkParams,
    TrainAffParams,
    TrainClsParams,
)
from wsss.refine.crf_labels import run_crf
from wsss.refine.walk_labels import run_random_walk
from wsss.segment import infer_segmentation
from wsss.train.affinity import train_affinity
from wsss.train.classifier import train_classifier
from wsss.train.segmentation import train_segmenter

VOC_TRAIN_AUG, VOC_TRAIN, VOC_VAL = 10_582, 1_464, 1_449


def engine(args, batch: int) -> dict:
    return {"device": args.device, "epochs": 1, "batch_size": batch, "num_workers": args.workers,
            "checkpoint_every": 0, "log_every": 1000, "precision": args.precision}


def stages(args) -> list[tuple[str, int, callable]]:
    """(name, VOC images × epochs, run(data, root)) in pipeline order; each run reads what the ones
    before it wrote under ``root``."""
    optim = {"lr": 0.01, "momentum": 0.0005}
    net = {"backbone": args.backbone, "output_stride": 8, "weights": ""}
    cls = from_dict(TrainClsParams, {"method": "seam", **net, "crop": args.crop,
                                     "resize_long": [args.crop, int(args.crop * 768 / 448)],
                                     "engine": {**engine(args, 8), "optim": optim}})
    cam = InferCamParams(scales=args.scales, flip=True, device=args.device)
    crf = CrfStageParams(low_alpha=4.0, high_alpha=24.0, cam_background=0.3, backend=args.crf_backend,
                         device=args.device)
    aff = from_dict(TrainAffParams, {**net, "crop": args.crop, "engine": {**engine(args, 8), "optim": optim}})
    walk = RandomWalkParams(alpha=6.0, beta=8.0, logt=6, device=args.device)
    seg = from_dict(TrainSegParams, {**net, "crop": args.seg_crop, "labels": "rw", "engine": engine(args, 10)})
    test = InferSegParams(split="train", scales=args.seg_scales, flip=True, device=args.device)
    return [
        ("train SEAM (8 epochs of train_aug)", 8 * VOC_TRAIN_AUG,
         lambda d, r: train_classifier(d, cls, r / "cls.pt", r / "work_cls")),
        (f"CAMs, scales {args.scales} + flip (train_aug)", VOC_TRAIN_AUG,
         lambda d, r: infer_cams(d, r / "cls.pt", cam, r / "cams")),
        (f"dense CRF, low + high alpha + dCRF ({args.crf_backend})", VOC_TRAIN_AUG,
         lambda d, r: run_crf(d, r / "cams", crf, 0.3, r / "la", r / "ha", r / "dcrf")),
        ("train AffinityNet (8 epochs of train_aug)", 8 * VOC_TRAIN_AUG,
         lambda d, r: train_affinity(d, r / "la", r / "ha", aff, r / "aff.pt", r / "work_aff")),
        ("random walk (train_aug)", VOC_TRAIN_AUG,
         lambda d, r: run_random_walk(d, r / "cams", r / "aff.pt", walk, r / "rw")),
        (f"train DeepLab-LargeFOV ({args.seg_epochs} epochs of train_aug)", args.seg_epochs * VOC_TRAIN_AUG,
         lambda d, r: train_segmenter(d, r / "rw", seg, r / "seg.pt", r / "work_seg")),
        (f"segment, scales {args.seg_scales} + flip (val)", VOC_VAL,
         lambda d, r: infer_segmentation(d, r / "seg.pt", test, r / "seg")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--backbone", default="resnet38")
    parser.add_argument("--images", type=int, default=96, help="timed synthetic photos per stage")
    parser.add_argument("--warmup-images", type=int, default=16)
    parser.add_argument("--crop", type=int, default=448)
    parser.add_argument("--seg-crop", type=int, default=321)
    parser.add_argument("--seg-epochs", type=int, default=19, help="DeepLab epochs over train_aug (SEAM's retrain)")
    parser.add_argument("--scales", type=lambda s: [float(v) for v in s.split(",")], default=[0.5, 1.0, 1.5, 2.0])
    parser.add_argument("--seg-scales", type=lambda s: [float(v) for v in s.split(",")],
                        default=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75])
    parser.add_argument("--crf-backend", default="auto", help="pydensecrf | torch | auto (torch on CUDA)")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)   # random weights: "did not learn" is expected
    device = resolve_device(args.device)
    args.device = str(device)
    if args.crf_backend == "auto":
        args.crf_backend = "torch" if device.type == "cuda" else "pydensecrf"
    torch.backends.cudnn.benchmark = True
    print(f"device {device_name(device)}, backbone {args.backbone}, {args.images} timed images per stage")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, count in (("warm", args.warmup_images), ("timed", args.images)):
            demo = {"seed": 1 if name == "warm" else 2, "num_train": count, "num_val": 1, "min_size": 375,
                    "max_size": 500}
            prepare_dataset(from_dict(PrepareParams, {"demo": demo}), tmp / name / "data")
        rows, total = [], 0.0
        for title, voc_images, run in stages(args):
            run(tmp / "warm" / "data", tmp / "warm")
            synchronize(device)
            start = time.perf_counter()
            run(tmp / "timed" / "data", tmp / "timed")
            synchronize(device)
            rate = args.images / (time.perf_counter() - start)
            hours = voc_images / rate / 3600
            total += hours
            rows.append((title, rate, hours))
            print(f"  {title}: {rate:.1f} img/s", flush=True)
    print("\n| stage | img/s | VOC wall time |")
    print("|---|---|---|")
    for title, rate, hours in rows:
        print(f"| {title} | {rate:.1f} | {hours * 60:.1f} min |")
    print(f"| **whole pipeline** | | **{total:.2f} h** |")


if __name__ == "__main__":
    main()
