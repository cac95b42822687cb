"""Training losses, one module per method, each with one interface: a loss object called as
``loss(model, batch, epoch) -> {"loss": total, <term>: value, ...}`` (``epoch`` 0-based, for terms
that start late), which the training engine calls once per step."""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn


class TrainingLoss(Protocol):
    def __call__(self, model: nn.Module, batch: dict, epoch: int) -> dict[str, torch.Tensor]: ...
