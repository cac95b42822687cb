"""What a backbone provides to the heads: three feature taps at one output stride, its input
normalisation, frozen parts, and which parameters are pretrained."""

from __future__ import annotations

import torch
from torch import nn


class Backbone(nn.Module):
    """Subclasses set ``channels`` (mid, high, final), ``mean``/``std`` (RGB in [0, 1] units) and
    ``output_stride``, and implement ``forward(x) -> [mid, high, final]`` (all at ``output_stride``)."""

    channels: tuple[int, int, int]
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    output_stride: int = 8

    def frozen_modules(self) -> list[nn.Module]:
        """Modules whose weights never train (e.g. ResNet-38's conv1a/b2*)."""
        return []

    def freeze(self) -> None:
        """Freeze the frozen modules and every BatchNorm (affine and running statistics)."""
        for module in self.frozen_modules():
            for p in module.parameters():
                p.requires_grad_(False)
        for module in self.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                for p in module.parameters():
                    p.requires_grad_(False)

    def train(self, mode: bool = True) -> "Backbone":
        super().train(mode)
        # BatchNorm stays in inference mode: statistics come from ImageNet, batches here are small.
        for module in self.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError
