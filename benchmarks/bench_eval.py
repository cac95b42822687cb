"""Time evaluation at VOC scale: 1,464 images of 500×375, label PNGs and 60-threshold CAM sweeps.

Usage: python benchmarks/bench_eval.py [--images 1464] [--workers 0]
Prints images/s for label-map evaluation and for the CAM background-threshold sweep.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from wsss import io
from wsss.data.dataset import DatasetSpec, write_index
from wsss.palette import VOC_CLASSES
from wsss.evaluate import evaluate_cams, evaluate_label_maps
from wsss.progress import default_workers


def build(root: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    ids = [f"img{k:05d}" for k in range(count)]
    rows = []
    with io.CamShardWriter(root / "cams", num_shards=max(1, count // 100)) as cams:
        for image_id in ids:
            classes = np.sort(rng.choice(20, size=2, replace=False))
            gt = np.zeros((375, 500), np.uint8)
            gt[50:200, 60:300] = classes[0] + 1
            gt[220:330, 250:480] = classes[1] + 1
            gt[48:52] = 255
            io.write_label_png(root / "gt" / f"{image_id}.png", gt)
            pred = np.roll(gt, 7, axis=1)
            pred[pred == 255] = 0
            io.write_label_png(io.label_map_path(root / "pred", image_id), pred)
            maps = rng.random((2, 375, 500), dtype=np.float32)
            cams.write(image_id, classes, maps)
            vector = np.zeros(20, int)
            vector[classes] = 1
            rows.append([image_id, *vector])
    spec = DatasetSpec(name="bench", image_dir="img", mask_dirs=["gt"])
    write_index(root, spec, list(VOC_CLASSES), pd.DataFrame(rows, columns=["image", *VOC_CLASSES[1:]]), {"train": ids})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1464)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    workers = args.workers or default_workers()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root, args.images)
        start = time.perf_counter()
        evaluate_label_maps(root, "train", root / "pred", workers)
        labels_s = time.perf_counter() - start
        start = time.perf_counter()
        evaluate_cams(root, "train", root / "cams", workers=workers)
        cams_s = time.perf_counter() - start
    print(f"images: {args.images} of 500x375, workers: {workers}")
    print(f"label-map evaluation: {labels_s:.2f} s, {args.images / labels_s:.1f} img/s")
    print(f"CAM 60-threshold sweep: {cams_s:.2f} s, {args.images / cams_s:.1f} img/s")


if __name__ == "__main__":
    main()
