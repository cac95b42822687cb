"""AffinityNet's pixel pairs: the radius-r half-disc of directions and the "from" region (psa).

Directions D = {(0, x): 1 ≤ x < r} ∪ {(y, x): 1 ≤ y < r, −r < x < r, x² + y² < r²}: each unordered
neighbour pair once (34 directions for r = 5). From-pixels are rows 0..h−r and columns r−1..w−r, so
every direction stays inside the map.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch


@lru_cache(maxsize=None)
def half_disc_directions(radius: int) -> tuple[tuple[int, int], ...]:
    directions = [(0, x) for x in range(1, radius)]
    directions += [(y, x) for y in range(1, radius) for x in range(-radius + 1, radius) if x * x + y * y < radius * radius]
    return tuple(directions)


def effective_radius(radius: int, height: int, width: int) -> int:
    """SEAM shrinks the radius when the feature map is smaller than the pair window."""
    if min(height, width) < 2 * radius + 1:
        return max(1, (min(height, width) - 1) // 2)
    return radius


@lru_cache(maxsize=64)
def pair_indices(radius: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(from, to) flat pixel indices, each D×N_from (N_from = (h−r+1)·(w−2r+2))."""
    rows = np.arange(0, height - radius + 1)
    cols = np.arange(radius - 1, width - radius + 1)
    grid = (rows[:, None] * width + cols[None, :]).reshape(-1)
    src = np.broadcast_to(grid, (len(half_disc_directions(radius)), grid.size))
    dst = np.stack([grid + dy * width + dx for dy, dx in half_disc_directions(radius)])
    return np.ascontiguousarray(src), dst


def pair_affinities(features: torch.Tensor, radius: int) -> torch.Tensor:
    """a_ij = exp(−mean_c |f_i − f_j|) for every pair: N×D×N_from.

    Each direction is a shifted window of the map, so no N×C×D×N_from gather is built (448 channels ×
    34 directions × 3,000 positions is 180 MB per VOC image; the windows touch the map D times).
    """
    n, c, h, w = features.shape
    rows, cols = h - radius + 1, w - 2 * radius + 2
    origin = features[:, :, :rows, radius - 1 : radius - 1 + cols]
    out = []
    for dy, dx in half_disc_directions(radius):
        target = features[:, :, dy : dy + rows, radius - 1 + dx : radius - 1 + dx + cols]
        out.append(torch.exp(-(target - origin).abs().mean(1)).reshape(n, rows * cols))
    return torch.stack(out, 1)


def pair_labels(label: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bg_pos, fg_pos, neg) float32 D×N_from from a label grid (255 = unknown)."""
    h, w = label.shape
    src, dst = pair_indices(radius, h, w)
    flat = label.reshape(-1)
    a, b = flat[src], flat[dst]
    valid = (a < 255) & (b < 255)
    positive = a == b
    bg_pos = positive & (a == 0)
    fg_pos = positive & (a != 0) & valid
    negative = ~positive & valid
    return bg_pos.astype(np.float32), fg_pos.astype(np.float32), negative.astype(np.float32)
