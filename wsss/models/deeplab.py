"""Segmentation networks retrained on pseudo labels: DeepLab-LargeFOV (v1) and DeepLab-v2 ASPP.

Both put a new head on the final tap of a registry backbone and return logits at the feature
resolution; callers upsample (the loss to the crop, inference to the image). SEAM's retrain is
LargeFOV on ResNet-38; later papers mostly use ASPP on ResNet-101.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from wsss.models.backbones import Backbone, build_backbone
from wsss.models.heads import parameter_groups
from wsss.models.registry import SEGMENTERS, ModelKind


class DeepLabLargeFOV(nn.Module):
    """3×3 conv at dilation 12 (the large field of view) → BN/ReLU → 1×1 → BN/ReLU → dropout → classes.

    The hidden width (512) and the BatchNorm follow SEAM's released retrain code; the head's
    BatchNorm trains, the backbone's stays frozen.
    """

    def __init__(self, backbone: Backbone, num_classes: int, hidden: int = 512, dilation: int = 12,
                 dropout: float = 0.5, dilation_scale: float = 1.0) -> None:
        super().__init__()
        dilation = max(1, round(dilation * dilation_scale))
        self.backbone = backbone
        final = backbone.channels[2]
        self.head = nn.Sequential(
            nn.Conv2d(final, hidden, 3, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout),
        )
        self.classifier = nn.Conv2d(hidden, num_classes, 1)
        for module in self.head.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        nn.init.kaiming_normal_(self.classifier.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.backbone(x)[-1]))

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        return parameter_groups(self, self.backbone)


class DeepLabASPP(nn.Module):
    """DeepLab-v2: four parallel 3×3 classifiers at dilations 6/12/18/24, summed (no BatchNorm)."""

    def __init__(self, backbone: Backbone, num_classes: int, dilations: tuple[int, ...] = (6, 12, 18, 24),
                 dilation_scale: float = 1.0) -> None:
        super().__init__()
        dilations = tuple(max(1, round(d * dilation_scale)) for d in dilations)
        self.backbone = backbone
        final = backbone.channels[2]
        self.branches = nn.ModuleList(
            nn.Conv2d(final, num_classes, 3, padding=d, dilation=d, bias=True) for d in dilations
        )
        for branch in self.branches:
            nn.init.normal_(branch.weight, std=0.01)
            nn.init.zeros_(branch.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feature = self.backbone(x)[-1]
        return sum(branch(feature) for branch in self.branches)

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        return parameter_groups(self, self.backbone)


SEGMENTERS.register("largefov")(DeepLabLargeFOV)
SEGMENTERS.register("aspp")(DeepLabASPP)


@dataclass(frozen=True)
class SegmenterSpec:
    """Everything needed to rebuild a segmentation network (stored in its checkpoint)."""

    arch: str
    backbone: str
    class_names: tuple[str, ...]        # background first
    output_stride: int = 8

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def build_segmenter(spec: SegmenterSpec, weights: str | None = None) -> nn.Module:
    """The head's dilations are the papers' values at output stride 8, scaled so the field of view
    stays the same in pixels at other strides (LargeFOV 12 → 6 at stride 16)."""
    backbone = build_backbone(spec.backbone, weights, spec.output_stride)
    return SEGMENTERS.get(spec.arch)(backbone, spec.num_classes, dilation_scale=8 / spec.output_stride)


KIND = ModelKind("segmenter", SegmenterSpec, build_segmenter)
