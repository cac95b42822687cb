"""The internal dataset format that every stage reads.

A dataset index is a folder:

- ``dataset.json``: name, image folder, mask folders (searched in order), optional saliency folder,
  image extension. Relative paths are relative to the index folder.
- ``classes.txt``: one class name per line, background first.
- ``labels.csv``: ``image`` column plus one 0/1 column per foreground class (multi-hot labels).
- ``splits/<split>.txt``: image ids, one per line.

VOC, custom folders and the demo all produce this format, so later stages have one code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from wsss import io
from wsss.errors import DataError

EMPTY_LABEL_POLICIES = ("drop", "error", "keep")


@dataclass(frozen=True)
class DatasetSpec:
    """What ``dataset.json`` records."""

    name: str
    image_dir: str
    mask_dirs: list[str] = field(default_factory=list)
    saliency_dir: str | None = None
    image_ext: str = ".jpg"


def write_index(
    out_dir: str | Path,
    spec: DatasetSpec,
    class_names: list[str],
    labels: pd.DataFrame,
    splits: dict[str, list[str]],
) -> None:
    """Write an index folder. ``labels`` has an ``image`` column and one column per fg class."""
    out_dir = Path(out_dir)
    expected = ["image", *class_names[1:]]
    if list(labels.columns) != expected:
        raise ValueError(f"labels columns {list(labels.columns)} != {expected}")
    duplicated = labels["image"][labels["image"].duplicated()]
    if len(duplicated):
        raise DataError(f"{out_dir}: duplicate image ids in labels: {sorted(set(duplicated))[:5]}")
    known = set(labels["image"])
    for split, ids in splits.items():
        missing = [i for i in ids if i not in known]
        if missing:
            raise DataError(f"split {split!r}: {len(missing)} images have no labels, e.g. {missing[:3]}")
        if len(set(ids)) != len(ids):
            raise DataError(f"split {split!r}: duplicate image ids")
    io.write_json(out_dir / "dataset.json", dict(spec.__dict__))
    io.write_text(out_dir / "classes.txt", "\n".join(class_names) + "\n")
    io.write_csv(out_dir / "labels.csv", labels.sort_values("image").reset_index(drop=True))
    for split, ids in splits.items():
        io.write_text(out_dir / "splits" / f"{split}.txt", "".join(f"{i}\n" for i in ids))


def apply_empty_label_policy(labels: pd.DataFrame, policy: str, source: object) -> tuple[pd.DataFrame, list[str]]:
    """Images whose label vector is all zero cannot teach a classifier which object is where.

    ``drop`` (default) removes them and returns their ids; ``error`` raises naming them; ``keep``
    keeps them (they act as pure-background examples).
    """
    if policy not in EMPTY_LABEL_POLICIES:
        raise DataError(f"empty-label policy {policy!r} is not one of {EMPTY_LABEL_POLICIES}")
    empty = labels.iloc[:, 1:].sum(axis=1) == 0
    empty_ids = labels.loc[empty, "image"].tolist()
    if not empty_ids or policy == "keep":
        return labels, []
    if policy == "error":
        raise DataError(f"{source}: {len(empty_ids)} images have no foreground label, e.g. {empty_ids[:5]}")
    return labels.loc[~empty].reset_index(drop=True), empty_ids


class Dataset:
    """Read access to an index folder; validates what it reads and names the file on any error.

    ``saliency_dir``: read saliency maps from this folder (the ``saliency`` stage's sharded output)
    instead of the folder the data came with.
    """

    def __init__(self, index_dir: str | Path, saliency_dir: str | Path | None = None) -> None:
        self.root = Path(index_dir)
        self.saliency_override = Path(saliency_dir) if saliency_dir else None
        spec_path = self.root / "dataset.json"
        if not spec_path.is_file():
            raise DataError(f"{self.root}: not a dataset index (dataset.json missing; run the prepare stage)")
        self.spec = DatasetSpec(**io.read_json(spec_path))
        self.class_names = [line for line in (self.root / "classes.txt").read_text().splitlines() if line]
        table = pd.read_csv(self.root / "labels.csv", dtype={"image": str})
        self._labels = {
            row[0]: np.asarray(row[1:], dtype=np.float32) for row in table.itertuples(index=False)
        }

    def fingerprint(self) -> str:
        """12 hex digits identifying the data: classes, labels, splits and the source files' digests
        (not the folder paths, so a moved clone keeps its fingerprint). Metrics record it, and the
        report refuses to show metrics of other data beside this data's images."""
        import hashlib

        digest = hashlib.sha256()
        files = [self.root / "classes.txt", self.root / "labels.csv", self.root / "source.json",
                 *sorted((self.root / "splits").glob("*.txt"))]
        for path in files:
            if path.is_file():
                digest.update(path.relative_to(self.root).as_posix().encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:12]

    @property
    def num_classes(self) -> int:
        """Classes including background."""
        return len(self.class_names)

    def _resolve(self, folder: str) -> Path:
        path = Path(folder)
        return path if path.is_absolute() else self.root / path

    def splits(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "splits").glob("*.txt"))

    def ids(self, split: str) -> list[str]:
        path = self.root / "splits" / f"{split}.txt"
        if not path.is_file():
            raise DataError(f"{path}: split {split!r} not found; available: {self.splits()}")
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]

    def labels(self, image_id: str) -> np.ndarray:
        """The multi-hot foreground label vector (length C−1, float32)."""
        try:
            return self._labels[image_id]
        except KeyError:
            raise DataError(f"{self.root / 'labels.csv'}: no labels for image {image_id!r}") from None

    def image_path(self, image_id: str) -> Path:
        return self._resolve(self.spec.image_dir) / f"{image_id}{self.spec.image_ext}"

    def read_image(self, image_id: str) -> np.ndarray:
        return io.read_image(self.image_path(image_id))

    def mask_path(self, image_id: str) -> Path:
        for folder in self.spec.mask_dirs:
            path = self._resolve(folder) / f"{image_id}.png"
            if path.is_file():
                return path
        raise DataError(
            f"no ground-truth mask for image {image_id!r} in {[str(self._resolve(f)) for f in self.spec.mask_dirs]}"
        )

    def read_mask(self, image_id: str) -> np.ndarray:
        return io.read_label_png(self.mask_path(image_id), self.num_classes)

    @property
    def has_saliency(self) -> bool:
        return self.saliency_override is not None or self.spec.saliency_dir is not None

    def saliency_path(self, image_id: str) -> Path:
        if self.saliency_override is not None:
            return io.label_map_path(self.saliency_override, image_id)
        if self.spec.saliency_dir is None:
            raise DataError(f"{self.root}: dataset has no saliency folder")
        return self._resolve(self.spec.saliency_dir) / f"{image_id}.png"

    def read_saliency(self, image_id: str, shape: tuple[int, int] | None = None) -> np.ndarray:
        """Saliency in [0, 1] as float32 H×W; a map of the wrong size raises DataError."""
        path = self.saliency_path(image_id)
        saliency = io.read_grey_png(path)
        if shape is not None and saliency.shape != tuple(shape):
            raise DataError(f"{path}: saliency map is {saliency.shape}, image is {tuple(shape)}")
        return saliency.astype(np.float32) / 255.0
