"""Where computation runs: the device a params value names, and CPU threads that fit the machine."""

from __future__ import annotations

import logging
import os

import torch

from wsss.errors import WsssError

log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise WsssError(f"device {name!r} requested but CUDA is not available")
    return device


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def configure_cpu_threads(busy_processes: int = 0) -> int:
    """Give torch one thread per core left over by ``busy_processes`` (e.g. data-loader workers that
    decode and augment at the same time); an explicit OMP_NUM_THREADS wins. On a 2-core machine,
    two torch threads competing with two loader workers made a Lite0 forward ~4× slower than one."""
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    threads = max(1, available_cores() - busy_processes)
    torch.set_num_threads(threads)
    return threads
