"""Activation-aware label completion (GETAM §6.3, ``compute_seg_label_3``): GETAM maps and a binary
saliency map → a pseudo-label map.

1. Scores: background (1 − max_c m_c)^γ and the present classes' maps; pixels whose argmax is the
   background are uncertain (255), and every non-salient pixel is background (0).
2. Completion: for each present class (lowest index first), pixels above the ``percentile`` of its
   strictly positive activations that saliency called background become that class.
3. Noise removal: the non-background mask (ignored pixels included) is opened with an
   ``opening``×``opening`` square (OpenCV's ``morphologyEx``, whose even kernels shift the result by a
   pixel, as in the reference); what the opening removes becomes background.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

from wsss.palette import IGNORE_INDEX
from wsss.params.getam import CompletionParams, GetamLabelsParams
from wsss.refine.saliency_labels import write_saliency_labels


def activation_threshold(values: np.ndarray, percentile: float) -> float | None:
    """The value at rank ⌊percentile · n⌋ of the n sorted positive ``values``; None when that rank is
    0 (the reference mines nothing then)."""
    positive = np.sort(values[values > 0], kind="stable")
    rank = int(percentile * positive.size)
    if rank == 0:
        return None
    return float(positive[min(rank, positive.size - 1)])


def complete_labels(maps: np.ndarray, classes: np.ndarray, salient: np.ndarray, gamma: float = 32.0,
                    percentile: float = 0.9, opening: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """K×H×W normalised maps of the 0-based present ``classes`` and an H×W boolean saliency mask →
    (H×W uint8 label ids with 255 = ignore, H×W bool of the pixels that completion added)."""
    if maps.shape[1:] != salient.shape:
        raise ValueError(f"maps {maps.shape[1:]} and saliency {salient.shape} differ in size")
    if len(classes) != len(maps):
        raise ValueError(f"{len(maps)} maps for {len(classes)} classes")
    maps = maps.astype(np.float32)
    background = (1.0 - maps.max(0, initial=0.0)) ** gamma
    winner = np.concatenate([background[None], maps]).argmax(0)
    ids = np.concatenate([[0], np.asarray(classes, np.int64) + 1])
    label = ids[winner].astype(np.uint8)
    label[winner == 0] = IGNORE_INDEX
    label[~salient] = 0
    completed = np.zeros(salient.shape, bool)
    for k in np.argsort(classes, kind="stable"):
        tau = activation_threshold(maps[k], percentile)
        if tau is None:
            continue
        mined = (maps[k] > tau) & (label == 0)
        label[mined] = classes[k] + 1
        completed |= mined
    if opening > 0:
        kernel = np.ones((opening, opening), np.uint8)
        kept = cv2.morphologyEx((label != 0).astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
        label[~kept] = 0
    return label, completed


def completed_label(maps: np.ndarray, classes: np.ndarray, saliency: np.ndarray, params: CompletionParams) -> np.ndarray:
    """One pseudo-label map from stored maps and a saliency map in [0, 1]."""
    label, _ = complete_labels(maps, classes, saliency > params.saliency_threshold, params.gamma, params.percentile,
                               params.opening)
    return label


def run_getam_labels(index_dir: str | Path, cam_dir: str | Path, params: GetamLabelsParams, out_dir: str | Path,
                     saliency_dir: str | Path | None = None) -> int:
    make_label = functools.partial(completed_label, params=params.completion)
    return write_saliency_labels(index_dir, cam_dir, out_dir, params.split, params.workers, make_label, saliency_dir)
