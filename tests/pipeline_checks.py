"""Data, checks and the DVC runner shared by the miniature end-to-end pipeline tests."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from wsss import io
from wsss.config import PrepareParams, from_dict
from wsss.data.dataset import Dataset
from wsss.data.prepare import prepare_dataset


def dvc(workdir, *args) -> str:
    """``dvc <args>`` in ``workdir``; its stdout, or a failed assertion showing its output."""
    # Stage commands say `python`: the interpreter running the tests must be the one found first.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, DVC_NO_ANALYTICS="1", PYTHONPATH=str(workdir), PATH=path)
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=workdir, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


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


def tiny_demo(data: Path) -> Path:
    """A demo dataset small enough for miniature end-to-end runs: 8 train and 2 val images of 64–96 px."""
    prepare_dataset(from_dict(PrepareParams, {"demo": {"num_train": 8, "num_val": 2, "min_size": 64, "max_size": 96}}),
                    data)
    return data
