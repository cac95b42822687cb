"""Time `wsss report` on a synthetic SEAM run of VOC size: N train and N val images of 500×375 with
ground truth, random-walk labels, CAM+dCRF labels and segmenter predictions.

Usage: python benchmarks/bench_report.py [--images 1464]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from wsss import io
from wsss.data.folder import index_folder
from wsss.report.page import build_report


def synthetic_run(root: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    classes = [f"c{k}" for k in range(20)]
    rows = []
    for split in ("train", "val"):
        for k in range(count):
            name = f"{split}{k:05d}"
            mask = np.zeros((375, 500), np.uint8)
            c = int(rng.integers(1, 21))
            y, x = rng.integers(0, 200), rng.integers(0, 300)
            mask[y : y + 150, x : x + 180] = c
            io.write_jpeg(root / "src" / "img" / f"{name}.jpg", rng.integers(0, 255, (375, 500, 3), dtype=np.uint8), 70)
            io.write_label_png(root / "src" / "masks" / f"{name}.png", mask)
            shifted = np.roll(mask, int(rng.integers(-40, 40)), axis=1)
            for folder in (("rw", "cam_dcrf") if split == "train" else ("seg_seam",)):
                io.write_label_png(io.label_map_path(root / "run" / "labels" / folder, name), shifted)
            rows.append(f"{name}.jpg,{classes[c - 1]},{split}")
    io.write_text(root / "src" / "labels.csv", "image,labels,split\n" + "\n".join(rows) + "\n")
    io.write_text(root / "src" / "classes.txt", "\n".join(classes) + "\n")
    index_folder(root / "src" / "img", root / "src" / "labels.csv", root / "src" / "classes.txt",
                 root / "run" / "data" / "prepared", mask_dir=root / "src" / "masks")
    for name in ("eval_cam_dcrf", "eval_rw", "eval_seg_seam"):
        io.write_json(root / "run" / "metrics" / f"{name}.json", {"miou": 0.5, "mfp": 0.2, "mfn": 0.3})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1464, help="images per split")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        synthetic_run(root, args.images)
        print(f"synthetic run of 2 × {args.images} images written in {time.perf_counter() - start:.0f} s")
        start = time.perf_counter()
        build_report(root / "run", root / "report", "seam")
        seconds = time.perf_counter() - start
        print(f"report: {seconds:.1f} s for {args.images} train + {args.images} val images "
              f"({2 * args.images / seconds:.0f} img/s)")


if __name__ == "__main__":
    main()
