"""MCIS's training loss: multi-label soft margin on single-image, co-attention and contrastive logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.coattention import SELF_VIEWS


def common_labels(y_a: torch.Tensor, y_b: torch.Tensor) -> torch.Tensor:
    """l_a ∩ l_b of multi-hot label vectors."""
    return y_a * y_b


def exclusive_labels(y_a: torch.Tensor, y_b: torch.Tensor) -> torch.Tensor:
    """l_a minus l_b: the classes of a that b does not have."""
    return y_a - y_a * y_b


def mlsm(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.multilabel_soft_margin_loss(logits.float(), labels.float())


def mcis_losses(model: nn.Module, batch: dict, epoch: int, contrastive_from_epoch: int = 2) -> dict[str, torch.Tensor]:
    """MCIS's loss for a batch of pairs (a, b) and the self-pairs of a with its flipped, 0.75× and 2× views:
    MLSM of the single-image logits, of the co-attention logits on the common labels (on a's labels for
    self-pairs) and, from ``contrastive_from_epoch`` on, of the contrastive logits on the exclusive labels."""
    y_a, y_b = batch["label_a"], batch["label_b"]
    common = common_labels(y_a, y_b)
    out = model(batch)
    single = mlsm(torch.cat([out["s_a"], out["s_b"]]), torch.cat([y_a, y_b]))
    coattention = mlsm(torch.cat([out["co_a"], out["co_b"]]), torch.cat([common, common]))
    both_a = torch.cat([y_a, y_a])
    for view in SELF_VIEWS:
        single = single + mlsm(torch.cat([out["s_a"], out[f"s_{view}"]]), both_a)
        coattention = coattention + mlsm(torch.cat([out[f"co_a_{view}"], out[f"co_{view}"]]), both_a)
    # A zero-weighted term keeps the gate in the graph when the contrastive loss is off (DDP's
    # static graph needs the same parameters used at every step).
    contrastive = 0.0 * (out["comp_a"].float().sum() + out["comp_b"].float().sum())
    if epoch >= contrastive_from_epoch:
        for side, exclusive in (("a", exclusive_labels(y_a, y_b)), ("b", exclusive_labels(y_b, y_a))):
            if bool((exclusive > 0).any()):  # tested over the whole batch, as the reference does
                contrastive = contrastive + mlsm(out[f"comp_{side}"], exclusive)
    loss = single + coattention + contrastive
    return {"loss": loss, "single": single.detach(), "coattention": coattention.detach(),
            "contrastive": contrastive.detach()}


class McisLoss:
    """MCIS's training loss (:func:`mcis_losses`) on a batch of pairs."""

    def __init__(self, contrastive_from_epoch: int = 2) -> None:
        self.contrastive_from_epoch = contrastive_from_epoch

    def __call__(self, model, batch: dict, epoch: int) -> dict[str, torch.Tensor]:
        return mcis_losses(model, batch, epoch, self.contrastive_from_epoch)
