"""Saliency models on real photos: how well each map separates objects from background (foreground
and background IoU against the ground truth's object/background split, boundary pixels ignored) and
how fast it runs.

    python benchmarks/bench_saliency.py --voc ../shared/voc-sample                  # u2netp, geodesic
    python benchmarks/bench_saliency.py --voc ../shared/voc-sample --models u2net --weights u2net=/path/u2net.onnx
    python benchmarks/bench_saliency.py --voc ../shared/voc-sample --device cuda --batch 32
    python benchmarks/bench_saliency.py --synthetic 512 --device cuda --batch 32   # speed only, no photos
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from wsss import io
from wsss.data.saliency import geodesic_saliency
from wsss.palette import IGNORE_INDEX
from wsss.progress import chunked


def split_ious(saliency: list[np.ndarray], masks: list[np.ndarray], threshold: float) -> tuple[float, float]:
    """(foreground IoU, background IoU) of ``saliency ≥ threshold`` against mask > 0, pooled over photos."""
    inter = np.zeros(2)
    union = np.zeros(2)
    for grey, mask in zip(saliency, masks):
        valid = mask != IGNORE_INDEX
        pred, truth = grey >= round(255 * threshold), mask > 0
        for k, (p, t) in enumerate(((pred, truth), (~pred, ~truth))):
            inter[k] += (p & t & valid).sum()
            union[k] += ((p | t) & valid).sum()
    return tuple(inter / np.maximum(union, 1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voc", help="a VOC-layout folder with JPEGImages and SegmentationClass")
    parser.add_argument("--synthetic", type=int, default=0,
                        help="instead of --voc: this many random 500×375 images, for img/s only (no IoU)")
    parser.add_argument("--models", nargs="+", default=["u2netp", "geodesic"])
    parser.add_argument("--weights", nargs="*", default=[], help="model=path.onnx (default: packaged)")
    parser.add_argument("--images", type=int, default=0, help="0 = every photo with a mask")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    if bool(args.voc) == bool(args.synthetic):
        parser.error("give --voc FOLDER or --synthetic N")
    if args.synthetic:
        rng = np.random.default_rng(0)
        photos = [rng.integers(0, 256, (375, 500, 3), dtype=np.uint8) for _ in range(args.synthetic)]
        masks = []
    else:
        root = Path(args.voc)
        ids = sorted(p.stem for p in (root / "SegmentationClass").glob("*.png"))[: args.images or None]
        photos = [io.read_image(root / "JPEGImages" / f"{i}.jpg") for i in ids]
        masks = [io.read_label_png(root / "SegmentationClass" / f"{i}.png") for i in ids]
    weights = dict(w.split("=", 1) for w in args.weights)
    print(f"{len(photos)} {'random images' if args.synthetic else 'photos'}, torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    print(f"{'model':10} {'fg IoU@.5':>9} {'bg IoU@.5':>9} {'fg IoU@.3':>9} {'bg IoU@.3':>9} {'img/s':>7}")
    for model in args.models:
        start = time.perf_counter()
        if model == "geodesic":
            maps = [geodesic_saliency(p) for p in photos]
        else:
            from wsss.saliency.u2net import U2NetSaliency
            runner = U2NetSaliency(model, weights.get(model, "packaged"), device=args.device)
            runner(photos[:1])                                  # warm-up
            start = time.perf_counter()
            maps = [m for batch in chunked(photos, args.batch) for m in runner(batch)]
        rate = len(photos) / (time.perf_counter() - start)
        if not masks:
            print(f"{model:10} {'':>9} {'':>9} {'':>9} {'':>9} {rate:7.2f}", flush=True)
            continue
        fg5, bg5 = split_ious(maps, masks, 0.5)
        fg3, bg3 = split_ious(maps, masks, 0.3)
        print(f"{model:10} {fg5:9.3f} {bg5:9.3f} {fg3:9.3f} {bg3:9.3f} {rate:7.2f}", flush=True)


if __name__ == "__main__":
    main()
