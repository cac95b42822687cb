"""Build the standard PASCAL VOC 2012 lists and image-level labels from a user's folders.

Lists: ``train`` (1,464) and ``val`` (1,449) from ``ImageSets/Segmentation``; ``train_aug`` (10,582) =
(SBD train ∪ SBD val ∪ VOC train) − VOC val. SBD membership comes from SBD's ``train.txt``/``val.txt``
when given, otherwise from the PNGs present in ``SegmentationClassAug`` (which holds train_aug ∪ val).
Labels come from the XML annotations (every object, difficult ones included, as the reference code does)
or from the label PNGs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pandas as pd

from wsss import io
from wsss.data.dataset import DatasetSpec, apply_empty_label_policy, write_index
from wsss.palette import VOC_CLASSES
from wsss.errors import DataError

log = logging.getLogger(__name__)

LABEL_SOURCES = ("auto", "xml", "masks")


def read_id_list(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"{path}: list file not found")
    ids = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    if len(set(ids)) != len(ids):
        raise DataError(f"{path}: duplicate image ids")
    return ids


def holdout_part(image_id: str, fraction: float) -> bool:
    """Whether ``image_id`` is held out: a hash of the id alone decides, so the split is stable when
    images are added or removed and does not depend on their order."""
    digest = hashlib.sha256(image_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def voc_splits(voc_root: Path, sbd_dir: Path | None = None, holdout: float = 0.0) -> dict[str, list[str]]:
    """The train / val / train_aug lists (sorted ids).

    A root without ``val.txt`` (e.g. a sample of VOC train) gets a val split of the ``holdout`` fraction
    of its train ids, removed from train.
    """
    if not voc_root.is_dir():
        raise DataError(f"{voc_root}: VOC2012 folder not found")
    sets = voc_root / "ImageSets" / "Segmentation"
    train = read_id_list(sets / "train.txt")
    splits = {"train": train}
    val: list[str] = []
    if (sets / "val.txt").is_file():
        val = read_id_list(sets / "val.txt")
        splits["val"] = val
    elif holdout > 0:
        if not 0 < holdout < 1:
            raise DataError(f"holdout {holdout} must lie in (0, 1)")
        val = [i for i in train if holdout_part(i, holdout)]
        splits = {"train": [i for i in train if not holdout_part(i, holdout)], "val": val}
    aug_dir = voc_root / "SegmentationClassAug"
    if sbd_dir is not None:
        sbd = set(read_id_list(sbd_dir / "train.txt")) | set(read_id_list(sbd_dir / "val.txt"))
    elif aug_dir.is_dir():
        sbd = {p.stem for p in aug_dir.glob("*.png")}
    else:
        sbd = None
    if sbd is not None:
        splits["train_aug"] = sorted((sbd | set(train)) - set(val))
    return splits


def labels_from_xml(path: Path, class_names: list[str]) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"{path}: annotation XML not found")
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise DataError(f"{path}: cannot parse annotation XML ({error})") from error
    vector = np.zeros(len(class_names) - 1, dtype=np.int64)
    for obj in root.findall("object"):
        name = (obj.findtext("name") or "").strip()
        if name not in class_names[1:]:
            raise DataError(f"{path}: unknown object class {name!r}")
        vector[class_names.index(name) - 1] = 1
    return vector


def labels_from_mask(path: Path, num_classes: int) -> np.ndarray:
    mask = io.read_label_png(path, num_classes)
    present = np.unique(mask)
    present = present[(present > 0) & (present < num_classes)]
    vector = np.zeros(num_classes - 1, dtype=np.int64)
    vector[present - 1] = 1
    return vector


def index_voc(
    voc_root: str | Path,
    out_dir: str | Path,
    sbd_dir: str | Path | None = None,
    labels_from: str = "auto",
    empty_labels: str = "drop",
    class_names: list[str] | None = None,
    saliency_dir: str | Path | None = None,
    relative_to: str | Path | None = None,
    holdout: float = 0.0,
) -> dict[str, int]:
    """Write a dataset index for a VOC-layout folder; returns the size of each split.

    With ``relative_to`` (the index folder, when the images live inside it) paths are stored relative,
    so the index hashes the same in every clone.
    """
    voc_root = Path(voc_root).resolve()
    class_names = list(class_names or VOC_CLASSES)
    if labels_from not in LABEL_SOURCES:
        raise DataError(f"labels_from {labels_from!r} is not one of {LABEL_SOURCES}")
    images = voc_root / "JPEGImages"
    if not images.is_dir():
        raise DataError(f"{images}: image folder not found")
    splits = voc_splits(voc_root, Path(sbd_dir) if sbd_dir else None, holdout)
    mask_dirs = [d for d in (voc_root / "SegmentationClass", voc_root / "SegmentationClassAug") if d.is_dir()]
    annotations = voc_root / "Annotations"
    source = labels_from if labels_from != "auto" else ("xml" if annotations.is_dir() else "masks")

    def mask_for(image_id: str) -> Path:
        for folder in mask_dirs:
            if (folder / f"{image_id}.png").is_file():
                return folder / f"{image_id}.png"
        raise DataError(f"no label PNG for image {image_id!r} in {[str(d) for d in mask_dirs]}")

    where = annotations if source == "xml" else ", ".join(str(d) for d in mask_dirs)
    log.info("image-level labels from the %s in %s", "XML annotations" if source == "xml" else "label PNGs", where)
    all_ids = sorted(set().union(*splits.values()))
    rows = []
    for image_id in all_ids:
        if source == "xml":
            vector = labels_from_xml(annotations / f"{image_id}.xml", class_names)
        else:
            vector = labels_from_mask(mask_for(image_id), len(class_names))
        rows.append([image_id, *vector.tolist()])
    labels = pd.DataFrame(rows, columns=["image", *class_names[1:]])
    labels, dropped = apply_empty_label_policy(labels, empty_labels, voc_root)
    if dropped:
        log.warning("dropped %d images with an empty label vector, e.g. %s", len(dropped), dropped[:5])
        splits = {name: [i for i in ids if i not in set(dropped)] for name, ids in splits.items()}
    def stored(path: Path) -> str:
        return os.path.relpath(path, Path(relative_to).resolve()) if relative_to else str(path)

    spec = DatasetSpec(
        name=voc_root.name,
        image_dir=stored(images),
        mask_dirs=[stored(d) for d in mask_dirs],
        saliency_dir=stored(Path(saliency_dir).resolve()) if saliency_dir else None,
    )
    write_index(out_dir, spec, class_names, labels, splits)
    return {name: len(ids) for name, ids in splits.items()}
