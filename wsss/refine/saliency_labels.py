"""Saliency-guided pseudo labels from localisation maps (MCIS ``gen_gt.py``, OAA's rule with MCIS's
thresholds): saliency decides background, the maps decide which class a salient pixel belongs to,
and uncertain pixels are ignored (255)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from wsss import io
from wsss.config import McisLabelsParams, SalientCamLabelsParams
from wsss.data.dataset import Dataset
from wsss.devices import shard_count
from wsss.errors import DataError
from wsss.palette import IGNORE_INDEX
from wsss.progress import chunked, parallel_imap, single_threaded_worker


def minmax(map_: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    low, high = map_.min(), map_.max()
    return (map_ - low) / (high - low + eps)


def saliency_pseudo_label(maps: np.ndarray, classes: np.ndarray, saliency: np.ndarray,
                          params: McisLabelsParams = McisLabelsParams()) -> np.ndarray:
    """H×W label ids from K×H×W maps of the 0-based ``classes`` and a saliency map in [0, 1].

    Scores: background = 1 − saliency, class c+1 = min–max normalised map; scores below
    ``fg_threshold`` are zeroed; the label is the argmax; pixels where several scores exceed
    ``conflict_threshold`` are ignored, as are background pixels that are salient (saliency, raised to
    255 wherever a map exceeds ``att_threshold``, ≥ ``bg_saliency``); an image whose labelled
    foreground covers less than ``min_foreground`` of it is ignored entirely.
    """
    if maps.shape[1:] != saliency.shape:
        raise ValueError(f"maps {maps.shape[1:]} and saliency {saliency.shape} differ in size")
    scores = np.zeros((int(classes.max(initial=-1)) + 2, *saliency.shape), np.float32)
    scores[0] = 1.0 - saliency
    salient = 255.0 * saliency.astype(np.float32)  # bg_saliency is on the 0..255 scale, as the reference
    for c, map_ in zip(classes, maps.astype(np.float32)):
        att = minmax(map_)
        scores[c + 1] = att
        salient = np.maximum(salient, 255.0 * (att > params.att_threshold))
    scores[scores < params.fg_threshold] = 0
    label = scores.argmax(0).astype(np.uint8)
    label[(scores > params.conflict_threshold).sum(0) > 1] = IGNORE_INDEX
    label[(label == 0) & (salient >= params.bg_saliency)] = IGNORE_INDEX
    foreground = ((label > 0) & (label != IGNORE_INDEX)).mean()
    if foreground < params.min_foreground:
        label[:] = IGNORE_INDEX
    return label


class MeanMaps:
    """The maps of one or several folders of the same images, read as one: from several folders each
    class's map is min–max normalised per folder, then averaged (methods whose maps err in different
    places: the CAM baseline covers people that SEAM's maps give to the animal beside them); from one
    folder, the maps as stored."""

    def __init__(self, roots: Sequence[str | Path]) -> None:
        if not roots:
            raise ValueError("no map folder to read")
        self.readers = [io.CamShardReader(root) for root in roots]

    def read(self, image_id: str) -> tuple[np.ndarray, np.ndarray]:
        classes, maps = self.readers[0].read(image_id)
        if len(self.readers) == 1:
            return classes, maps
        total = _per_class_minmax(maps)
        for reader in self.readers[1:]:
            other_classes, other = reader.read(image_id)
            if not np.array_equal(other_classes, classes) or other.shape != maps.shape:
                raise DataError(f"{reader.root}: image {image_id!r} has maps of classes {other_classes.tolist()} "
                                f"{other.shape[1:]}, {self.readers[0].root} of {classes.tolist()} {maps.shape[1:]}")
            total += _per_class_minmax(other)
        return classes, total / len(self.readers)


def _per_class_minmax(maps: np.ndarray) -> np.ndarray:
    return np.array([minmax(m) for m in maps], np.float32).reshape(maps.shape)


def _labels_chunk(ids: Sequence[str], index_dir: str, cam_dirs: Sequence[str], out_dir: str, make_label,
                  saliency_dir: str | None = None) -> int:
    single_threaded_worker()
    dataset = Dataset(index_dir, saliency_dir)
    reader = MeanMaps(cam_dirs)
    for image_id in ids:
        classes, maps = reader.read(image_id)
        saliency = dataset.read_saliency(image_id, maps.shape[1:])
        io.write_label_png(io.label_map_path(out_dir, image_id), make_label(maps, classes, saliency))
    return len(ids)


def write_saliency_labels(index_dir: str | Path, cam_dir: str | Path | Sequence[str | Path], out_dir: str | Path,
                          split: str, workers: int, make_label: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
                          saliency_dir: str | Path | None = None) -> int:
    """Label PNGs of a split from stored maps (one folder, or several read as :class:`MeanMaps`) and the
    saliency maps (``saliency_dir``, the saliency stage's folder, or else the data's own):
    ``make_label(maps, classes, saliency in [0, 1])`` (a picklable function) makes each one, in parallel
    processes."""
    cam_dirs = [str(cam_dir)] if isinstance(cam_dir, (str, Path)) else [str(d) for d in cam_dir]
    MeanMaps(cam_dirs)   # a missing folder fails here, before any process starts
    dataset = Dataset(index_dir, saliency_dir)
    if not dataset.has_saliency:
        raise DataError(f"{index_dir}: the dataset has no saliency maps (prepare.*.saliency); these labels need them")
    ids = io.sorted_by_shard(dataset.ids(split), shard_count(len(dataset.ids(split))))
    fn = functools.partial(_labels_chunk, index_dir=str(index_dir), cam_dirs=cam_dirs, out_dir=str(out_dir),
                           make_label=make_label, saliency_dir=str(saliency_dir) if saliency_dir else None)
    return sum(parallel_imap(fn, chunked(ids, 16), workers, desc="saliency labels", unit="img", count_elements=True))


def run_saliency_labels(index_dir: str | Path, cam_dir: str | Path, params: McisLabelsParams, out_dir: str | Path,
                        saliency_dir: str | Path | None = None) -> int:
    make_label = functools.partial(saliency_pseudo_label, params=params)
    return write_saliency_labels(index_dir, cam_dir, out_dir, params.split, params.workers, make_label, saliency_dir)


def salient_cam_label(maps: np.ndarray, classes: np.ndarray, saliency: np.ndarray,
                      params: SalientCamLabelsParams = SalientCamLabelsParams()) -> np.ndarray:
    """H×W label ids where saliency says *where* the objects are and the maps say *which* they are.

    A pixel with saliency ≥ ``foreground`` takes the class of the highest map among the image's
    ``classes`` (0-based), unless no map reaches ``min_map`` there (a salient thing the labels do not
    name: ignored). Saliency ≤ ``background`` is background. A map ≥ ``confident_map`` claims its pixel
    whatever saliency says (objects a salient-object model overlooks: sofas, tables, crowds). Everything
    else, between the two saliency levels, is ignored (255).
    """
    if maps.shape[1:] != saliency.shape:
        raise ValueError(f"maps {maps.shape[1:]} and saliency {saliency.shape} differ in size")
    label = np.full(saliency.shape, IGNORE_INDEX, np.uint8)
    if len(classes) == 0:
        label[saliency <= params.background] = 0
        return label
    maps = maps.astype(np.float32)
    best = maps.max(0)
    winner = (np.asarray(classes)[maps.argmax(0)] + 1).astype(np.uint8)
    label[saliency <= params.background] = 0
    salient = (saliency >= params.foreground) & (best >= params.min_map)
    label[salient] = winner[salient]
    confident = best >= params.confident_map
    label[confident] = winner[confident]
    return label


def run_salient_cam_labels(index_dir: str | Path, cam_dirs: Sequence[str | Path], params: SalientCamLabelsParams,
                           out_dir: str | Path, saliency_dir: str | Path | None = None) -> int:
    make_label = functools.partial(salient_cam_label, params=params)
    return write_saliency_labels(index_dir, cam_dirs, out_dir, params.split, params.workers, make_label, saliency_dir)
