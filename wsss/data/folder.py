"""Custom data: a folder of images, a CSV of ``image,labels`` and a class-names file.

``labels`` holds foreground class names separated by spaces or ``|`` (e.g. ``cat dog``). The classes
file lists the foreground class names, one per line; background is added as class 0. Optional: a folder
of label PNGs (for evaluation) and a folder of saliency PNGs. Splits come from a ``split`` column of the
CSV when present, otherwise every image is in ``train``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from wsss.data.dataset import DatasetSpec, apply_empty_label_policy, write_index
from wsss.errors import DataError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def read_class_names(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"{path}: class-names file not found")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not names:
        raise DataError(f"{path}: no class names")
    if len(set(names)) != len(names):
        raise DataError(f"{path}: duplicate class names")
    if names[0] == "background":
        names = names[1:]
    return ["background", *names]


def index_folder(
    image_dir: str | Path,
    labels_csv: str | Path,
    classes_file: str | Path,
    out_dir: str | Path,
    mask_dir: str | Path | None = None,
    saliency_dir: str | Path | None = None,
    empty_labels: str = "drop",
) -> dict[str, int]:
    image_dir, labels_csv = Path(image_dir).resolve(), Path(labels_csv)
    if not image_dir.is_dir():
        raise DataError(f"{image_dir}: image folder not found")
    if not labels_csv.is_file():
        raise DataError(f"{labels_csv}: labels CSV not found")
    for name, folder in (("mask", mask_dir), ("saliency", saliency_dir)):
        if folder and not Path(folder).is_dir():
            raise DataError(f"{folder}: {name} folder not found")
    class_names = read_class_names(Path(classes_file))
    table = pd.read_csv(labels_csv, dtype=str, keep_default_na=False)
    for column in ("image", "labels"):
        if column not in table.columns:
            raise DataError(f"{labels_csv}: column {column!r} missing (found {list(table.columns)})")
    ids = [Path(name).stem for name in table["image"]]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise DataError(f"{labels_csv}: duplicate image ids {dup[:5]}")
    extensions = {Path(name).suffix.lower() for name in table["image"]}
    if len(extensions) != 1 or not extensions <= set(IMAGE_EXTENSIONS):
        found = ", ".join(sorted(e or "none" for e in extensions))
        raise DataError(f"{labels_csv}: the image column must give file names with one extension of "
                        f"{', '.join(IMAGE_EXTENSIONS)} (e.g. photo1.jpg); found: {found}")
    rows = []
    for image_id, name, text in zip(ids, table["image"], table["labels"]):
        if not (image_dir / name).is_file():
            raise DataError(f"{image_dir / name}: image listed in {labels_csv} not found")
        vector = np.zeros(len(class_names) - 1, dtype=np.int64)
        for token in filter(None, re.split(r"[\s|]+", text)):
            if token not in class_names[1:]:
                raise DataError(f"{labels_csv}: image {name!r} has unknown class {token!r}")
            vector[class_names.index(token) - 1] = 1
        rows.append([image_id, *vector.tolist()])
    labels = pd.DataFrame(rows, columns=["image", *class_names[1:]])
    labels, dropped = apply_empty_label_policy(labels, empty_labels, labels_csv)
    if dropped:
        log.warning("dropped %d images with an empty label vector, e.g. %s", len(dropped), dropped[:5])
    kept = set(labels["image"])
    split_of = table["split"].tolist() if "split" in table.columns else ["train"] * len(ids)
    splits: dict[str, list[str]] = {}
    for image_id, split in zip(ids, split_of):
        if image_id in kept:
            splits.setdefault(split or "train", []).append(image_id)
    spec = DatasetSpec(
        name=image_dir.name,
        image_dir=str(image_dir),
        mask_dirs=[str(Path(mask_dir).resolve())] if mask_dir else [],
        saliency_dir=str(Path(saliency_dir).resolve()) if saliency_dir else None,
        image_ext=extensions.pop(),
    )
    write_index(out_dir, spec, class_names, labels, {k: sorted(v) for k, v in splits.items()})
    return {name: len(v) for name, v in splits.items()}
