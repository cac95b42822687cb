"""The segmenter's loss on pseudo labels: pixel cross-entropy, ignoring unlabelled pixels."""

from __future__ import annotations

import torch.nn.functional as F

from wsss.palette import IGNORE_INDEX


def segmentation_loss(model, batch: dict, epoch: int = 0) -> dict:
    """Pixel cross-entropy of the upsampled logits averaged over labelled pixels; ignored pixels (255)
    do not count, and a batch whose crops are all ignored contributes zero instead of NaN (saliency
    labels ignore whole images). Called as a :class:`~wsss.losses.TrainingLoss` (``epoch`` unused)."""
    logits = model(batch["image"])
    logits = F.interpolate(logits.float(), batch["label"].shape[-2:], mode="bilinear", align_corners=False)
    total = F.cross_entropy(logits, batch["label"], ignore_index=IGNORE_INDEX, reduction="sum")
    labelled = (batch["label"] != IGNORE_INDEX).sum().clamp_min(1)
    return {"loss": total / labelled}
