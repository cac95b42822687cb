import pytest
import torch
from torch import nn

from wsss.config import OptimConfig
from wsss.train.optim import build_optimizer, poly_factor, set_scheduled_lr, step_factor


def test_faithful_defaults_and_groups():
    weights, bias = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2))
    new_w, new_b = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2))
    opt = build_optimizer([[weights], [bias], [new_w], [new_b]], OptimConfig())
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.01, 0.02, 0.1, 0.2])
    assert [g["weight_decay"] for g in opt.param_groups] == [5e-4, 0.0, 5e-4, 0.0]
    # The reference PolyOptimizer's effective momentum (weight decay passed into the momentum slot).
    assert all(g["momentum"] == 5e-4 for g in opt.param_groups)


def test_empty_groups_are_skipped_and_momentum_selectable():
    p = nn.Parameter(torch.zeros(1))
    opt = build_optimizer([[p], [], [], []], OptimConfig(momentum=0.9))
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["momentum"] == 0.9


def test_poly_factor():
    assert poly_factor(0, 100, 0.9) == 1.0
    assert poly_factor(50, 100, 0.9) == pytest.approx(0.5**0.9)
    assert poly_factor(100, 100, 0.9) == 0.0


def test_step_decay_matches_mcis():
    assert [step_factor(e, [5, 10], 0.1) for e in (0, 4, 5, 9, 10, 14)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    model = torch.nn.Linear(2, 2)
    config = OptimConfig(lr=1e-3, schedule="step", step_epochs=[1, 2], momentum=0.9, nesterov=True)
    optimizer = build_optimizer([[model.weight], [model.bias], [], []], config)
    set_scheduled_lr(optimizer, config, step=25, max_steps=100, steps_per_epoch=10)  # epoch 2
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([1e-5, 2e-5])
    with pytest.raises(ValueError, match="schedule"):
        set_scheduled_lr(optimizer, OptimConfig(schedule="cosine"), 0, 10, 1)
