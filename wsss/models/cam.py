"""The CAM baseline (psa's classification network): backbone → dropout → GAP → 1×1 classifier.

Localisation maps are ReLU(fc8 applied to every position) without dropout (``forward_cam``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.backbones import Backbone
from wsss.models.heads import new_conv1x1, parameter_groups


class CamNet(nn.Module):
    method = "cam"

    def __init__(self, backbone: Backbone, num_foreground: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.backbone = backbone
        self.num_foreground = num_foreground
        self.dropout7 = nn.Dropout2d(dropout)
        self.fc8 = new_conv1x1(backbone.channels[2], num_foreground)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Image-level logits N×C (GAP before the linear classifier, equivalent to CAM-then-GAP)."""
        features = self.dropout7(self.backbone(x)[2])
        return self.fc8(F.adaptive_avg_pool2d(features, 1)).flatten(1)

    def image_logits(self, x: torch.Tensor) -> torch.Tensor:
        """N×C image-level class logits, as training scores them."""
        return self.forward(x)

    def localisation_maps(self, x: torch.Tensor) -> torch.Tensor:
        """N×C×h×w class activation maps at the backbone's output stride."""
        return F.relu(self.fc8(self.backbone(x)[2]))

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        return parameter_groups(self, self.backbone)
