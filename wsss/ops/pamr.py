"""Pixel-adaptive mask refinement (PAMR; Araslanov & Roth 2020, used by GETAM on its maps).

Each pixel's mask value becomes the affinity-weighted average of its 8 neighbours at every dilation
(replicate-padded borders); affinities are a softmax over those neighbours of −|ΔI| / (0.1·σ), σ the
local colour standard deviation (unbiased, over the neighbours and the centre once per dilation),
averaged over colour channels. The rule is invariant to per-channel affine colour changes, so raw,
[0, 1] or normalised images give the same result. No parameters; nothing is differentiated through it.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

DILATIONS = (1, 2, 4, 8, 12, 24)
ITERATIONS = 10
# (dy, dx) in units of the dilation, in the reference order.
OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def _shifted(x: torch.Tensor, dilations: Sequence[int]):
    """Yield the replicate-padded neighbour views of B×C×H×W ``x``, dilation by dilation, in order."""
    h, w = x.shape[-2:]
    for d in dilations:
        padded = F.pad(x, (d, d, d, d), mode="replicate")
        for dy, dx in OFFSETS:
            yield padded[..., d + dy * d : d + dy * d + h, d + dx * d : d + dx * d + w]


def neighbours(x: torch.Tensor, dilations: Sequence[int]) -> torch.Tensor:
    """B×C×H×W → B×C×(8·D)×H×W: the neighbours at every dilation."""
    return torch.stack(list(_shifted(x, dilations)), 2)


def pamr_affinity(image: torch.Tensor, dilations: Sequence[int] = DILATIONS) -> torch.Tensor:
    """B×K×H×W image → B×P×H×W neighbour weights (softmax over P = 8·D)."""
    image = image.float()
    near = neighbours(image, dilations)                                      # B×K×P×H×W
    centre = image.unsqueeze(2)
    samples = torch.cat([near, centre.expand(-1, -1, len(dilations), -1, -1)], 2)
    sigma = samples.std(2, keepdim=True)                                     # unbiased, as the reference
    logits = -(near - centre).abs() / (1e-8 + 0.1 * sigma)
    return logits.mean(1).softmax(1)


@torch.no_grad()
def pamr(image: torch.Tensor, masks: torch.Tensor, dilations: Sequence[int] = DILATIONS,
         iterations: int = ITERATIONS) -> torch.Tensor:
    """Refine B×C×h×w ``masks`` on the B×K×H×W ``image``: masks are first resized to H×W (bilinear,
    ``align_corners=True``); returns B×C×H×W."""
    h, w = image.shape[-2:]
    masks = masks.float()
    if masks.shape[-2:] != (h, w):
        masks = F.interpolate(masks, (h, w), mode="bilinear", align_corners=True)
    affinity = pamr_affinity(image, dilations).unsqueeze(1)                  # B×1×P×H×W
    for _ in range(iterations):
        # Accumulated neighbour by neighbour: memory stays at one mask volume, not P of them.
        refined = torch.zeros_like(masks)
        for index, view in enumerate(_shifted(masks, dilations)):
            refined += affinity[:, :, index] * view
        masks = refined
    return masks
