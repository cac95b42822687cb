"""Affinity training labels from the low-α / high-α CRF outputs (psa ``VOC12AffDataset``).

Low α gives the background a large score, so the foreground that survives is confident; high α
gives it a tiny score, so the background that survives is confident; everything else is ignored.
"""

from __future__ import annotations

import numpy as np

IGNORE = 255


def block_mean(array: np.ndarray, block: int) -> np.ndarray:
    """Mean over block×block cells of the last two axes (sizes must be multiples of ``block``)."""
    *lead, h, w = array.shape
    return array.reshape(*lead, h // block, block, w // block, block).mean(axis=(-3, -1))


def affinity_label_grid(la_probs: np.ndarray, ha_probs: np.ndarray, block: int) -> np.ndarray:
    """Label grid (h/block × w/block) from CRF probabilities that share channel order
    ([bg, present classes…]); 0 = confident background, k = confident channel k, 255 = ignore.

    Cells whose scores are all below 1e-5 (the zero padding of a crop) are ignored.
    """
    la = block_mean(la_probs, block)
    ha = block_mean(ha_probs, block)
    no_score = np.maximum(la.max(0), ha.max(0)) < 1e-5
    la_arg, ha_arg = la.argmax(0), ha.argmax(0)
    label = la_arg.astype(np.uint8)
    label[la_arg == 0] = IGNORE
    label[ha_arg == 0] = 0
    label[no_score] = IGNORE
    return label


def label_map_grid(label: np.ndarray, block: int) -> np.ndarray:
    """Label grid (h/block × w/block) from a pseudo-label map (255 = ignore): a cell whose pixels all
    carry one label keeps it; a mixed cell (an object border, or ignored pixels) is ignored."""
    h, w = label.shape
    cells = label.reshape(h // block, block, w // block, block)
    low, high = cells.min(axis=(1, 3)), cells.max(axis=(1, 3))
    return np.where(low == high, low, IGNORE).astype(np.uint8)
