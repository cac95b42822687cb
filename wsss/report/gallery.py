"""Image galleries: which images to show (a seeded sample and the worst by IoU) and their tiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from wsss import io, metrics
from wsss.palette import IGNORE_INDEX
from wsss.viz import overlay

THUMB_HEIGHT = 150


def image_miou(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> float:
    """Mean IoU over the classes present in the ground truth or the prediction of one image."""
    return confusion_miou(metrics.confusion_matrix(gt, pred, num_classes))


def confusion_miou(confusion: np.ndarray) -> float:
    iou = metrics.per_class(confusion)["iou"]
    return float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")


def select(ids: list[str], scores: dict[str, float], sample: int, worst: int, seed: int) -> tuple[list[str], list[str]]:
    """(a seeded sample of ``ids``, the ``worst`` lowest-scoring other images, lowest first).

    The sample depends only on the ids and the seed, so two runs (or revisions) show the same images."""
    ordered = sorted(ids)
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(ordered), size=min(sample, len(ordered)), replace=False).tolist())
    sampled = [ordered[i] for i in chosen]
    rest = [i for i in ordered if i not in set(sampled) and np.isfinite(scores.get(i, np.nan))]
    worst_ids = sorted(rest, key=lambda i: (scores[i], i))[:worst]
    return sampled, worst_ids


def heat_overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """``heat`` in [0, 1] as a blue → red colour ramp blended over the image."""
    h = np.clip(heat, 0, 1)[..., None]
    ramp = np.concatenate([np.clip(2 * h - 0.5, 0, 1), np.clip(1.5 - np.abs(4 * h - 2), 0, 1),
                           np.clip(1.5 - 2 * h, 0, 1)], axis=2) * 255
    return np.clip((1 - alpha) * image + alpha * ramp, 0, 255).astype(np.uint8)


def label_tile(image: np.ndarray, label: np.ndarray) -> np.ndarray:
    shown = overlay(image, label, 0.6)
    shown[label == IGNORE_INDEX] = 255  # ignored pixels in white
    return shown


def thumbnail(array: np.ndarray) -> Image.Image:
    image = Image.fromarray(array)
    width = max(1, round(image.width * THUMB_HEIGHT / image.height))
    return image.resize((width, THUMB_HEIGHT), Image.BILINEAR)


def write_tile(array: np.ndarray, path: Path) -> None:
    io.write_jpeg(path, np.asarray(thumbnail(array)), quality=85)
