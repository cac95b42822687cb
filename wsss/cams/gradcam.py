"""GradCAM and GradCAM++ on a classifier's final feature map (SEAM's Table 2 comparison).

For the CAM baseline's GAP-then-linear head, GradCAM equals the CAM up to a positive factor (the
gradient of a logit w.r.t. the features is the class weight divided by h·w); GradCAM++ weights
positions by second- and third-order terms of the exponentiated score. Gradients come from
``torch.autograd.grad`` so no parameter ``.grad`` is touched.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _features_and_logits(model, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    features = model.backbone(x)[2]
    logits = model.fc8(F.adaptive_avg_pool2d(features, 1)).flatten(1)
    if logits.shape[1] != getattr(model, "num_foreground", logits.shape[1]):
        logits = logits[:, 1:]  # SEAM's head: drop the background slot
    return features, logits


def gradcam_maps(model, x: torch.Tensor, plusplus: bool = False) -> torch.Tensor:
    """N×C×h×w maps for every foreground class (ReLU'd, unnormalised)."""
    with torch.enable_grad():
        x = x.detach()
        features, logits = _features_and_logits(model, x)
        maps = []
        for c in range(logits.shape[1]):
            (grad,) = torch.autograd.grad(logits[:, c].sum(), features, retain_graph=True)
            if plusplus:
                # With Y = exp(S): dY/dA = exp(S)·g, and the α terms simplify to powers of g.
                g2, g3 = grad.pow(2), grad.pow(3)
                denominator = 2 * g2 + (features * g3).sum((2, 3), keepdim=True)
                alpha = g2 / torch.where(denominator != 0, denominator, torch.ones_like(denominator))
                weights = (alpha * F.relu(logits[:, c].exp()[:, None, None, None] * grad)).sum((2, 3), keepdim=True)
            else:
                weights = grad.mean((2, 3), keepdim=True)
            maps.append(F.relu((weights * features).sum(1)))
        return torch.stack(maps, 1).detach()
