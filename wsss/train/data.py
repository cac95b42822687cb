"""Deterministic, resumable batching: the order of every epoch and every augmentation are functions
of (seed, epoch, index), so a run resumed at any step sees exactly the batches it would have seen."""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset


class EpochBatches(torch.utils.data.Sampler):
    """Yields lists of (epoch, index) for one epoch, starting at a given batch, for one rank.

    The global batch is ``batch_size`` images; rank r of world w takes every w-th image of it.
    """

    def __init__(self, num_items: int, batch_size: int, seed: int, epoch: int, start_batch: int = 0,
                 rank: int = 0, world_size: int = 1) -> None:
        self.num_items, self.batch_size, self.seed = num_items, batch_size, seed
        self.epoch, self.start_batch, self.rank, self.world_size = epoch, start_batch, rank, world_size

    def batches_per_epoch(self) -> int:
        return self.num_items // self.batch_size  # drop_last, as the reference loaders do

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.num_items)
        for b in range(self.start_batch, self.batches_per_epoch()):
            batch = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield [(self.epoch, int(i)) for i in batch[self.rank :: self.world_size]]

    def __len__(self) -> int:
        return self.batches_per_epoch() - self.start_batch


class AugmentedDataset(TorchDataset):
    """Items are built by ``make(index, rng)`` with rng seeded from (seed, epoch, index)."""

    def __init__(self, size: int, make: Callable[[int, np.random.Generator], dict], seed: int) -> None:
        self.size, self.make, self.seed = size, make, seed

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: tuple[int, int]) -> dict:
        epoch, index = key
        return self.make(index, np.random.default_rng([self.seed, epoch, index]))


def collate(items: Sequence[dict]) -> dict:
    out = {}
    for key in items[0]:
        values = [item[key] for item in items]
        out[key] = torch.stack(values) if isinstance(values[0], torch.Tensor) else values
    return out
