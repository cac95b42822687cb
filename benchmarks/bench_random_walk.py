"""Random-walk throughput on VOC-sized images (500×375 → 63×47 grid at output stride 8).

Compares the sparse propagation (this project) with the reference's dense T^(2^logt) by squaring.
Affinities come from random features (the walk's cost does not depend on their values).

    python benchmarks/bench_random_walk.py --device cuda --images 256 --batch 32
"""

from __future__ import annotations

import argparse
import time

import torch

from wsss.ops.pairs import pair_affinities
from wsss.refine.random_walk import dense_transition, propagate, sparse_transition_transposed
from wsss.devices import resolve_device


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--logt", type=int, default=8)
    parser.add_argument("--classes", type=int, default=21)
    parser.add_argument("--dense", type=int, default=2, help="images for the dense reference (0 = skip)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    h, w, beta = 47, 63, 8.0
    n = h * w
    torch.manual_seed(0)
    affinities = [pair_affinities(torch.randn(1, 448, h, w, device=device) * 0.05, 5)[0] for _ in range(args.batch)]

    def walk_batch() -> torch.Tensor:
        total = n * args.batch
        transposed = None
        for k, a in enumerate(affinities):
            part = sparse_transition_transposed(a, 5, h, w, beta, k * n, total)
            transposed = part if transposed is None else transposed + part
        scores = torch.rand(total, args.classes, device=device)
        return propagate(transposed.coalesce(), scores, 2**args.logt)

    walk_batch()
    if device.type == "cuda":
        torch.cuda.synchronize()
    rounds = max(1, args.images // args.batch)
    start = time.perf_counter()
    for _ in range(rounds):
        walk_batch()
    if device.type == "cuda":
        torch.cuda.synchronize()
    sparse_rate = rounds * args.batch / (time.perf_counter() - start)
    print(f"device: {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}; grid {h}x{w}, "
          f"t = 2^{args.logt}, {args.classes} classes")
    print(f"sparse walk (batch {args.batch}): {sparse_rate:.1f} img/s")
    if args.dense:
        start = time.perf_counter()
        for k in range(args.dense):
            t = dense_transition(affinities[k % args.batch].cpu(), 5, h, w, beta).float().to(device)
            for _ in range(args.logt):
                t = t @ t
            (torch.rand(args.classes, n, device=device) @ t).sum().item()
        dense_rate = args.dense / (time.perf_counter() - start)
        print(f"dense squaring (reference scheme): {dense_rate:.2f} img/s; sparse/dense = {sparse_rate / dense_rate:.1f}x")


if __name__ == "__main__":
    main()
