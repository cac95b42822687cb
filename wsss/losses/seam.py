"""SEAM's losses, exactly as the reference training script computes them.

L = ½(MLSM₁ + MLSM₂) + ½(rvmin₁ + rvmin₂) + ER + (ECR₁ + ECR₂), with view 2 = view 1 resized by 0.3.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def max_norm(p: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Per (image, channel): ReLU, then (p − min − eps)₊ / (max − min + eps)."""
    p = F.relu(p)
    low = p.flatten(2).amin(2)[..., None, None]
    high = p.flatten(2).amax(2)[..., None, None]
    return F.relu(p - low - eps) / (high - low + eps)


def max_onehot(x: torch.Tensor) -> torch.Tensor:
    """Zero every fg channel that is not the pixel's fg maximum (values kept, background untouched)."""
    fg = x[:, 1:]
    fg = torch.where(fg < fg.amax(1, keepdim=True), torch.zeros_like(fg), fg)
    return torch.cat([x[:, :1], fg], dim=1)


def equivariance_loss(c1: torch.Tensor, c2: torch.Tensor) -> torch.Tensor:
    """ER: mean |c1 − c2| over all foreground channels and pixels (absent classes count as zeros)."""
    return (c1[:, 1:] - c2[:, 1:]).abs().mean()


def ohem_l1(target: torch.Tensor, prediction: torch.Tensor, ratio: float = 0.2) -> torch.Tensor:
    """ECR with online hard example mining: per image the top ⌊ratio·C·h·w⌋ absolute errors are
    averaged, then the batch is averaged."""
    errors = (target - prediction).abs().flatten(1)
    k = int(ratio * errors.shape[1])
    return errors.topk(k, dim=1).values.mean(dim=1).mean()


def rvmin_loss(refined_fg: torch.Tensor) -> torch.Tensor:
    """Mean of ReLU over the 25 % smallest per-pixel foreground maxima (pushes the background of the
    PCM output towards zero; changes the optimal background score, not the best mIoU)."""
    n = refined_fg.shape[0]
    peak = refined_fg.amax(1).flatten(1)
    k = peak.shape[1] // 4
    smallest = peak.topk(k, dim=1, largest=False).values
    return F.relu(smallest).sum() / (k * n)


def seam_losses(model, images: torch.Tensor, labels: torch.Tensor, scale: float = 0.3, ohem_ratio: float = 0.2) -> dict[str, torch.Tensor]:
    """All SEAM loss terms for one batch. ``labels`` is N×C multi-hot over foreground classes."""
    small = F.interpolate(images, scale_factor=scale, mode="bilinear", align_corners=True, recompute_scale_factor=False)
    cam1, rv1 = model(images)
    cam2, rv2 = model(small)
    n = images.shape[0]
    with_bg = torch.cat([torch.ones(n, 1, device=labels.device, dtype=labels.dtype), labels], 1)[..., None, None]
    score1 = F.adaptive_avg_pool2d(cam1, 1).flatten(1)[:, 1:]
    score2 = F.adaptive_avg_pool2d(cam2, 1).flatten(1)[:, 1:]
    cls = 0.5 * (F.multilabel_soft_margin_loss(score1.float(), labels) + F.multilabel_soft_margin_loss(score2.float(), labels))
    rvmin = 0.5 * (rvmin_loss((rv1 * with_bg)[:, 1:]) + rvmin_loss((rv2 * with_bg)[:, 1:]))
    size = small.shape[2:]
    c1 = F.interpolate(max_norm(cam1.float()), size, mode="bilinear", align_corners=True) * with_bg
    r1 = F.interpolate(max_norm(rv1.float()), size, mode="bilinear", align_corners=True) * with_bg
    c2 = max_norm(cam2.float()) * with_bg
    r2 = max_norm(rv2.float()) * with_bg
    er = equivariance_loss(c1, c2)
    c1 = torch.cat([1 - c1[:, 1:].amax(1, keepdim=True), c1[:, 1:]], 1)
    c2 = torch.cat([1 - c2[:, 1:].amax(1, keepdim=True), c2[:, 1:]], 1)
    ecr = ohem_l1(max_onehot(c2.detach()), r1, ohem_ratio) + ohem_l1(max_onehot(c1.detach()), r2, ohem_ratio)
    return {"loss": cls + rvmin + er + ecr, "cls": cls, "rvmin": rvmin, "er": er, "ecr": ecr}


class SeamLoss:
    """SEAM's training loss (:func:`seam_losses`) on a batch of images and their labels."""

    def __init__(self, scale: float = 0.3, ohem_ratio: float = 0.2) -> None:
        self.scale, self.ohem_ratio = scale, ohem_ratio

    def __call__(self, model, batch: dict, epoch: int) -> dict[str, torch.Tensor]:
        return seam_losses(model, batch["image"], batch["label"], self.scale, self.ohem_ratio)


class CamLoss:
    """The CAM baseline's training loss (:func:`cam_losses`)."""

    def __call__(self, model, batch: dict, epoch: int) -> dict[str, torch.Tensor]:
        return cam_losses(model, batch["image"], batch["label"])


def cam_losses(model, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """The CAM baseline: multi-label soft margin on the GAP logits."""
    cls = F.multilabel_soft_margin_loss(model(images).float(), labels)
    return {"loss": cls, "cls": cls}
