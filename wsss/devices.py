"""Where computation runs: the device a params value names."""

from __future__ import annotations

import os

import torch

from wsss.errors import WsssError


def resolve_device(name: str) -> torch.device:
    """The device ``name`` names; under torchrun, ``auto`` and ``cuda`` mean this process's GPU
    (cuda:LOCAL_RANK)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise WsssError(f"device {name!r} requested but CUDA is not available")
    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device
