"""Segmentation metrics: confusion matrices (int64), IoU, pixel accuracy, SEAM's FP/FN, threshold curves.

Conventions (VOC): ground-truth 255 is ignored; a prediction of 255 ("no label") counts as a miss for
the ground-truth class. FP_c = (P−TP)/(T+P−TP) and FN_c = (T−TP)/(T+P−TP), so IoU_c + FP_c + FN_c = 1.
mIoU averages over the classes that occur (in ground truth or prediction); a class absent from both
has no IoU (the reference code would count it as 0, which only matters on small subsets).
"""

from __future__ import annotations

import numpy as np

from wsss.palette import IGNORE_INDEX

# SEAM's background-threshold curve: t = 0.00 .. 0.59.
SEAM_THRESHOLDS = tuple(i / 100 for i in range(60))


def background_thresholds(last: float = 0.59) -> tuple[float, ...]:
    """The background scores swept for a CAM's curve: 0.00, 0.01, … ``last`` (SEAM: 0.59)."""
    return tuple(i / 100 for i in range(int(round(last * 100)) + 1))


def confusion_matrix(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """C×C int64 matrix, rows = ground truth, columns = prediction."""
    if gt.shape != pred.shape:
        raise ValueError(f"ground truth {gt.shape} and prediction {pred.shape} differ in shape")
    valid = gt != IGNORE_INDEX
    g = gt[valid].astype(np.int64)
    p = pred[valid].astype(np.int64)
    # Predictions outside 0..C-1 (e.g. 255) go to an extra column that is dropped: a miss, not a hit.
    p = np.where(p < num_classes, p, num_classes)
    counts = np.bincount(g * (num_classes + 1) + p, minlength=num_classes * (num_classes + 1))
    return counts.reshape(num_classes, num_classes + 1)[:, :num_classes]


def scores(confusion: np.ndarray, class_names: list[str] | None = None) -> dict[str, float]:
    """Flat metrics dict from a confusion matrix (or a sum of them)."""
    confusion = confusion.astype(np.int64)
    num_classes = confusion.shape[0]
    tp = np.diag(confusion).astype(np.float64)
    t = confusion.sum(axis=1).astype(np.float64)
    p = confusion.sum(axis=0).astype(np.float64)
    union = t + p - tp
    present = union > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(present, tp / union, np.nan)
        fp = np.where(present, (p - tp) / union, np.nan)
        fn = np.where(present, (t - tp) / union, np.nan)
    names = class_names or [str(c) for c in range(num_classes)]
    out = {
        "miou": _nanmean(iou),
        "pixel_acc": float(tp.sum() / max(t.sum(), 1)),
        "mfp": _nanmean(fp[1:]),
        "mfn": _nanmean(fn[1:]),
    }
    for c, name in enumerate(names):
        out[f"iou_{name}"] = None if np.isnan(iou[c]) else float(iou[c])
    return out


def per_class(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """IoU, FP and FN per class (NaN where a class is absent from both sides)."""
    tp = np.diag(confusion).astype(np.float64)
    t, p = confusion.sum(1).astype(np.float64), confusion.sum(0).astype(np.float64)
    union = t + p - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"iou": tp / union, "fp": (p - tp) / union, "fn": (t - tp) / union}


def _nanmean(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else None


def cam_threshold_confusions(
    gt: np.ndarray,
    classes: np.ndarray,
    maps: np.ndarray,
    num_classes: int,
    thresholds=SEAM_THRESHOLDS,
) -> np.ndarray:
    """Confusion matrices of CAM predictions for every constant background score, T×C×C.

    The prediction at threshold t is argmax over [t, maps] (background wins ties, as ``np.argmax``
    does in the reference evaluation). Instead of T argmaxes, each pixel is binned by how many
    thresholds lie below its best score; cumulative sums then give every threshold in one pass.
    ``classes`` are 0-based foreground indices of the K maps.
    """
    thresholds = np.asarray(thresholds, dtype=np.float32)
    valid = gt != IGNORE_INDEX
    g = gt[valid].astype(np.int64)
    if maps.shape[0] == 0:
        best = np.zeros(g.size, np.float32)
        fg_label = np.zeros(g.size, np.int64)
    else:
        flat = maps.reshape(maps.shape[0], -1)[:, valid.reshape(-1)].astype(np.float32)
        winner = flat.argmax(axis=0)
        best = flat[winner, np.arange(flat.shape[1])]
        fg_label = np.asarray(classes, np.int64)[winner] + 1
    n_t = thresholds.size
    # Pixel is foreground for thresholds t_i < best, i.e. for i < below.
    below = np.searchsorted(thresholds, best, side="left")
    hist = np.bincount(
        (below * num_classes + g) * num_classes + fg_label, minlength=(n_t + 1) * num_classes * num_classes
    ).reshape(n_t + 1, num_classes, num_classes)
    # fg_counts[i] = pixels with below > i, by (gt, fg label); the rest predict background.
    suffix = np.cumsum(hist[::-1], axis=0)[::-1]
    fg_counts = suffix[1:]
    totals = hist.sum(axis=(0, 2))
    result = fg_counts.copy()
    result[:, :, 0] += totals[None, :] - fg_counts.sum(axis=2)
    return result


def cam_prediction(classes: np.ndarray, maps: np.ndarray, background: float, shape: tuple[int, int]) -> np.ndarray:
    """Label map from CAMs with a constant background score (uint8)."""
    if maps.shape[0] == 0:
        return np.zeros(shape, np.uint8)
    scores_ = np.concatenate([np.full((1, *maps.shape[1:]), background, np.float32), maps.astype(np.float32)])
    lookup = np.concatenate([[0], np.asarray(classes) + 1]).astype(np.uint8)
    return lookup[scores_.argmax(axis=0)]
