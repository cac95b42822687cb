"""What a backbone provides to the heads: three feature taps at one output stride, its input
normalisation, frozen parts, and which parameters are pretrained."""

from __future__ import annotations

import pickle

import torch
from torch import nn

from wsss.errors import CheckpointError


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


def read_weight_file(path: str, network: str) -> dict[str, torch.Tensor]:
    """A state dict read with ``weights_only`` (never unpickles objects); a missing, truncated or
    foreign file is one ``CheckpointError`` naming it."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own message advises weights_only=False, which this project never does.
        raise CheckpointError(f"{path}: cannot read {network} weights (not a torch file of tensors only)") from None
    except (OSError, RuntimeError, EOFError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"{path}: cannot read {network} weights ({first_line})") from error
