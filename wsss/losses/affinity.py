"""AffinityNet loss: ¼ bg-positive + ¼ fg-positive + ½ negative, each normalised by its count over the
whole batch — and, under DDP, over all ranks (all-reduced), so multi-GPU equals single-GPU training."""

from __future__ import annotations

import torch
import torch.distributed as dist


def global_count(mask: torch.Tensor) -> torch.Tensor:
    count = mask.sum().detach().float()
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(count)
    return count


def affinity_loss(affinity: torch.Tensor, bg_pos: torch.Tensor, fg_pos: torch.Tensor, neg: torch.Tensor) -> dict[str, torch.Tensor]:
    """``affinity`` and the label masks are N×D×P; the masks are 0/1 floats."""
    affinity = affinity.float()
    world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
    n_bg = global_count(bg_pos) + 1e-5
    n_fg = global_count(fg_pos) + 1e-5
    n_neg = global_count(neg) + 1e-5
    # DDP averages gradients over ranks; scaling by the world size turns that average into the sum
    # that a single process normalising by the global count would compute.
    bg = -(bg_pos * torch.log(affinity + 1e-5)).sum() / n_bg * world
    fg = -(fg_pos * torch.log(affinity + 1e-5)).sum() / n_fg * world
    negative = -(neg * torch.log(1.0 + 1e-5 - affinity)).sum() / n_neg * world
    return {"loss": bg / 4 + fg / 4 + negative / 2, "bg": bg, "fg": fg, "neg": negative}


class AffinityLoss:
    """AffinityNet's training loss (:func:`affinity_loss`) on a batch of crops and their pair labels."""

    def __call__(self, model, batch: dict, epoch: int) -> dict[str, torch.Tensor]:
        return affinity_loss(model(batch["image"]), batch["bg"], batch["fg"], batch["neg"])
