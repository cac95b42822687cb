"""Dense-CRF throughput on all cores (one single-threaded CRF per process), 500×375 images,
SEAM's la/ha parameters (10 iterations), 3 labels (background + 2 classes).

    python benchmarks/bench_crf.py --images 32
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from wsss.progress import default_workers, parallel_map
from wsss.refine.crf import crf_with_alpha


def one(seed: int) -> float:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (375, 500, 3), dtype=np.uint8)
    maps = rng.random((2, 375, 500), dtype=np.float32)
    return float(crf_with_alpha(image, maps, 4).sum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    workers = args.workers or default_workers()
    start = time.perf_counter()
    parallel_map(one, list(range(args.images)), workers)
    elapsed = time.perf_counter() - start
    print(f"dense CRF, 500x375, 3 labels, 10 iterations, {workers} processes: {args.images / elapsed:.2f} img/s")


if __name__ == "__main__":
    main()
