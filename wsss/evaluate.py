"""Evaluate label maps or localisation maps of a dataset split against its ground truth, in parallel."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import numpy as np

from wsss import io, metrics
from wsss.data.dataset import Dataset
from wsss.errors import DataError
from wsss.progress import chunked, parallel_map


def _label_chunk(ids: Sequence[str], index_dir: str, pred_root: str) -> np.ndarray:
    dataset = Dataset(index_dir)
    total = np.zeros((dataset.num_classes, dataset.num_classes), np.int64)
    for image_id in ids:
        gt = dataset.read_mask(image_id)
        path = io.find_label_map(pred_root, image_id)
        pred = io.read_label_png(path, dataset.num_classes)
        if pred.shape != gt.shape:
            raise DataError(f"{path}: prediction is {pred.shape}, ground truth {dataset.mask_path(image_id)} is {gt.shape}")
        total += metrics.confusion_matrix(gt, pred, dataset.num_classes)
    return total


def evaluate_label_maps(index_dir: str | Path, split: str, pred_root: str | Path, workers: int = 0) -> np.ndarray:
    """Summed C×C confusion matrix of the label PNGs in ``pred_root`` (sharded or flat) over a split."""
    ids = Dataset(index_dir).ids(split)
    if not Path(pred_root).is_dir():
        raise DataError(f"{pred_root}: label-map folder not found")
    fn = functools.partial(_label_chunk, index_dir=str(index_dir), pred_root=str(pred_root))
    parts = parallel_map(fn, chunked(ids, 32), workers, desc=f"eval {split}", unit="img", count_elements=True)
    return np.sum(parts, axis=0)


def _cam_chunk(ids: Sequence[str], index_dir: str, cam_root: str, thresholds: tuple[float, ...]) -> np.ndarray:
    dataset = Dataset(index_dir)
    reader = io.CamShardReader(cam_root)
    c = dataset.num_classes
    total = np.zeros((len(thresholds), c, c), np.int64)
    for image_id in ids:
        gt = dataset.read_mask(image_id)
        classes, maps = reader.read(image_id)
        if maps.shape[1:] != gt.shape:
            raise DataError(f"{cam_root}: maps of {image_id!r} are {maps.shape[1:]}, ground truth "
                            f"{dataset.mask_path(image_id)} is {gt.shape}")
        total += metrics.cam_threshold_confusions(gt, classes, maps, c, thresholds)
    return total


def evaluate_cams(
    index_dir: str | Path,
    split: str,
    cam_root: str | Path,
    thresholds: Sequence[float] = metrics.SEAM_THRESHOLDS,
    workers: int = 0,
) -> np.ndarray:
    """T×C×C confusion matrices of CAM predictions, one per constant background score."""
    ids = Dataset(index_dir).ids(split)
    fn = functools.partial(_cam_chunk, index_dir=str(index_dir), cam_root=str(cam_root), thresholds=tuple(thresholds))
    # Sort ids by shard so each worker opens few shard files.
    reader = io.CamShardReader(cam_root)
    ids = io.sorted_by_shard(ids, reader.num_shards)
    parts = parallel_map(fn, chunked(ids, 32), workers, desc=f"eval cams {split}", unit="img", count_elements=True)
    return np.sum(parts, axis=0)


def threshold_curve(confusions: np.ndarray, thresholds: Sequence[float], class_names: list[str]):
    """(rows for the plot CSV, metrics of the best threshold)."""
    rows, best = [], None
    for t, confusion in zip(thresholds, confusions):
        s = metrics.scores(confusion, class_names)
        rows.append({"threshold": round(float(t), 4), "miou": s["miou"], "mfp": s["mfp"], "mfn": s["mfn"]})
        if best is None or (s["miou"] or 0) > (best[1]["miou"] or 0):
            best = (float(t), s)
    return rows, best
