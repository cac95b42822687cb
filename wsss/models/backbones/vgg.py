"""VGG-16 as MCIS uses it: pool4 becomes a 3×3 stride-1 max-pool, conv5 is dilated by 2, no pool5,
so the output stride is 8. Layer indices match torchvision's ``features.*``, so ImageNet weights
load from a local torchvision file (``vgg16-397923af.pth``)."""

from __future__ import annotations

import math

import torch
from torch import nn

from wsss.errors import CheckpointError
from wsss.models.backbones.base import Backbone
from wsss.models.checkpoint import load_plain
from wsss.models.registry import BACKBONES

# (out channels | "M" = 2×2 max-pool | "N" = 3×3 stride-1 max-pool), MCIS's cfg "D1".
LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "N", 512, 512, 512]
TAPS = {16: "mid", 22: "high", 29: "final"}  # after pool3, after conv4_3's ReLU, after conv5_3's ReLU


class VGG16(Backbone):
    channels = (256, 512, 512)

    def __init__(self, output_stride: int = 8) -> None:
        super().__init__()
        if output_stride != 8:
            raise ValueError(f"the MCIS VGG-16 has output stride 8 only, got {output_stride}")
        self.output_stride = 8
        layers: list[nn.Module] = []
        cin, pools = 3, 0
        for entry in LAYOUT:
            if entry == "M":
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=False))
                pools += 1
            elif entry == "N":
                layers.append(nn.MaxPool2d(3, 1, padding=1))
                pools += 1
            else:
                dilation = 2 if pools == 4 else 1
                conv = nn.Conv2d(cin, entry, 3, padding=dilation, dilation=dilation)
                nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / (9 * entry)))
                nn.init.zeros_(conv.bias)
                layers += [conv, nn.ReLU(inplace=True)]
                cin = entry
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in TAPS:
                taps.append(x)
        return taps


@BACKBONES.register("vgg16")
def vgg16(weights: str | None = None, output_stride: int = 8) -> VGG16:
    model = VGG16(output_stride)
    if weights:
        state = load_plain(weights, "VGG-16 weights")
        features = {k: v for k, v in state.items() if k.startswith("features.")}
        missing, unexpected = model.load_state_dict(features, strict=False)
        if missing or unexpected or not features:
            raise CheckpointError(f"{weights}: not a torchvision VGG-16 state dict (missing {missing[:3]})")
    return model
