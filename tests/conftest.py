"""Shared fixtures: tiny VOC-layout folders built by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wsss import io
from wsss.palette import VOC_CLASSES

SHARED = Path(__file__).resolve().parents[2] / "shared"
VOC_SAMPLE = SHARED / "voc-sample"


def write_xml(path: Path, names: list[str]) -> None:
    objects = "".join(f"<object><name>{n}</name><difficult>0</difficult></object>" for n in names)
    io.write_text(path, f"<annotation><filename>{path.stem}.jpg</filename>{objects}</annotation>")


def make_voc(root: Path, layout: dict[str, list[int]], seg_train: list[str], seg_val: list[str], aug: list[str]) -> Path:
    """A VOC2012 folder: ``layout`` maps image id -> present class ids (1-based VOC ids).

    Every image gets a JPEG, an XML and a label PNG (in SegmentationClass when it is in the seg lists,
    in SegmentationClassAug when listed in ``aug``).
    """
    rng = np.random.default_rng(0)
    for image_id, classes in layout.items():
        io.write_jpeg(root / "JPEGImages" / f"{image_id}.jpg", rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))
        write_xml(root / "Annotations" / f"{image_id}.xml", [VOC_CLASSES[c] for c in classes])
        label = np.zeros((24, 32), np.uint8)
        for k, c in enumerate(classes):
            label[4 * k : 4 * k + 4, :8] = c
        label[-1, :] = 255
        if image_id in seg_train or image_id in seg_val:
            io.write_label_png(root / "SegmentationClass" / f"{image_id}.png", label)
        if image_id in aug:
            io.write_label_png(root / "SegmentationClassAug" / f"{image_id}.png", label)
    sets = root / "ImageSets" / "Segmentation"
    io.write_text(sets / "train.txt", "".join(f"{i}\n" for i in seg_train))
    io.write_text(sets / "val.txt", "".join(f"{i}\n" for i in seg_val))
    return root


@pytest.fixture
def tiny_voc(tmp_path: Path) -> Path:
    layout = {
        "2007_000001": [15], "2007_000002": [8, 12], "2007_000003": [1],
        "2008_000004": [7], "2008_000005": [3, 15], "2009_000006": [20], "2010_000007": [11],
    }
    seg_train = ["2007_000001", "2007_000002"]
    seg_val = ["2007_000003", "2008_000004"]
    # SBD has labels for train_aug ∪ val; one val image is in SBD too and must be excluded from train_aug.
    aug = ["2007_000001", "2007_000003", "2008_000005", "2009_000006", "2010_000007", "2008_000004"]
    return make_voc(tmp_path / "VOC2012", layout, seg_train, seg_val, aug)
