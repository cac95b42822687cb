"""SGD with psa/SEAM's parameter groups and per-step poly schedule.

Faithful default: the reference ``PolyOptimizer`` passes weight decay positionally into SGD's momentum
slot, so its effective momentum is 5e-4 (≈ none). ``momentum: 0.0005`` reproduces that; ``0.9`` is
the "fixed" optimiser (a different experiment: ~10× larger effective step).
"""

from __future__ import annotations

import torch
from torch import nn

from wsss.config import OptimConfig


def build_optimizer(groups: list[list[nn.Parameter]], config: OptimConfig) -> torch.optim.SGD:
    if len(groups) != len(config.lr_mult):
        raise ValueError(f"{len(groups)} parameter groups but {len(config.lr_mult)} LR multipliers")
    param_groups = []
    for index, (params, mult) in enumerate(zip(groups, config.lr_mult)):
        if not params:
            continue
        is_bias = index % 2 == 1
        param_groups.append({
            "params": params, "lr": config.lr * mult, "initial_lr": config.lr * mult,
            "weight_decay": 0.0 if is_bias else config.weight_decay,
        })
    return torch.optim.SGD(param_groups, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov)


def poly_factor(step: int, max_steps: int, power: float) -> float:
    """(1 − t/T)^power for step t counted from 0, applied before the update."""
    return (1 - step / max_steps) ** power if step < max_steps else 0.0


def set_poly_lr(optimizer: torch.optim.Optimizer, step: int, max_steps: int, power: float) -> None:
    factor = poly_factor(step, max_steps, power)
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] * factor
