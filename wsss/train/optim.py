"""SGD with psa/SEAM's parameter groups and a per-step poly schedule (or MCIS's step decay).

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
            "weight_decay": 0.0 if is_bias and not config.decay_biases else config.weight_decay,
        })
    return torch.optim.SGD(param_groups, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov)


def poly_factor(step: int, max_steps: int, power: float) -> float:
    """(1 − t/T)^power for step t counted from 0, applied before the update."""
    return (1 - step / max_steps) ** power if step < max_steps else 0.0


def step_factor(epoch: int, step_epochs: list[int], gamma: float) -> float:
    """gamma^(number of decay epochs reached): MCIS multiplies the LR by 0.1 at the start of epochs 5 and 10."""
    return gamma ** sum(epoch >= e for e in step_epochs)


def set_scheduled_lr(optimizer: torch.optim.Optimizer, config: OptimConfig, step: int, max_steps: int,
                     steps_per_epoch: int, scale: float = 1.0) -> None:
    """Every group's LR for ``step``: its initial LR × ``scale`` (a method's phase factor) × the schedule."""
    if config.schedule == "poly":
        factor = poly_factor(step, max_steps, config.poly_power)
    elif config.schedule == "step":
        factor = step_factor(step // steps_per_epoch, config.step_epochs, config.step_gamma)
    else:
        raise ValueError(f"optim.schedule {config.schedule!r} is not one of poly, step")
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] * scale * factor
