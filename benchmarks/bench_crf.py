"""Dense-CRF throughput on 500×375 images, SEAM's la/ha parameters (10 iterations), 3 labels
(background + 2 classes). pydensecrf and the torch backend on a CPU run one single-threaded CRF
per process on every core; the torch backend on CUDA runs in this process, one image after another.

    python benchmarks/bench_crf.py --images 32
    python benchmarks/bench_crf.py --backend torch --device cuda --images 200
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np

from wsss.progress import default_workers, parallel_map, single_threaded_worker
from wsss.refine.crf import crf_placement, crf_with_alpha


def one(seed: int, backend: str, device: str) -> float:
    single_threaded_worker()
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (375, 500, 3), dtype=np.uint8)
    maps = rng.random((2, 375, 500), dtype=np.float32)
    return float(crf_with_alpha(image, maps, 4, backend=backend, device=device).sum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--backend", default="pydensecrf", help="pydensecrf | torch")
    parser.add_argument("--device", default="cpu", help="torch backend: cpu | cuda | auto")
    args = parser.parse_args()
    device, workers = crf_placement(args.backend, args.device, args.workers or default_workers())
    fn = functools.partial(one, backend=args.backend, device=device)
    fn(0)  # warm-up (CUDA context, kernels)
    start = time.perf_counter()
    parallel_map(fn, list(range(args.images)), workers)
    elapsed = time.perf_counter() - start
    print(f"dense CRF ({args.backend} on {device}), 500x375, 3 labels, 10 iterations, {workers} processes: "
          f"{args.images / elapsed:.2f} img/s")


if __name__ == "__main__":
    main()
