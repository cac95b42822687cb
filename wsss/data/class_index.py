"""Image ids of a split grouped by foreground class (MCIS draws partners that share a class)."""

from __future__ import annotations

import numpy as np

from wsss.data.dataset import Dataset
from wsss.errors import DataError


class ClassIndex:
    """Image ids of a split grouped by foreground class, to draw partners that share a class."""

    def __init__(self, dataset: Dataset, ids: list[str]) -> None:
        self.ids = ids
        self.labels = np.stack([dataset.labels(i) for i in ids]) if ids else np.zeros((0, dataset.num_classes - 1))
        self.members = [np.flatnonzero(self.labels[:, c]) for c in range(self.labels.shape[1])]

    def partner(self, index: int, rng: np.random.Generator) -> int:
        """A uniformly random image containing a uniformly chosen class of image ``index`` (maybe itself)."""
        classes = np.flatnonzero(self.labels[index])
        if len(classes) == 0:
            raise DataError(f"image {self.ids[index]!r} has no foreground label; MCIS cannot pair it")
        members = self.members[int(rng.choice(classes))]
        return int(members[rng.integers(len(members))])

    def related(self, cls: int, count: int, rng: np.random.Generator) -> list[int]:
        members = self.members[cls]
        return [int(m) for m in members[rng.integers(len(members), size=count)]]
