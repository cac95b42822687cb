"""Variants of the saliency-guided labels (README "With a salient-object model"), scored on the
split's ground truth without writing anything: the `sal_labels` rule, a dense CRF on top of it, a
fallback to the maps for classes the saliency model misses, and two oracles (the true class of each
labelled object pixel; the true foreground with the maps' classes). Run from a prepared project after
the `saliency` and map stages (e.g. the real-photo recipe's):

    python benchmarks/sal_label_variants.py                 # cams/seam, saliency/, split train
    python benchmarks/sal_label_variants.py --cams cams/cam --crf irn seam
    python benchmarks/sal_label_variants.py --cams cams/seam cams/cam --crf   # both maps, averaged
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path.cwd()))
from stages.common import read_params  # noqa: E402
from wsss import metrics  # noqa: E402
from wsss.config import SalientCamLabelsParams, from_dict  # noqa: E402
from wsss.data.dataset import Dataset  # noqa: E402
from wsss.palette import IGNORE_INDEX  # noqa: E402
from wsss.refine.crf import CRF_PRESETS, dense_crf  # noqa: E402
from wsss.refine.saliency_labels import MeanMaps, salient_cam_label  # noqa: E402


def with_map_fallback(label: np.ndarray, maps: np.ndarray, classes: np.ndarray, saliency: np.ndarray,
                      salient_fraction: float, map_threshold: float, foreground: float) -> np.ndarray:
    """A class whose own map region (where it wins and reaches ``map_threshold``) is less than
    ``salient_fraction`` salient is one the saliency model misses: its region is labelled from the map
    wherever the rule left background or ignored."""
    out = label.copy()
    winner = maps.argmax(0)
    for k, c in enumerate(classes):
        region = (winner == k) & (maps[k] >= map_threshold)
        if region.any() and (saliency[region] >= foreground).mean() < salient_fraction:
            out[region & ((out == 0) | (out == IGNORE_INDEX))] = c + 1
    return out


def crf_relabelled(image: np.ndarray, label: np.ndarray, classes: np.ndarray, confidence: float, preset: str) -> np.ndarray:
    """A dense CRF whose unary is the label map (``confidence`` on the label, the rest spread over the
    image's other labels; ignored pixels uniform)."""
    ids = np.concatenate([[0], np.asarray(classes, int) + 1])
    probs = np.full((len(ids), *label.shape), 1.0 / len(ids), np.float32)
    for j, c in enumerate(ids):
        mask = label == c
        probs[:, mask] = (1 - confidence) / max(len(ids) - 1, 1)
        probs[j, mask] = confidence
    return ids[dense_crf(image, probs, CRF_PRESETS[preset]).argmax(0)].astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cams", nargs="+", default=["cams/seam"], help="map folders (several: averaged)")
    parser.add_argument("--saliency", default="saliency")
    parser.add_argument("--split", default="train")
    parser.add_argument("--crf", nargs="*", default=["irn"], help="CRF presets to try on top of the labels")
    args = parser.parse_args()
    params = from_dict(SalientCamLabelsParams, read_params().get("sal_labels", {}))
    dataset = Dataset("data/prepared", args.saliency)
    reader = MeanMaps(args.cams)
    c = dataset.num_classes
    rows: dict[str, np.ndarray] = {}

    def add(row: str, truth: np.ndarray, label: np.ndarray) -> None:
        rows[row] = rows.get(row, np.zeros((c, c), np.int64)) + metrics.confusion_matrix(truth, label, c)

    for image_id in dataset.ids(args.split):
        classes, maps = reader.read(image_id)
        truth = dataset.read_mask(image_id)
        saliency = dataset.read_saliency(image_id, maps.shape[1:])
        label = salient_cam_label(maps, classes, saliency, params)
        add("sal_labels (params.yaml)", truth, label)
        for fraction, threshold in ((0.2, 0.6), (0.35, 0.45)):
            add(f"+ map fallback (salient < {fraction}, map >= {threshold})", truth,
                with_map_fallback(label, maps, classes, saliency, fraction, threshold, params.foreground))
        if args.crf:
            image = dataset.read_image(image_id)
            for preset in args.crf:
                add(f"+ dense CRF ({preset}, label confidence 0.9)", truth, crf_relabelled(image, label, classes, 0.9, preset))
        known = (label > 0) & (label != IGNORE_INDEX) & (truth > 0) & (truth != IGNORE_INDEX)
        add("oracle: true class of each labelled object pixel", truth, np.where(known, truth, label).astype(np.uint8))
        winner = (np.asarray(classes, int)[maps.argmax(0)] + 1).astype(np.uint8) if len(classes) else np.zeros_like(label)
        add("oracle: true foreground, the maps' classes", truth, np.where(truth == 0, 0, winner).astype(np.uint8))
    for row, confusion in rows.items():
        scores = metrics.scores(confusion, dataset.class_names)
        per_class = " ".join(f"{n}:{scores['iou_' + n]:.2f}" for n in dataset.class_names if scores["iou_" + n] is not None)
        print(f"{row:58} mIoU {100 * scores['miou']:.1f} %   {per_class}", flush=True)


if __name__ == "__main__":
    main()
