"""Pieces shared by the classifier heads: initialisation and the 4-way parameter grouping."""

from __future__ import annotations

from torch import nn


def new_conv1x1(cin: int, cout: int, init: str = "xavier", gain: float = 1.0) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, 1, bias=False)
    if init == "xavier":
        nn.init.xavier_uniform_(conv.weight, gain=gain)
    else:
        nn.init.kaiming_normal_(conv.weight)
    return conv


def parameter_groups(model: nn.Module, backbone: nn.Module) -> list[list[nn.Parameter]]:
    """[pretrained weights, pretrained biases, new weights, new biases] over trainable parameters
    (psa/SEAM's grouping; frozen parts and BatchNorm are left out since they never update)."""
    pretrained = {id(p) for p in backbone.parameters()}
    groups: list[list[nn.Parameter]] = [[], [], [], []]
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        index = (0 if id(p) in pretrained else 2) + (1 if name.endswith("bias") else 0)
        groups[index].append(p)
    return groups
