"""torchvision ResNet-50/101, dilated to output stride 8 or 16; weights from a local file only."""

from __future__ import annotations

import torch
import torchvision
from torch import nn

from wsss.errors import CheckpointError
from wsss.models.backbones.base import Backbone
from wsss.models.checkpoint import load_plain
from wsss.models.registry import BACKBONES


class TorchvisionResNet(Backbone):
    channels = (512, 1024, 2048)

    def __init__(self, depth: int, output_stride: int = 8) -> None:
        super().__init__()
        dilate = {8: [False, True, True], 16: [False, False, True], 32: [False, False, False]}[output_stride]
        self.output_stride = output_stride
        net = getattr(torchvision.models, f"resnet{depth}")(weights=None, replace_stride_with_dilation=dilate)
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4

    def frozen_modules(self) -> list[nn.Module]:
        return [self.stem, self.layer1]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.layer1(self.stem(x))
        mid = self.layer2(x)
        high = self.layer3(mid)
        return [mid, high, self.layer4(high)]


def _load(model: TorchvisionResNet, weights: str) -> None:
    state = load_plain(weights, "torchvision ResNet weights")
    renamed = {}
    for key, value in state.items():
        head = key.split(".")[0]
        if head in ("conv1", "bn1"):
            renamed[f"stem.{0 if head == 'conv1' else 1}.{key.split('.', 1)[1]}"] = value
        elif head != "fc":
            renamed[key] = value
    missing, unexpected = model.load_state_dict(renamed, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"{weights}: not a torchvision ResNet state dict (missing {missing[:3]}, unexpected {unexpected[:3]})")


@BACKBONES.register("resnet50")
def resnet50(weights: str | None = None, output_stride: int = 8) -> TorchvisionResNet:
    model = TorchvisionResNet(50, output_stride)
    if weights:
        _load(model, weights)
    return model


@BACKBONES.register("resnet101")
def resnet101(weights: str | None = None, output_stride: int = 8) -> TorchvisionResNet:
    model = TorchvisionResNet(101, output_stride)
    if weights:
        _load(model, weights)
    return model
