"""AffinityNet (psa): features from three backbone taps → 64/128/256 (ELU) → concat 448 → 1×1 448
(ELU); the affinity of two pixels is exp(−mean |f_i − f_j|). The whole backbone trains (except its
frozen parts and BatchNorm); the heads learn 10× faster."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.backbones import Backbone, build_backbone
from wsss.models.heads import new_conv1x1, parameter_groups
from wsss.models.registry import ModelKind
from wsss.ops.pairs import effective_radius, pair_affinities


class AffinityNet(nn.Module):
    method = "affinity"

    def __init__(self, backbone: Backbone, radius: int = 5) -> None:
        super().__init__()
        self.backbone = backbone
        self.radius = radius
        mid, high, final = backbone.channels
        self.f8_3 = new_conv1x1(mid, 64, init="kaiming")
        self.f8_4 = new_conv1x1(high, 128, init="kaiming")
        self.f8_5 = new_conv1x1(final, 256, init="kaiming")
        self.f9 = new_conv1x1(448, 448, gain=4.0)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        mid, high, final = self.backbone(x)
        f = torch.cat([F.elu(self.f8_3(mid)), F.elu(self.f8_4(high)), F.elu(self.f8_5(final))], 1)
        return F.elu(self.f9(f))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pair affinities N×D×P over the half-disc pairs of the feature map."""
        f = self.features(x).float()
        return pair_affinities(f, effective_radius(self.radius, *f.shape[2:]))

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        return parameter_groups(self, self.backbone)


@dataclass(frozen=True)
class AffinitySpec:
    backbone: str
    output_stride: int
    radius: int


def build_affinity(spec: AffinitySpec, weights: str | None = None) -> AffinityNet:
    return AffinityNet(build_backbone(spec.backbone, weights, spec.output_stride), spec.radius)


KIND = ModelKind("affinity", AffinitySpec, build_affinity)
