import numpy as np
import pytest

from wsss.refine.crf import background_from_alpha
from wsss.refine.crf_alpha import (
    SEAM_HIGH_ALPHA, SEAM_LOW_ALPHA, background_threshold, bracketing_alphas, resolve_alphas,
)

# t*(α) as tabulated in REFERENCE §1.5.
TABLE = {3: 0.318, 4: 0.276, 6: 0.222, 8: 0.188, 16: 0.123, 24: 0.094, 32: 0.077}


def test_background_threshold_matches_the_reference_table():
    for alpha, threshold in TABLE.items():
        assert background_threshold(alpha) == pytest.approx(threshold, abs=6e-4)


def test_background_threshold_is_where_the_power_background_ties_the_score():
    maps = np.array([[[0.2, 0.3, 0.5, 0.9]]], np.float32)
    t = background_threshold(2.0)  # (1 − t)² = t  ⇒  t = (3 − √5)/2
    assert t == pytest.approx((3 - 5 ** 0.5) / 2, abs=1e-9)
    foreground = maps.max(0) > background_from_alpha(maps, 2.0)
    np.testing.assert_array_equal(foreground, maps.max(0) > t)


def test_bracketing_alphas_give_back_seam_at_its_walk_threshold():
    low, high = bracketing_alphas(TABLE[6])
    assert low == pytest.approx(SEAM_LOW_ALPHA, rel=0.01)
    assert high == pytest.approx(SEAM_HIGH_ALPHA, rel=0.01)


@pytest.mark.parametrize("best", [0.1, 0.26, 0.54, 0.9])
def test_bracketing_alphas_bracket_the_best_threshold(best):
    low, high = bracketing_alphas(best)
    assert low < high
    assert background_threshold(high) < best < background_threshold(low)


def test_background_threshold_rejects_a_non_positive_alpha():
    with pytest.raises(ValueError, match="alpha"):
        background_threshold(0.0)


def test_resolve_alphas_keeps_configured_values_and_fills_the_rest():
    assert resolve_alphas(4.0, 24.0, None) == (4.0, 24.0)
    auto_low, auto_high = bracketing_alphas(0.5)
    assert resolve_alphas(0.0, 0.0, 0.5) == (auto_low, auto_high)
    assert resolve_alphas(4.0, -1.0, 0.5) == (4.0, auto_high)
    with pytest.raises(ValueError, match="best background threshold"):
        resolve_alphas(0.0, 24.0, None)
