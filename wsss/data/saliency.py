"""Built-in saliency maps for photos that come without them (MCIS and GETAM need one per image).

Geodesic saliency (Wei et al., ECCV 2012): a pixel is salient in proportion to the cheapest path from
it to the image border, a path costing the CIELAB colour differences it crosses; background regions
touch the border or connect to it through similar colours. It needs no weights and no download.
Computed at 96 px (long side) after a 3×3 blur, normalised to [0, 1], cut at Otsu's threshold (values
below become 0, as a binarised saliency model's would: GETAM counts any value > 0 as salient), and
resized back to the image. On 60 voc-sample photos the salient region overlaps the ground-truth
foreground about as well as SEAM's random-walk foreground does (IoU 0.45 vs 0.48).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from wsss import io
from wsss.data.dataset import Dataset
from wsss.progress import progress

WORKING_SIDE = 96


def geodesic_distance_to_border(lab: np.ndarray) -> np.ndarray:
    """H×W cheapest-path cost from every pixel to the border over 4-neighbour steps costing the colour
    distance between the two pixels (relaxed to convergence; exact shortest paths)."""
    h, w = lab.shape[:2]
    across = np.sqrt(((lab[:, 1:] - lab[:, :-1]) ** 2).sum(-1))
    down = np.sqrt(((lab[1:] - lab[:-1]) ** 2).sum(-1))
    distance = np.full((h, w), np.inf, np.float32)
    distance[0], distance[-1], distance[:, 0], distance[:, -1] = 0, 0, 0, 0
    for _ in range(2 * h * w):                      # a bound never reached: each sweep settles ≥ 1 pixel
        before = distance.copy()
        np.minimum(distance[:, 1:], distance[:, :-1] + across, out=distance[:, 1:])
        np.minimum(distance[:, :-1], distance[:, 1:] + across, out=distance[:, :-1])
        np.minimum(distance[1:], distance[:-1] + down, out=distance[1:])
        np.minimum(distance[:-1], distance[1:] + down, out=distance[:-1])
        if np.array_equal(distance, before):
            break
    return distance


def geodesic_saliency(image: np.ndarray) -> np.ndarray:
    """H×W uint8 saliency of an H×W×3 RGB uint8 image (0 = background)."""
    h, w = image.shape[:2]
    scale = WORKING_SIDE / max(h, w)
    small = cv2.resize(image, (max(3, round(w * scale)), max(3, round(h * scale))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(cv2.GaussianBlur(small, (3, 3), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    distance = geodesic_distance_to_border(lab)
    saliency = np.round(255 * distance / max(float(distance.max()), 1e-6)).astype(np.uint8)
    cut, _ = cv2.threshold(saliency, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    saliency[saliency <= cut] = 0
    return cv2.resize(saliency, (w, h), interpolation=cv2.INTER_LINEAR)


def write_builtin_saliency(index_dir: str | Path, folder: str = "saliency") -> int:
    """Saliency PNGs of every image of an index into ``index_dir/folder``, recorded in its dataset.json."""
    index_dir = Path(index_dir)
    dataset = Dataset(index_dir)
    ids = sorted(set().union(*(dataset.ids(split) for split in dataset.splits())))
    for image_id in progress(ids, len(ids), desc="builtin saliency"):
        io.write_grey_png(index_dir / folder / f"{image_id}.png", geodesic_saliency(dataset.read_image(image_id)))
    spec = io.read_json(index_dir / "dataset.json")
    io.write_json(index_dir / "dataset.json", {**spec, "saliency_dir": folder})
    return len(ids)
