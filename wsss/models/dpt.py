"""DPT-style dense decoder (GETAM ``DPT/DPT.py``, ``blocks.py``): reassemble four encoder taps into an
image-like pyramid at strides 4, 8, 16, 32, fuse it top-down at ``features`` channels, refine with a
squeeze-excitation block and predict full-resolution logits.

Token taps go through the "project" readout (each patch token concatenated with the class token,
Linear 2D→D + GELU), become a grid, are projected by a 1×1 conv and resampled (×4 and ×2 transposed
convs for the first two, a stride-2 3×3 conv for the last); convolutional taps of hybrids pass as they
are. GETAM's classifier reads the global average of the deepest reassembled tap.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ProjectReadout(nn.Module):
    def __init__(self, dim: int, prefix: int) -> None:
        super().__init__()
        self.prefix = prefix
        self.project = nn.Sequential(nn.Linear(2 * dim, dim), nn.GELU())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        patches = tokens[:, self.prefix:]
        readout = tokens[:, :1].expand_as(patches)
        return self.project(torch.cat([patches, readout], -1))


class Reassemble(nn.Module):
    """Tokens (B×N×D) of an h×w grid → B×channels map resampled by ``factor`` (4, 2, 1 or 0.5)."""

    def __init__(self, dim: int, prefix: int, channels: int, factor: float) -> None:
        super().__init__()
        self.readout = ProjectReadout(dim, prefix)
        layers: list[nn.Module] = [nn.Conv2d(dim, channels, 1)]
        if factor > 1:
            layers.append(nn.ConvTranspose2d(channels, channels, int(factor), stride=int(factor)))
        elif factor < 1:
            layers.append(nn.Conv2d(channels, channels, 3, stride=2, padding=1))
        self.resample = nn.Sequential(*layers)

    def forward(self, tokens: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        x = self.readout(tokens)
        x = x.transpose(1, 2).reshape(x.shape[0], x.shape[2], *grid)
        return self.resample(x)


class ResidualConvUnit(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(features)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn1(self.conv1(F.relu(x)))
        out = self.bn2(self.conv2(F.relu(out)))
        return x + out


class FusionBlock(nn.Module):
    """Add the (refined) lateral feature to the path from above, refine, upsample ×2, project."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.lateral = ResidualConvUnit(features)
        self.refine = ResidualConvUnit(features)
        self.out = nn.Conv2d(features, features, 1)

    def forward(self, path: torch.Tensor, lateral: torch.Tensor | None = None) -> torch.Tensor:
        if lateral is not None:
            if path.shape[-2:] != lateral.shape[-2:]:
                path = F.interpolate(path, lateral.shape[-2:], mode="bilinear", align_corners=True)
            path = path + self.lateral(lateral)
        path = self.refine(path)
        path = F.interpolate(path, scale_factor=2, mode="bilinear", align_corners=True)
        return self.out(path)


class SqueezeExcitationBlock(nn.Module):
    """GETAM's ``cam_module``: two 3×3 convs, channel re-weighting, residual."""

    def __init__(self, features: int, reduction: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1, bias=False), nn.BatchNorm2d(features), nn.ReLU(inplace=True),
            nn.Conv2d(features, features, 3, padding=1, bias=False), nn.BatchNorm2d(features),
        )
        hidden = max(1, features // reduction)
        self.gate = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, features),
                                  nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        y = y * self.gate(y.mean((2, 3)))[:, :, None, None]
        return F.relu(x + y)


class DptDecoder(nn.Module):
    def __init__(self, tap_channels: tuple[int, int, int, int], features: int, num_outputs: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, features, 3, padding=1, bias=False) for c in tap_channels)
        self.fusion = nn.ModuleList(FusionBlock(features) for _ in range(4))
        self.refine = SqueezeExcitationBlock(features)
        self.head = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1, bias=False), nn.BatchNorm2d(features), nn.ReLU(inplace=True),
            nn.Dropout(0.1), nn.Conv2d(features, num_outputs, 1),
        )

    def forward(self, pyramid: list[torch.Tensor]) -> torch.Tensor:
        """Maps at strides 4, 8, 16, 32 → logits at stride 1."""
        laterals = [conv(x) for conv, x in zip(self.lateral, pyramid)]
        path = self.fusion[3](laterals[3])
        for level in (2, 1, 0):
            path = self.fusion[level](path, laterals[level])
        logits = self.head(self.refine(path))
        return F.interpolate(logits, scale_factor=2, mode="bilinear", align_corners=True)
