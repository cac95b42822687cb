"""The torch dense CRF against pydensecrf, and its permutohedral lattice against exact Gaussians."""

import cv2
import numpy as np
import pytest
import torch

from wsss.config import DemoConfig
from wsss.data.demo import render_image
from wsss.errors import ConfigError
from wsss.refine.crf import CRF_PRESETS, crf_placement, crf_with_alpha, dense_crf
from wsss.refine.permutohedral import PermutohedralLattice


def demo_photo_and_maps(seed: int, classes: int = 3):
    """A demo image and blurred, shifted versions of its masks as class scores (CAM-like)."""
    rng = np.random.default_rng(seed)
    image, labels, _, _ = render_image(rng, DemoConfig(min_size=96, max_size=140))
    h, w = labels.shape
    maps = []
    for k in range(classes):
        mask = (labels == k).astype(np.float32) if k else (labels == 0).astype(np.float32)
        mask = np.roll(mask, int(rng.integers(-6, 7)), axis=1)
        maps.append(cv2.GaussianBlur(mask, (0, 0), 6) * 0.8 + 0.1 * rng.random((h, w), np.float32))
    probs = np.stack(maps)
    return image, probs / probs.sum(0)


@pytest.mark.parametrize("preset", sorted(CRF_PRESETS))
def test_torch_crf_matches_pydensecrf(preset):
    for seed in range(2):
        image, probs = demo_photo_and_maps(seed)
        reference = dense_crf(image, probs, CRF_PRESETS[preset], backend="pydensecrf")
        ours = dense_crf(image, probs, CRF_PRESETS[preset], backend="torch")
        assert ours.shape == reference.shape and ours.dtype == np.float32
        np.testing.assert_allclose(ours, reference, atol=2e-3)
        assert (ours.argmax(0) == reference.argmax(0)).mean() >= 0.999


def test_torch_crf_on_a_stack_that_is_not_a_distribution():
    """SEAM's [bg = (1 − max)^α, maps] stack: the same clipped −log unary as pydensecrf."""
    image, probs = demo_photo_and_maps(3)
    maps = probs[1:] * 0.7
    reference = crf_with_alpha(image, maps, 24, backend="pydensecrf")
    ours = crf_with_alpha(image, maps, 24, backend="torch")
    np.testing.assert_allclose(ours, reference, atol=2e-3)


def test_a_kernel_cache_is_the_callers_and_reuses_one_images_lattices():
    image, probs = demo_photo_and_maps(4)
    cache: dict = {}
    first = dense_crf(image, probs, CRF_PRESETS["seam"], backend="torch", cache=cache)
    kernels = cache["kernels"]
    again = dense_crf(image, probs[::-1].copy(), CRF_PRESETS["seam"], backend="torch", cache=cache)
    assert cache["kernels"] is kernels   # same image and settings: the lattices are not rebuilt
    np.testing.assert_array_equal(first, dense_crf(image, probs, CRF_PRESETS["seam"], backend="torch"))
    np.testing.assert_array_equal(again, dense_crf(image, probs[::-1].copy(), CRF_PRESETS["seam"], backend="torch"))
    dense_crf(image, probs, CRF_PRESETS["irn"], backend="torch", cache=cache)
    assert cache["kernels"] is not kernels   # other kernel settings
    kernels = cache["kernels"]
    changed = image.copy()
    changed[0, 0] ^= 1
    dense_crf(changed, probs, CRF_PRESETS["irn"], backend="torch", cache=cache)
    assert cache["kernels"] is not kernels   # another image


def test_unknown_backend_is_refused():
    image, probs = demo_photo_and_maps(0)
    with pytest.raises(ConfigError, match="'cuda-crf' is not one of pydensecrf, torch"):
        dense_crf(image, probs, backend="cuda-crf")
    with pytest.raises(ConfigError):
        crf_placement("densecrf", "cpu", 2)
    assert crf_placement("torch", "cpu", 3) == ("cpu", 3)
    assert crf_placement("pydensecrf", "auto", 2) == ("cpu", 2)


def test_lattice_filter_is_linear_and_symmetric():
    rng = np.random.default_rng(0)
    features = torch.tensor(rng.random((400, 3)) * 4, dtype=torch.float32)
    lattice = PermutohedralLattice(features)
    a = torch.tensor(rng.random((400, 2)), dtype=torch.float32)
    b = torch.tensor(rng.random((400, 2)), dtype=torch.float32)
    torch.testing.assert_close(lattice.filter(a + 2 * b), lattice.filter(a) + 2 * lattice.filter(b), atol=1e-5, rtol=1e-5)
    # splat → blur → slice is S^T B_d…B_0 S; each axis blur is symmetric, their product only nearly
    torch.testing.assert_close((a * lattice.filter(b)).sum(), (lattice.filter(a) * b).sum(), rtol=1e-3, atol=0)
    assert lattice.filter(torch.ones(400, 1)).min() > 0


def test_lattice_approximates_the_gaussian_kernel():
    """Dense CRF kernels are exp(−|f_i − f_j|² / 2) over scaled features; the lattice's response to
    a spike is that Gaussian up to the approximation's blur (correlation, not equality)."""
    rng = np.random.default_rng(1)
    features = rng.random((600, 2)) * 6
    exact = np.exp(-((features[:, None] - features[None]) ** 2).sum(-1) / 2)
    lattice = PermutohedralLattice(torch.tensor(features, dtype=torch.float32))
    values = rng.random((600, 3))
    approx = lattice.filter(torch.tensor(values, dtype=torch.float32)).numpy()
    reference = exact @ values
    for c in range(3):
        assert np.corrcoef(approx[:, c], reference[:, c])[0, 1] > 0.98
    # far-apart points do not interact
    far = PermutohedralLattice(torch.tensor([[0.0, 0.0], [50.0, 50.0]]))
    response = far.filter(torch.tensor([[1.0], [0.0]]))
    assert response[1, 0] == 0 and response[0, 0] > 0


def test_lattice_refuses_a_flat_feature_array():
    with pytest.raises(ValueError, match="N×d"):
        PermutohedralLattice(torch.zeros(10))
