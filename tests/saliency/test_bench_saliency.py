"""The foreground/background IoU of benchmarks/bench_saliency.py, on a hand-computed case."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location(
    "bench_saliency", Path(__file__).resolve().parents[2] / "benchmarks" / "bench_saliency.py")
bench_saliency = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_saliency)


def test_split_ious_pool_pixels_over_photos_and_skip_boundaries():
    grey = np.array([[255, 255, 0, 0]], np.uint8)
    mask = np.array([[12, 0, 0, 255]], np.uint8)          # object, background, background, boundary
    fg, bg = bench_saliency.split_ious([grey, grey], [mask, mask], 0.5)
    assert fg == pytest.approx(1 / 2)                     # object ∩ salient = 1 of 2 (boundary ignored)
    assert bg == pytest.approx(1 / 2)                     # background ∩ not salient = 1 of 2
    fg, bg = bench_saliency.split_ious([np.zeros((1, 4), np.uint8)], [mask], 0.5)
    assert fg == 0 and bg == pytest.approx(2 / 3)
