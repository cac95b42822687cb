"""Colour label maps and blend them over images (VOC palette; background and ignore stay unpainted)."""

from __future__ import annotations

import numpy as np

from wsss.palette import IGNORE_INDEX, voc_palette


def colorize(label: np.ndarray) -> np.ndarray:
    """H×W label ids → H×W×3 uint8 palette colours."""
    return voc_palette()[label]


def overlay(image: np.ndarray, label: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The image with each object pixel mixed ``alpha`` toward its class colour."""
    if image.shape[:2] != label.shape:
        raise ValueError(f"image {image.shape[:2]} and label {label.shape} differ in size")
    painted = (label != 0) & (label != IGNORE_INDEX)
    out = image.astype(np.float32)
    out[painted] = (1 - alpha) * out[painted] + alpha * colorize(label)[painted]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
