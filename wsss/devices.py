"""Where computation runs: the device a params value names."""

from __future__ import annotations

import torch

from wsss.errors import WsssError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise WsssError(f"device {name!r} requested but CUDA is not available")
    return device
