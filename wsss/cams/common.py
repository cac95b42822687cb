"""What every inference stage shares: autocast precision, the class check of a checkpoint against
the dataset, and this rank's share of a split (whole shards, so ranks never write the same file)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import torch

from wsss import io
from wsss.errors import DataError


def shard_count(num_images: int, per_shard: int = 50) -> int:
    return max(1, math.ceil(num_images / per_shard))


def inference_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """bf16 autocast for ``bf16``, or ``auto`` on CUDA; None means fp32."""
    return torch.bfloat16 if precision == "bf16" or (precision == "auto" and device.type == "cuda") else None


def check_class_names(trained: Sequence[str], dataset_names: Sequence[str], checkpoint: str | Path) -> None:
    if list(trained) != list(dataset_names):
        raise DataError(f"{checkpoint}: trained for classes {list(trained)}, dataset has {list(dataset_names)}")


def world_size() -> int:
    """Processes of this run (torchrun's WORLD_SIZE; 1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank_share(ids: list[str]) -> tuple[list[str], int]:
    """(this rank's ids in shard order, shard count) under torchrun (RANK/WORLD_SIZE), all ids otherwise."""
    num_shards = shard_count(len(ids))
    rank, world = int(os.environ.get("RANK", "0")), world_size()
    mine = [i for i in io.sorted_by_shard(ids, num_shards) if io.shard_of(i, num_shards) % world == rank]
    return mine, num_shards
