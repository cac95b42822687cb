"""GETAM's end-to-end loss (GETAM §6.4), in two phases.

Phase 1 (epochs < ``cls_epochs``) trains the classifier alone. Phase 2 makes pseudo labels online
from the current network's GETAM maps (PAMR-refined, completed with saliency) and adds the
segmentation losses: background and foreground cross-entropy, the saliency loss, the dense-CRF
energy (weight 1e-7) and the classification loss; the LR is multiplied by ``seg_lr_scale``.

Saliency-loss target (BCE on the background probability): ``intent`` = 1 − binary saliency (default:
background where saliency says background); ``as_written`` = the reference code's target, which after
its in-place binarisation is 1 everywhere except at completed pixels (it pushes salient objects
towards background, against the cross-entropy); ``off`` drops the term.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from wsss.cams.getam import refined_getam_maps
from wsss.errors import ConfigError
from wsss.losses.dense_energy import dense_energy_loss
from wsss.palette import IGNORE_INDEX
from wsss.params.getam import CompletionParams, GetamMapParams, TrainGetamParams
from wsss.refine.label_completion import complete_labels

SALIENCY_LOSSES = ("intent", "as_written", "off")


def segmentation_phase(epoch: int, params: TrainGetamParams) -> bool:
    """Phase 2 (online pseudo labels, segmentation losses) from epoch ``cls_epochs`` on (0-based): the
    one place the phase is decided, for the loss and for the LR."""
    return epoch >= params.cls_epochs


def lr_scale(epoch: int, params: TrainGetamParams) -> float:
    """The factor on the scheduled LR: ``seg_lr_scale`` in phase 2."""
    return params.seg_lr_scale if segmentation_phase(epoch, params) else 1.0


def completed_batch(maps: torch.Tensor, labels: torch.Tensor, saliency: torch.Tensor,
                    params: CompletionParams) -> tuple[torch.Tensor, torch.Tensor]:
    """Label completion per image of a batch → (B×H×W label ids, B×H×W completed mask) on the maps' device."""
    maps_np, labels_np = maps.float().cpu().numpy(), labels.cpu().numpy() > 0
    salient = (saliency > params.saliency_threshold).cpu().numpy()
    out, completed = [], []
    for m, present, s in zip(maps_np, labels_np, salient):
        classes = np.flatnonzero(present)
        label, added = complete_labels(m[classes], classes, s, params.gamma, params.percentile, params.opening)
        out.append(label)
        completed.append(added)
    device = maps.device
    return (torch.from_numpy(np.stack(out).astype(np.int64)).to(device),
            torch.from_numpy(np.stack(completed)).to(device))


def split_cross_entropy(logits: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """GETAM's CE(background pixels) and CE(foreground pixels), each a mean over its labelled pixels
    (zero, not NaN, when a batch has none)."""
    def mean_ce(target: torch.Tensor) -> torch.Tensor:
        total = F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX, reduction="sum")
        return total / (target != IGNORE_INDEX).sum().clamp_min(1)

    background = torch.where(label == 0, label, torch.full_like(label, IGNORE_INDEX))
    foreground = torch.where((label > 0) & (label != IGNORE_INDEX), label, torch.full_like(label, IGNORE_INDEX))
    return mean_ce(background), mean_ce(foreground)


def saliency_target(salient: torch.Tensor, completed: torch.Tensor, mode: str) -> torch.Tensor:
    """Background-probability target of the saliency loss (see the module docstring)."""
    if mode == "intent":
        return (~salient).float()
    if mode == "as_written":
        return (~completed).float()
    raise ConfigError(f"saliency_loss {mode!r} is not one of {SALIENCY_LOSSES}")


class GetamLoss:
    def __init__(self, params: TrainGetamParams, maps: GetamMapParams, completion: CompletionParams) -> None:
        """``maps``/``completion``: how online pseudo labels are made."""
        if params.saliency_loss not in SALIENCY_LOSSES:
            raise ConfigError(f"saliency_loss {params.saliency_loss!r} is not one of {SALIENCY_LOSSES}")
        self.params, self.maps, self.completion = params, maps, completion

    def __call__(self, model, batch: dict, epoch: int) -> dict:
        images, labels = batch["image"], batch["label"]
        if not segmentation_phase(epoch, self.params):
            return self.classification_phase(model, images, labels)
        net = getattr(model, "module", model)  # maps bypass DDP: they never touch parameter gradients
        m = self.maps
        maps = refined_getam_maps(net, images, labels, m.start_block, m.pamr_dilations, m.pamr_iterations, m.peak_eps)
        pseudo, completed = completed_batch(maps, labels, batch["saliency"], self.completion)
        scores, seg = model(images, output="both")
        seg = seg.float()
        if seg.shape[-2:] != pseudo.shape[-2:]:
            seg = F.interpolate(seg, pseudo.shape[-2:], mode="bilinear", align_corners=False)
        # The losses run in fp32 outside autocast: CUDA autocast refuses binary_cross_entropy, and the
        # dense energy's kernel distances need fp32.
        with torch.autocast(seg.device.type, enabled=False):
            ce_bg, ce_fg = split_cross_entropy(seg, pseudo)
            cls = F.multilabel_soft_margin_loss(scores.float(), labels)
            losses = {"cls": cls, "ce_bg": ce_bg, "ce_fg": ce_fg}
            if self.params.saliency_loss != "off":
                salient = batch["saliency"] > self.completion.saliency_threshold
                target = saliency_target(salient, completed, self.params.saliency_loss)
                losses["saliency"] = F.binary_cross_entropy(seg.softmax(1)[:, 0].clamp(1e-6, 1 - 1e-6), target)
            energy = self.params.dense_energy
            if energy.weight > 0:
                # The encoder's normalisation undone for the dense energy's colour kernel.
                mean, std = (torch.tensor(v, dtype=torch.float32, device=images.device)[:, None, None]
                             for v in (net.encoder.mean, net.encoder.std))
                rgb = (images.float() * std + mean) * 255.0
                losses["dense_energy"] = energy.weight * dense_energy_loss(
                    rgb, seg.softmax(1), pseudo, batch["crop"], energy.sigma_rgb, energy.sigma_xy, energy.scale)
        losses["loss"] = sum(losses.values())
        return losses

    @staticmethod
    def classification_phase(model, images: torch.Tensor, labels: torch.Tensor) -> dict:
        if dist.is_available() and dist.is_initialized():
            # DDP's static graph needs every parameter used in every step: the decoder joins at weight 0.
            scores, seg = model(images, output="both")
            unused = 0.0 * seg.float().mean()
        else:
            scores, unused = model(images, output="cls"), 0.0
        cls = F.multilabel_soft_margin_loss(scores.float(), labels)
        return {"loss": cls + unused, "cls": cls}
