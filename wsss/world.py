"""This process's place in a torchrun launch (RANK, LOCAL_RANK, WORLD_SIZE): the one module that
reads those variables. Standard library only, so light stages ask without importing torch."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class World:
    """Outside torchrun: rank 0 of 1."""

    rank: int = 0
    local_rank: int = 0
    size: int = 1


def under_torchrun() -> bool:
    """Whether torchrun started this process (it sets WORLD_SIZE for every worker)."""
    return "WORLD_SIZE" in os.environ


def launch_world() -> World:
    """Rank, local rank and process count that torchrun gave this process."""
    env = os.environ
    try:
        return World(int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0")), int(env.get("WORLD_SIZE", "1")))
    except ValueError:
        raise RuntimeError(f"torchrun variables are not integers: RANK={env.get('RANK')!r} "
                           f"LOCAL_RANK={env.get('LOCAL_RANK')!r} WORLD_SIZE={env.get('WORLD_SIZE')!r}") from None
