"""How well an AffinityNet separates objects, against the ground truth: the pair AUC, i.e. the chance
that a pair of feature-grid pixels with the same true label gets a higher affinity than a pair across
a label boundary (pairs within the net's radius, both pixels labelled; 0.5 = chance, 1 = perfect).
A colour-difference affinity, exp(−mean |ΔRGB| / 20), is scored on the same pairs for scale.

    python benchmarks/affinity_auc.py --index data/prepared --checkpoint models/affinity.pt \\
        --split train [--images 40]

The random walk can only be as good as this ranking: on the real photos the AUC tracked the walk's
label mIoU (README "Results on real photographs").
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

from wsss.data.transforms import to_tensor
from wsss.inference import open_inference
from wsss.models.affinity import KIND as AFFINITY
from wsss.ops.pairs import effective_radius, pair_affinities, pair_indices

IGNORE = 255


def pair_auc(same: np.ndarray, across: np.ndarray) -> float:
    """P(a same-label pair scores above an across-label pair), ties counted half (Mann–Whitney U)."""
    if not len(same) or not len(across):
        raise ValueError("need at least one same-label and one across-label pair")
    values = np.concatenate([same, across])
    # Average rank of each distinct value, so equal scores count as half a win.
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    upto = np.cumsum(counts)
    ranks = (upto - counts + 1 + upto)[inverse] / 2
    wins = ranks[: len(same)].sum() - len(same) * (len(same) + 1) / 2
    return float(wins / (len(same) * len(across)))


def grid_pairs(labels_on_grid: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(labelled, same) masks over the D×N pairs of ``pair_indices`` for a label grid."""
    src, dst = pair_indices(radius, *labels_on_grid.shape)
    flat = labels_on_grid.reshape(-1)
    a, b = flat[src], flat[dst]
    labelled = (a != IGNORE) & (b != IGNORE)
    return labelled, a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default="data/prepared")
    parser.add_argument("--checkpoint", default="models/affinity.pt")
    parser.add_argument("--split", default="train")
    parser.add_argument("--images", type=int, default=40, help="the first N images of the split")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    loaded, share = open_inference(args.index, args.checkpoint, [AFFINITY], args.split, args.device)
    model, dataset = loaded.model, share.dataset
    stride = model.backbone.output_stride
    learned = {True: [], False: []}
    colour = {True: [], False: []}
    for image_id in share.ids[: args.images]:
        image, mask = dataset.read_image(image_id), dataset.read_mask(image_id)
        h, w = image.shape[:2]
        ph, pw = math.ceil(h / stride) * stride, math.ceil(w / stride) * stride
        x = F.pad(to_tensor(image, model.backbone.mean, model.backbone.std), (0, pw - w, 0, ph - h))[None]
        with torch.no_grad():
            features = model.features(x.to(loaded.device)).float()
        gh, gw = features.shape[2:]
        radius = effective_radius(model.radius, gh, gw)
        affinity = pair_affinities(features, radius)[0].cpu().numpy()
        # Each grid cell takes the label and colour at its centre pixel (padding is unlabelled).
        padded_mask = np.full((ph, pw), IGNORE, np.uint8)
        padded_mask[:h, :w] = mask
        padded_image = np.zeros((ph, pw, 3), np.float32)
        padded_image[:h, :w] = image
        centre = slice(stride // 2, None, stride)
        labelled, same = grid_pairs(padded_mask[centre, centre][:gh, :gw], radius)
        src, dst = pair_indices(radius, gh, gw)
        rgb = padded_image[centre, centre][:gh, :gw].reshape(-1, 3)
        colour_affinity = np.exp(-np.abs(rgb[src] - rgb[dst]).mean(-1) / 20.0)
        for is_same in (True, False):
            keep = labelled & (same == is_same)
            learned[is_same].append(affinity[keep])
            colour[is_same].append(colour_affinity[keep])
    same, across = np.concatenate(learned[True]), np.concatenate(learned[False])
    print(f"{len(share.ids[: args.images])} images, {len(same)} same-label and {len(across)} across-label pairs")
    print(f"AffinityNet: pair AUC {pair_auc(same, across):.3f} (mean affinity {same.mean():.3f} same, "
          f"{across.mean():.3f} across)")
    print(f"colour difference: pair AUC {pair_auc(np.concatenate(colour[True]), np.concatenate(colour[False])):.3f}")


if __name__ == "__main__":
    main()
