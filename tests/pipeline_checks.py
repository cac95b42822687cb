"""Checks shared by the miniature pipeline tests of the saliency-guided methods."""

from pathlib import Path

import numpy as np

from wsss import io
from wsss.data.dataset import Dataset


def check_maps_and_labels(data: Path, cams: Path, labels: Path) -> None:
    """Every training image has maps of exactly its classes at its size in [0, 1], and a pseudo-label
    map using only background, ignore and its classes."""
    dataset = Dataset(data)
    reader = io.CamShardReader(cams)
    for image_id in dataset.ids("train"):
        classes, maps = reader.read(image_id)
        np.testing.assert_array_equal(classes, np.flatnonzero(dataset.labels(image_id)))
        assert maps.shape[1:] == dataset.read_mask(image_id).shape and 0 <= maps.min() and maps.max() <= 1
        label = io.read_label_png(io.find_label_map(labels, image_id), dataset.num_classes)
        assert set(np.unique(label)) <= {0, 255, *(classes + 1).tolist()}
