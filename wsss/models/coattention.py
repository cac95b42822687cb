"""MCIS co-attention classifier (Sun et al., ECCV 2020), as its released code computes it.

Per image: backbone → three 3×3 convs (ReLU) → features F; a 1×1 classifier on F gives the
single-image CAM and (GAP) logits. For a pair (a, b) with F_a (C×N_a), F_b (C×N_b):
S = F_aᵀ W F_b; A = softmax over a's positions, B = softmax of Sᵀ over b's positions;
Z_b = F_a A and Z_a = F_b B are each image's features as seen from the other. A shared 1×1
"co-attention" classifier maps Z to co-attention maps (classified on the common labels) and
F ⊙ (1 − σ(gate(Z))) to contrastive maps (classified on the exclusive labels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from wsss.models.backbones import Backbone, build_backbone
from wsss.models.heads import parameter_groups
from wsss.models.registry import ModelKind


def _init_conv(conv: nn.Conv2d) -> nn.Conv2d:
    k = conv.kernel_size[0] * conv.kernel_size[1]
    nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / (k * conv.out_channels)))
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)
    return conv


SELF_VIEWS = ("flip", "small", "large")


def gap(maps: torch.Tensor) -> torch.Tensor:
    return maps.mean((2, 3))


class CoAttentionNet(nn.Module):
    method = "mcis"

    def __init__(self, backbone: Backbone, num_foreground: int, width: int = 512, head_std: float = 0.0) -> None:
        super().__init__()
        self.backbone = backbone
        self.num_foreground = num_foreground
        final = backbone.channels[2]
        self.extra_convs = nn.Sequential(
            _init_conv(nn.Conv2d(final, width, 3, padding=1)), nn.ReLU(inplace=True),
            _init_conv(nn.Conv2d(width, width, 3, padding=1)), nn.ReLU(inplace=True),
            _init_conv(nn.Conv2d(width, width, 3, padding=1)), nn.ReLU(inplace=True),
        )
        self.extra_last_conv = _init_conv(nn.Conv2d(width, num_foreground, 1))
        self.extra_linear_e = nn.Linear(width, width, bias=False)  # W of the bilinear affinity
        self.extra_gate = _init_conv(nn.Conv2d(width, num_foreground, 1, bias=False))
        self.extra_gate_merge = _init_conv(nn.Conv2d(width, 1, 1, bias=False))
        if head_std > 0:  # smaller 1×1 heads than MCIS's He init (whose logits start in the tens)
            for conv in (self.extra_last_conv, self.extra_gate, self.extra_gate_merge):
                nn.init.normal_(conv.weight, 0.0, head_std)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.extra_convs(self.backbone(x)[-1])

    def forward(self, x: torch.Tensor | dict) -> torch.Tensor | dict[str, torch.Tensor]:
        """Single-image class logits (GAP of the CAM) for a tensor; for a training batch of views
        (``image_a``, ``image_b``, ``image_flip``, ``image_small``, ``image_large``) every logit the
        MCIS loss needs. Both go through ``__call__`` so DDP sees one forward per step."""
        if isinstance(x, dict):
            return self.pair_logits(x)
        return gap(self.extra_last_conv(self.features(x)))

    def pair_logits(self, views: dict) -> dict[str, torch.Tensor]:
        """Features of each view are computed once and shared by every pair using them (the
        reference recomputes a's features per pair: same values and gradients)."""
        f_a, f_b = self.features(views["image_a"]), self.features(views["image_b"])
        pair = self.pair(f_a, f_b)
        out = {"s_a": gap(self.cam(f_a)), "s_b": gap(self.cam(f_b)),
               "co_a": gap(pair["co_map_a"]), "co_b": gap(pair["co_map_b"]),
               "comp_a": gap(pair["comp_map_a"]), "comp_b": gap(pair["comp_map_b"])}
        for view in SELF_VIEWS:
            f_v = self.features(views[f"image_{view}"])
            self_pair = self.pair(f_a, f_v)
            out[f"s_{view}"] = gap(self.cam(f_v))
            out[f"co_a_{view}"], out[f"co_{view}"] = gap(self_pair["co_map_a"]), gap(self_pair["co_map_b"])
        return out

    def cam(self, features: torch.Tensor) -> torch.Tensor:
        return self.extra_last_conv(features)

    def coattend(self, fa: torch.Tensor, fb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(Z_a, Z_b): b's features gathered at a's positions and a's features at b's positions."""
        n, c, ha, wa = fa.shape
        hb, wb = fb.shape[2:]
        flat_a, flat_b = fa.flatten(2), fb.flatten(2)
        affinity = torch.bmm(self.extra_linear_e(flat_a.transpose(1, 2)), flat_b)  # N × N_a × N_b
        to_b = affinity.softmax(dim=1)                   # column j (in b): distribution over a
        to_a = affinity.transpose(1, 2).softmax(dim=1)   # column i (in a): distribution over b
        z_b = torch.bmm(flat_a, to_b).view(n, c, hb, wb)
        z_a = torch.bmm(flat_b, to_a).view(n, c, ha, wa)
        return z_a, z_b

    def pair(self, fa: torch.Tensor, fb: torch.Tensor) -> dict[str, torch.Tensor]:
        """Co-attention and contrastive maps of both images of a pair (features from :meth:`features`)."""
        z_a, z_b = self.coattend(fa, fb)
        out = {}
        for side, f, z in (("a", fa, z_a), ("b", fb, z_b)):
            gate = torch.sigmoid(self.extra_gate_merge(z))
            out[f"co_map_{side}"] = self.extra_gate(z)
            out[f"comp_map_{side}"] = self.extra_gate(f * (1 - gate))
        return out

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        return parameter_groups(self, self.backbone)


@dataclass(frozen=True)
class McisSpec:
    backbone: str
    num_foreground: int
    output_stride: int
    width: int
    class_names: tuple[str, ...]
    head_std: float = 0.0


def build_mcis(spec: McisSpec, weights: str | None = None) -> CoAttentionNet:
    backbone = build_backbone(spec.backbone, weights, spec.output_stride)
    return CoAttentionNet(backbone, spec.num_foreground, spec.width, spec.head_std)


KIND = ModelKind("mcis", McisSpec, build_mcis)
