"""Timing helpers shared by the benchmark scripts (run as ``python benchmarks/bench_X.py``)."""

from __future__ import annotations

import tempfile
import time
from typing import Callable

import torch

from wsss.config import EngineConfig
from wsss.train.engine import Trainer


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def training_seconds(model, loss_fn: Callable, make_item: Callable, config: EngineConfig, warmup: int, steps: int) -> float:
    """Seconds for ``steps`` engine steps (data loading included) after ``warmup`` untimed ones.

    The end-of-run checkpoint is left out of the time (a real run writes one every
    ``checkpoint_every`` steps; for ResNet-38 with its optimiser state that is ~1 GB)."""
    device = torch.device(config.device)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(model, loss_fn, make_item, (warmup + steps) * config.batch_size, config, tmp)
        trainer.fit(resume=False, stop_after=warmup)
        trainer.save_checkpoint = lambda: None
        synchronize(device)
        start = time.perf_counter()
        trainer.fit(resume=False, stop_after=warmup + steps)
        synchronize(device)
        return time.perf_counter() - start


def per_item_seconds(fn: Callable[[int], object], count: int, device: torch.device) -> float:
    """Seconds per call of ``fn(k)`` over ``count`` calls, after one untimed warm-up call."""
    fn(0)
    synchronize(device)
    start = time.perf_counter()
    for k in range(count):
        fn(k)
    synchronize(device)
    return (time.perf_counter() - start) / count


def pipelined_seconds(prepare: Callable[[int], tuple], compute: Callable[[list], object], count: int,
                      device: torch.device, per_batch: int = 1) -> float:
    """Seconds per item when ``prepare(k) -> (image, ...)`` runs in the inference stages' prefetch
    threads while ``compute(items)`` runs here on runs of up to ``per_batch`` same-size items (as the
    stages do), after one untimed warm-up batch."""
    from wsss.cams.multiscale import same_size_runs
    from wsss.progress import prefetched

    compute([prepare(k) for k in range(per_batch)])
    synchronize(device)
    start = time.perf_counter()
    for run in same_size_runs(prefetched(prepare, range(count)), lambda item: item[0].shape[:2], per_batch):
        compute(run)
    synchronize(device)
    return (time.perf_counter() - start) / count


def engine_arguments(parser, *, backbone: str, batch: int, size: int, steps: int, warmup: int,
                     infer_images: int) -> None:
    """The options every training + inference benchmark takes (defaults = the paper's setting)."""
    parser.add_argument("--device", default="auto")
    parser.add_argument("--backbone", default=backbone)
    parser.add_argument("--output-stride", type=int, default=8)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--size", type=int, default=size)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--infer-images", type=int, default=infer_images)
