"""Decode every image, mask and saliency map of a dataset index before anything trains on it.

A truncated JPEG, a text file named ``.jpg``, a mask with values outside the classes, an RGB or
wrong-size mask, or a missing / wrong-size saliency map is reported with one line naming the file.
Images are read as training and inference read them (:func:`wsss.io.read_image`), so a file that
passes here is a file the later stages can use.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from wsss import io
from wsss.data.dataset import Dataset
from wsss.errors import DataError
from wsss.progress import chunked, parallel_map

log = logging.getLogger(__name__)
BAD_IMAGES_FILE = "bad_images.txt"


def _check_one(dataset: Dataset, image_id: str) -> str | None:
    """None if the image, its mask and its saliency map are usable, else the problem in one line."""
    try:
        image = io.read_image(dataset.image_path(image_id))
        shape = image.shape[:2]
        mask = _mask_path(dataset, image_id)
        if mask is not None:
            label = io.read_label_png(mask, dataset.num_classes)
            if label.shape != shape:
                return f"{mask}: mask is {label.shape[1]}×{label.shape[0]}, its image is {shape[1]}×{shape[0]}"
        if dataset.spec.saliency_dir is not None:
            dataset.read_saliency(image_id, shape)
    except DataError as error:
        return str(error)
    return None


def _mask_path(dataset: Dataset, image_id: str) -> Path | None:
    try:
        return dataset.mask_path(image_id)
    except DataError:
        return None  # masks are optional per image (e.g. SBD-only train_aug images)


def _check_chunk(index_dir: str, ids: list[str]) -> list[tuple[str, str]]:
    dataset = Dataset(index_dir)
    return [(image_id, problem) for image_id in ids if (problem := _check_one(dataset, image_id))]


def find_bad_images(index_dir: str | Path, workers: int = 0) -> list[tuple[str, str]]:
    """(image id, problem) for every unusable image of the index, checked in parallel processes."""
    dataset = Dataset(index_dir)
    ids = sorted({i for split in dataset.splits() for i in dataset.ids(split)})
    chunks = chunked(ids, 32)
    results = parallel_map(functools.partial(_check_chunk, str(index_dir)), chunks, workers,
                           desc="check data", unit="img", count_elements=True)
    return [bad for chunk in results for bad in chunk]


def check_index(index_dir: str | Path, on_bad: str = "error", workers: int = 0) -> list[str]:
    """Refuse an index with unusable images (``on_bad: error``: one line naming the first file and how
    many others), or drop them from its labels and splits and list them in ``bad_images.txt``
    (``on_bad: skip``). Returns the ids dropped."""
    bad = find_bad_images(index_dir, workers)
    if not bad:
        return []
    if on_bad != "skip":
        more = f" (and {len(bad) - 1} more; prepare.bad_images: skip drops them and lists them)" if len(bad) > 1 else ""
        raise DataError(f"{bad[0][1]}{more}")
    _drop_images(Path(index_dir), {image_id for image_id, _ in bad})
    io.write_text(Path(index_dir) / BAD_IMAGES_FILE, "".join(f"{i}\t{problem}\n" for i, problem in bad))
    for image_id, problem in bad:
        log.warning("skipped %s: %s", image_id, problem)
    return [image_id for image_id, _ in bad]


def _drop_images(index_dir: Path, dropped: set[str]) -> None:
    import pandas as pd

    table = pd.read_csv(index_dir / "labels.csv", dtype={"image": str})
    io.write_csv(index_dir / "labels.csv", table[~table["image"].isin(dropped)].reset_index(drop=True))
    for split_file in sorted((index_dir / "splits").glob("*.txt")):
        ids = [line for line in split_file.read_text().splitlines() if line and line not in dropped]
        io.write_text(split_file, "".join(f"{i}\n" for i in ids))
