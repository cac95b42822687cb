import numpy as np
import pytest
import torch

from wsss.losses.affinity import affinity_loss
from wsss.refine.affinity_labels import IGNORE, affinity_label_grid, block_mean, label_map_grid
from wsss.ops.pairs import pair_indices, pair_labels


def probs(labels: np.ndarray, channels: int) -> np.ndarray:
    out = np.zeros((channels, *labels.shape), np.float32)
    for c in range(channels):
        out[c][labels == c] = 1.0
    return out


def test_label_grid_from_hand_made_crf_maps():
    # 4×4 pixels, block 2 -> 2×2 grid. Channel order [bg, class A, class B].
    la = np.array([[1, 1, 0, 0],
                   [1, 1, 0, 0],
                   [2, 2, 0, 0],
                   [2, 2, 1, 1]])
    ha = np.array([[1, 1, 1, 1],
                   [1, 1, 1, 1],
                   [2, 2, 0, 0],
                   [2, 2, 0, 0]])
    grid = affinity_label_grid(probs(la, 3), probs(ha, 3), 2)
    # top-left: confident A; top-right: la says bg, ha says fg -> unknown;
    # bottom-left: confident B; bottom-right: ha says bg -> confident background.
    np.testing.assert_array_equal(grid, [[1, 255], [2, 0]])


def test_padding_without_scores_is_ignored():
    la = probs(np.zeros((2, 4), int), 2)
    ha = probs(np.zeros((2, 4), int), 2)
    la[:, :, 2:] = 0
    ha[:, :, 2:] = 0
    np.testing.assert_array_equal(affinity_label_grid(la, ha, 2), [[0, 255]])


def test_block_mean():
    a = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_allclose(block_mean(a, 2)[0], [[2.5, 4.5], [10.5, 12.5]])


def test_pair_labels_categories():
    label = np.full((6, 10), 255, np.uint8)
    label[:, :5] = 0
    label[:, 5:] = 3
    label[0, 0] = 255
    bg, fg, neg = pair_labels(label, 3)
    src, dst = pair_indices(3, 6, 10)
    a, b = label.reshape(-1)[src], label.reshape(-1)[dst]
    assert (bg + fg + neg <= 1).all()
    np.testing.assert_array_equal(bg.astype(bool), (a == 0) & (b == 0))
    np.testing.assert_array_equal(fg.astype(bool), (a == 3) & (b == 3))
    np.testing.assert_array_equal(neg.astype(bool), (a != b) & (a < 255) & (b < 255))
    assert neg.sum() > 0 and fg.sum() > 0 and bg.sum() > 0


def test_loss_uses_batch_wide_counts():
    affinity = torch.tensor([[[0.5, 0.9, 0.2, 0.7]], [[0.8, 0.1, 0.6, 0.3]]])
    bg = torch.tensor([[[1.0, 0, 0, 0]], [[1.0, 1, 0, 0]]])
    fg = torch.tensor([[[0.0, 1, 0, 0]], [[0.0, 0, 0, 0]]])
    neg = torch.tensor([[[0.0, 0, 1, 1]], [[0.0, 0, 1, 1]]])
    out = affinity_loss(affinity, bg, fg, neg)
    e = 1e-5
    expected_bg = -(np.log(0.5 + e) + np.log(0.8 + e) + np.log(0.1 + e)) / (3 + e)
    expected_fg = -np.log(0.9 + e) / (1 + e)
    expected_neg = -(np.log(1 + e - 0.2) + np.log(1 + e - 0.7) + np.log(1 + e - 0.6) + np.log(1 + e - 0.3)) / (4 + e)
    assert out["bg"].item() == pytest.approx(expected_bg, rel=1e-5)
    assert out["fg"].item() == pytest.approx(expected_fg, rel=1e-5)
    assert out["neg"].item() == pytest.approx(expected_neg, rel=1e-5)
    assert out["loss"].item() == pytest.approx(expected_bg / 4 + expected_fg / 4 + expected_neg / 2, rel=1e-5)


def test_label_map_grid_keeps_pure_cells_only():
    label = np.zeros((4, 6), np.uint8)
    label[:2, 2:4] = 3          # one whole cell of class 3
    label[2:, 4] = 5            # half a cell: mixed with background
    label[0, 5] = IGNORE        # an ignored pixel spoils its cell
    grid = label_map_grid(label, 2)
    np.testing.assert_array_equal(grid, [[0, 3, IGNORE], [0, 0, IGNORE]])
