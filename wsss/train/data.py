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


def repeat_factor_ids(ids: Sequence[str], present: np.ndarray, threshold: float) -> list[str]:
    """Repeat-factor sampling (Gupta et al., LVIS, CVPR 2019) over image-level labels: a class present in
    a fraction f of the images gets the factor max(1, √(threshold / f)), and each image appears, in a
    row, round(the largest factor of its classes) times per epoch (LVIS rounds stochastically; a fixed
    count keeps the epoch's length and the run reproducible). ``present``: images × classes booleans."""
    present = np.asarray(present, bool)
    if present.shape[0] != len(ids):
        raise ValueError(f"{present.shape[0]} label rows for {len(ids)} images")
    frequency = present.mean(0) if len(ids) else np.zeros(present.shape[1])
    factor = np.maximum(1.0, np.sqrt(threshold / np.maximum(frequency, 1e-12)))
    counts = [int(np.floor(factor[row].max(initial=1.0) + 0.5)) for row in present]
    return [image_id for image_id, count in zip(ids, counts) for _ in range(count)]


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
