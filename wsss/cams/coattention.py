"""MCIS localisation maps: multi-round co-attentive inference (released ``test.py`` behaviour).

For an image a (resized to size × size) and each present class c, the co-attention maps of a are
taken from five pairings: with its flipped view (a's side, and the flipped side flipped back), with
its 0.75× and 2× views (the view's side, resized to a's grid), and averaged over ``related`` random
images that contain c. Each map is ReLU'd and divided by its maximum; the first always counts,
the others only if sigmoid(mean of the raw map) > ``gate``; the sum is divided by the number of
maps (5) regardless, then resized (bicubic) to the image.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from wsss import io
from wsss.data.class_index import ClassIndex
from wsss.data.transforms import square, to_tensor
from wsss.inference import open_inference
from wsss.models.coattention import KIND as MCIS
from wsss.params.mcis import LocaliseMcisParams
from wsss.progress import progress

log = logging.getLogger(__name__)


def aggregate(maps: list[torch.Tensor], gate: float, eps: float = 1e-5) -> torch.Tensor:
    """Average of max-normalised, ReLU'd maps; maps after the first join only when their GAP
    probability passes ``gate`` (the divisor stays the number of maps)."""
    total = torch.zeros_like(maps[0])
    for k, m in enumerate(maps):
        if k > 0 and torch.sigmoid(m.mean()) <= gate:
            continue
        r = F.relu(m)
        total = total + r / (r.max() + eps)
    return total / len(maps)


def _resize(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return maps if maps.shape[-2:] == size else F.interpolate(maps, size, mode="bicubic", align_corners=False)


@torch.no_grad()
def coattention_maps(model, image: np.ndarray, classes: np.ndarray, related_images: dict[int, list[np.ndarray]],
                     params: LocaliseMcisParams, size: int, device: torch.device,
                     dtype: torch.dtype | None = None) -> np.ndarray:
    """K×H×W maps in [0, 1] for the present (0-based) ``classes`` with images resized to ``size`` ×
    ``size`` (the training size); ``related_images[c]`` are the partners of class c."""
    h, w = image.shape[:2]
    mean, std = model.backbone.mean, model.backbone.std

    def prepare(array: np.ndarray, side: int) -> torch.Tensor:
        return to_tensor(np.asarray(square(array, side)), mean, std)[None].to(device)

    def features(x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            return model.features(x).float()

    def pair(fa, fb):
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = model.pair(fa, fb)
        return out["co_map_a"].float(), out["co_map_b"].float()

    x_a = prepare(image, size)
    f_a = features(x_a)
    grid = f_a.shape[-2:]
    co_self, co_flip = pair(f_a, features(x_a.flip(-1)))
    _, co_small = pair(f_a, features(prepare(image, round(0.75 * size))))
    _, co_large = pair(f_a, features(prepare(image, 2 * size)))
    views = [co_self[0], co_flip[0].flip(-1), _resize(co_small, grid)[0], _resize(co_large, grid)[0]]
    out = torch.zeros(len(classes), h, w, device=device)
    for k, c in enumerate(classes):
        partners = torch.cat([prepare(r, size) for r in related_images[int(c)]])
        f_r = features(partners)
        co_a, _ = pair(f_a.expand(len(partners), -1, -1, -1), f_r)
        cross = co_a.mean(0)
        merged = aggregate([v[c] for v in views] + [cross[c]], params.gate)
        out[k] = _resize(merged[None, None], (h, w))[0, 0]
    return out.clamp(0, 1).cpu().numpy()


def localise_mcis(index_dir: str | Path, checkpoint: str | Path, params: LocaliseMcisParams, size: int,
                  out_dir: str | Path) -> int:
    """Write MCIS localisation maps of every image of the split in the project's CAM format; ``size``:
    the square side the network was trained at."""
    loaded, share = open_inference(index_dir, checkpoint, [MCIS], params.split, params.device,
                                   params.precision)
    dataset = share.dataset
    ids = dataset.ids(params.split)
    index = ClassIndex(dataset, ids)
    position = {image_id: k for k, image_id in enumerate(ids)}
    with share.cam_writer(out_dir) as writer:
        for image_id in progress(share.ids, len(share.ids), desc="mcis maps"):
            k = position[image_id]
            classes = np.flatnonzero(index.labels[k])
            # Partners are a function of (seed, image), so any rank or rerun draws the same ones.
            rng = np.random.default_rng([params.seed, io.shard_of(image_id, 2**31)])
            related = {int(c): [dataset.read_image(ids[j]) for j in index.related(int(c), params.related, rng)]
                       for c in classes}
            maps = coattention_maps(loaded.model, dataset.read_image(image_id), classes, related, params, size,
                                    loaded.device, loaded.dtype)
            writer.write(image_id, classes, maps)
    return len(share.ids)
