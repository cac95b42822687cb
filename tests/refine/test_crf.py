import numpy as np
import pytest

from wsss.refine.crf import (
    CRF_PRESETS, CrfParams, alpha_for_background, background_from_alpha, crf_with_alpha, crf_with_constant_background,
    dense_crf,
)


def two_region_image():
    image = np.zeros((40, 60, 3), np.uint8)
    image[:, 30:] = (230, 40, 40)
    image[:, :30] = (30, 30, 160)
    return image


def test_background_from_alpha():
    maps = np.array([[[0.5, 0.0]], [[0.2, 0.9]]], np.float32)
    np.testing.assert_allclose(background_from_alpha(maps, 4), [[0.5**4, 0.1**4]], rtol=1e-6)
    assert background_from_alpha(np.zeros((0, 2, 2), np.float32), 4).min() == 1.0


def test_crf_snaps_a_blurry_map_to_the_colour_edge():
    image = two_region_image()
    fg = np.zeros((1, 40, 60), np.float32)
    fg[0, :, 20:] = 0.6  # activation leaks 10 px into the blue region
    q = crf_with_alpha(image, fg, alpha=4)
    assert q.shape == (2, 40, 60)
    np.testing.assert_allclose(q.sum(0), 1.0, atol=1e-4)
    labels = q.argmax(0)
    assert (labels[:, 32:] == 1).mean() > 0.95
    assert (labels[:, :28] == 0).mean() > 0.95


def test_alpha_sets_the_foreground_threshold():
    """Without pairwise terms the CRF keeps the unary argmax: foreground iff m > (1 − m)^α, i.e.
    m > 0.276 for α = 4 (confident fg survives) and m > 0.094 for α = 24."""
    unary_only = CrfParams(iterations=1, gaussian_compat=0, bilateral_compat=0)
    image = np.full((1, 1001, 3), 128, np.uint8)
    fg = np.linspace(0, 1, 1001, dtype=np.float32)[None, None]
    low = crf_with_alpha(image, fg, 4, unary_only).argmax(0).mean()
    high = crf_with_alpha(image, fg, 24, unary_only).argmax(0).mean()
    assert low == pytest.approx(1 - 0.276, abs=0.002)
    assert high == pytest.approx(1 - 0.094, abs=0.002)


def test_constant_background_and_validation():
    image = two_region_image()
    fg = np.zeros((1, 40, 60), np.float32)
    fg[0, :, 30:] = 0.9
    assert crf_with_constant_background(image, fg, 0.3).argmax(0)[:, 40:].min() == 1
    with pytest.raises(ValueError, match="differ in size"):
        dense_crf(image[:10], np.ones((2, 40, 60), np.float32))
    assert CRF_PRESETS["getam"].iterations == 20


def test_alpha_for_background_inverts_the_reference_table():
    # REFERENCE §10.5: t*(α) solving t = (1 − t)^α is 0.276 for α 4, 0.222 for 6, 0.094 for 24.
    for alpha, threshold in [(4, 0.276), (6, 0.222), (24, 0.094)]:
        assert alpha_for_background(threshold) == pytest.approx(alpha, rel=0.02)
    t = 0.54
    assert (1 - t) ** alpha_for_background(t) == pytest.approx(t)
    with pytest.raises(ValueError):
        alpha_for_background(1.0)
