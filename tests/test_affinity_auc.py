"""The pair AUC of benchmarks/affinity_auc.py, on hand-computed cases."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from wsss.ops.pairs import pair_indices

_spec = importlib.util.spec_from_file_location(
    "affinity_auc", Path(__file__).resolve().parents[1] / "benchmarks" / "affinity_auc.py")
affinity_auc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(affinity_auc)


def test_pair_auc_counts_wins_and_half_ties():
    # same 3 beats 1 and 2; same 2 beats 1 and ties 2: 3.5 wins of 4
    assert affinity_auc.pair_auc(np.array([3.0, 2.0]), np.array([1.0, 2.0])) == pytest.approx(0.875)


def test_pair_auc_bounds_and_chance():
    assert affinity_auc.pair_auc(np.array([0.9, 0.8]), np.array([0.1, 0.2, 0.3])) == 1.0
    assert affinity_auc.pair_auc(np.array([0.1]), np.array([0.5, 0.9])) == 0.0
    assert affinity_auc.pair_auc(np.full(5, 0.4), np.full(7, 0.4)) == 0.5


def test_pair_auc_needs_both_kinds():
    with pytest.raises(ValueError):
        affinity_auc.pair_auc(np.array([0.5]), np.array([]))


def test_grid_pairs_marks_same_and_unlabelled_pairs():
    grid = np.array([[1, 1, 2], [1, 255, 2], [1, 1, 2]], np.uint8)
    labelled, same = affinity_auc.grid_pairs(grid, radius=2)
    src, dst = pair_indices(2, 3, 3)
    flat = grid.reshape(-1)
    assert labelled.shape == same.shape == src.shape
    np.testing.assert_array_equal(labelled, (flat[src] != 255) & (flat[dst] != 255))
    np.testing.assert_array_equal(same, flat[src] == flat[dst])
    assert labelled.any() and (~labelled).any() and (same & labelled).any() and (~same & labelled).any()
