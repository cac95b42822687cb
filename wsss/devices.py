"""Where computation runs: the device a params value names, its autocast precision, and this
process's share of a split under torchrun (whole shards, so ranks never write the same file)."""

from __future__ import annotations

import math

import torch

from wsss import io
from wsss.errors import WsssError
from wsss.world import launch_world, under_torchrun


def resolve_device(name: str) -> torch.device:
    """The device ``name`` names; under torchrun, ``auto`` and ``cuda`` mean this process's GPU
    (cuda:LOCAL_RANK)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise WsssError(f"device {name!r} requested but CUDA is not available")
    if device.type == "cuda" and device.index is None and under_torchrun():
        device = torch.device("cuda", launch_world().local_rank)
    return device


def inference_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """bf16 autocast for ``bf16``, or ``auto`` on CUDA; None means fp32."""
    return torch.bfloat16 if precision == "bf16" or (precision == "auto" and device.type == "cuda") else None


def shard_count(num_images: int, per_shard: int = 50) -> int:
    return max(1, math.ceil(num_images / per_shard))


def rank_share(ids: list[str]) -> tuple[list[str], int]:
    """(this rank's ids in shard order, shard count) under torchrun (RANK/WORLD_SIZE), all ids otherwise."""
    num_shards = shard_count(len(ids))
    world = launch_world()
    mine = [i for i in io.sorted_by_shard(ids, num_shards) if io.shard_of(i, num_shards) % world.size == world.rank]
    return mine, num_shards
