import pytest
import torch
from torch import nn

from wsss.config import OptimConfig
from wsss.train.optim import build_optimizer, poly_factor


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
