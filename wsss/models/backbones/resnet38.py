"""ResNet-38 "model A1" (Wu et al.), the backbone of psa/SEAM: wide pre-activation ResNet, output
stride 8 with dilations 2 and 4, bias-free convolutions, dropout in the last two blocks.

Module names follow the original ``network/resnet38d.py`` so its checkpoints load unchanged.
Taps: conv4 = BN-ReLU input of b5 (512 ch), conv5 = BN-ReLU input of b6 (1024 ch),
conv6 = ReLU(bn7(b7)) (4096 ch).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.backbones.base import Backbone
from wsss.models.registry import BACKBONES


def _conv3x3(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False)


class ResBlock(nn.Module):
    def __init__(self, cin: int, mid: int, cout: int, stride: int = 1, first_dilation: int | None = None, dilation: int = 1):
        super().__init__()
        self.same_shape = cin == cout and stride == 1
        first_dilation = dilation if first_dilation is None else first_dilation
        self.bn_branch2a = nn.BatchNorm2d(cin)
        self.conv_branch2a = _conv3x3(cin, mid, stride, first_dilation)
        self.bn_branch2b1 = nn.BatchNorm2d(mid)
        self.conv_branch2b1 = _conv3x3(mid, cout, 1, dilation)
        if not self.same_shape:
            self.conv_branch1 = nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(output, pre-activated input): the second is the feature the heads tap."""
        activated = F.relu(self.bn_branch2a(x))
        shortcut = x if self.same_shape else self.conv_branch1(activated)
        branch = self.conv_branch2b1(F.relu(self.bn_branch2b1(self.conv_branch2a(activated))))
        return shortcut + branch, activated


class ResBlockBottleneck(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1, dilation: int = 1, dropout: float = 0.0):
        super().__init__()
        self.bn_branch2a = nn.BatchNorm2d(cin)
        self.conv_branch2a = nn.Conv2d(cin, cout // 4, 1, stride, bias=False)
        self.bn_branch2b1 = nn.BatchNorm2d(cout // 4)
        self.dropout_2b1 = nn.Dropout2d(dropout)
        self.conv_branch2b1 = _conv3x3(cout // 4, cout // 2, 1, dilation)
        self.bn_branch2b2 = nn.BatchNorm2d(cout // 2)
        self.dropout_2b2 = nn.Dropout2d(dropout)
        self.conv_branch2b2 = nn.Conv2d(cout // 2, cout, 1, bias=False)
        self.conv_branch1 = nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        activated = F.relu(self.bn_branch2a(x))
        shortcut = self.conv_branch1(activated)
        y = self.conv_branch2a(activated)
        y = self.dropout_2b1(F.relu(self.bn_branch2b1(y)))
        y = self.conv_branch2b1(y)
        y = self.dropout_2b2(F.relu(self.bn_branch2b2(y)))
        return shortcut + self.conv_branch2b2(y), activated


class ResNet38(Backbone):
    channels = (512, 1024, 4096)
    output_stride = 8

    def __init__(self) -> None:
        super().__init__()
        self.conv1a = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.b2 = ResBlock(64, 128, 128, stride=2)
        self.b2_1 = ResBlock(128, 128, 128)
        self.b2_2 = ResBlock(128, 128, 128)
        self.b3 = ResBlock(128, 256, 256, stride=2)
        self.b3_1 = ResBlock(256, 256, 256)
        self.b3_2 = ResBlock(256, 256, 256)
        self.b4 = ResBlock(256, 512, 512, stride=2)
        for k in range(1, 6):
            setattr(self, f"b4_{k}", ResBlock(512, 512, 512))
        self.b5 = ResBlock(512, 512, 1024, first_dilation=1, dilation=2)
        self.b5_1 = ResBlock(1024, 512, 1024, dilation=2)
        self.b5_2 = ResBlock(1024, 512, 1024, dilation=2)
        self.b6 = ResBlockBottleneck(1024, 2048, dilation=4, dropout=0.3)
        self.b7 = ResBlockBottleneck(2048, 4096, dilation=4, dropout=0.5)
        self.bn7 = nn.BatchNorm2d(4096)

    def frozen_modules(self) -> list[nn.Module]:
        return [self.conv1a, self.b2, self.b2_1, self.b2_2]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.conv1a(x)
        for name in ("b2", "b2_1", "b2_2", "b3", "b3_1", "b3_2", "b4", "b4_1", "b4_2", "b4_3", "b4_4", "b4_5"):
            x, _ = getattr(self, name)(x)
        x, conv4 = self.b5(x)
        x, _ = self.b5_1(x)
        x, _ = self.b5_2(x)
        x, conv5 = self.b6(x)
        x, _ = self.b7(x)
        conv6 = F.relu(self.bn7(x))
        return [conv4, conv5, conv6]


@BACKBONES.register("resnet38")
def resnet38(weights: str | None = None, output_stride: int = 8) -> ResNet38:
    if output_stride != 8:
        raise ValueError("resnet38 has output stride 8 (its dilations are fixed by the pretrained model)")
    model = ResNet38()
    if weights:
        from wsss.models.weights import load_resnet38_weights

        load_resnet38_weights(model, weights)
    return model
