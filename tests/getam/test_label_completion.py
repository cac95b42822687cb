"""Activation-aware label completion on hand-made maps."""

import numpy as np

from wsss.refine.label_completion import activation_threshold, complete_labels


def test_threshold_is_the_rank_of_the_percentile_among_positive_values():
    values = np.array([0.0, 0.0, 0.5, 0.1, 0.4, 0.2, 0.3])  # positives sorted: .1 .2 .3 .4 .5
    assert activation_threshold(values, 0.9) == 0.5             # rank ⌊0.9·5⌋ = 4
    assert activation_threshold(values, 0.5) == 0.3             # rank 2
    assert activation_threshold(np.zeros(4), 0.9) is None
    assert activation_threshold(np.array([0.7]), 0.9) is None  # rank 0: nothing is mined


def test_scores_saliency_and_completion():
    # One present class (index 2 → label 3) on a 4×6 image; no opening so every pixel is visible.
    m = np.array([[0.9, 0.9, 0.01, 0.01, 0.95, 0.2],
                  [0.9, 0.9, 0.01, 0.01, 0.20, 0.2],
                  [0.0, 0.0, 0.00, 0.00, 0.00, 0.0],
                  [0.0, 0.0, 0.00, 0.00, 0.00, 0.0]], np.float32)
    salient = np.zeros((4, 6), bool)
    salient[:2, :4] = True
    label, completed = complete_labels(m[None], np.array([2]), salient, gamma=32, percentile=0.9, opening=0)
    # positives: 0.01×4, 0.2×3, 0.9×4, 0.95 → sorted rank ⌊0.9·12⌋ = 10 → 0.9; only 0.95 is above it.
    expected = np.array([[3, 3, 255, 255, 3, 0],
                         [3, 3, 255, 255, 0, 0],
                         [0, 0, 0, 0, 0, 0],
                         [0, 0, 0, 0, 0, 0]], np.uint8)
    np.testing.assert_array_equal(label, expected)
    assert completed.sum() == 1 and completed[0, 4]


def test_gamma_decides_between_background_and_class():
    m = np.full((1, 2, 2), 0.1, np.float32)      # (1 − 0.1)^γ vs 0.1: γ = 32 → 0.034 < 0.1, γ = 4 → 0.66
    salient = np.ones((2, 2), bool)
    assert (complete_labels(m, np.array([0]), salient, gamma=32, opening=0)[0] == 1).all()
    assert (complete_labels(m, np.array([0]), salient, gamma=4, opening=0)[0] == 255).all()


def test_lowest_class_wins_a_completion_conflict():
    m = np.zeros((2, 3, 3), np.float32)
    m[:, 1, 1] = 1.0
    m[:, 0, 0] = 0.5                                # lower values so the percentile picks the centre
    m[:, 2, 2] = 0.3
    label, _ = complete_labels(m, np.array([1, 4]), np.zeros((3, 3), bool), percentile=0.5, opening=0)
    assert label[1, 1] == 2                         # class 1 (label 2), not class 4
    assert label[0, 0] == 0 and label[2, 2] == 0


def test_opening_removes_small_regions_and_keeps_large_ones():
    m = np.zeros((1, 30, 30), np.float32)
    m[0, 2:14, 2:14] = 1.0                          # 12×12 survives a 10×10 opening
    m[0, 20:25, 20:25] = 1.0                        # 5×5 does not
    salient = m[0] > 0
    label, _ = complete_labels(m, np.array([0]), salient, opening=10)
    # OpenCV anchors an even kernel off-centre, so the kept square loses its first row and column.
    assert (label[3:14, 3:14] == 1).all() and (label[2, :] == 0).all() and (label[:, 2] == 0).all()
    assert (label[20:25, 20:25] == 0).all()
    assert set(np.unique(label)) == {0, 1}
