import numpy as np
import pytest
import torch
from torch import nn

from wsss.cams.multiscale import multiscale_cams, normalise_maps


class RampModel(nn.Module):
    """Localisation maps = a horizontal ramp per class (class k: ramp × (k + 1)); flip-aware checks."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.classes = classes
        self.backbone = nn.Module()
        self.backbone.mean, self.backbone.std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
        self.calls = []

    def localisation_maps(self, x):
        self.calls.append(tuple(x.shape))
        n, _, h, w = x.shape
        ramp = torch.linspace(0, 1, w).expand(n, 1, h, w)
        return torch.cat([ramp * (k + 1) for k in range(self.classes)], 1)


def test_views_shapes_and_present_classes():
    model = RampModel(4)
    image = np.zeros((30, 40, 3), np.uint8)
    classes, maps = multiscale_cams(model, image, np.array([0, 1, 0, 1.0]), scales=(0.5, 1.0, 2.0), flip=True)
    assert classes.tolist() == [1, 3]
    assert maps.shape == (2, 30, 40) and maps.dtype == np.float32
    assert model.calls == [(2, 3, 15, 20), (2, 3, 30, 40), (2, 3, 60, 80)]
    # ramp + flipped-back ramp is flat: every class map is uniform, so min-max gives zeros.
    assert np.allclose(maps, 0.0, atol=1e-4)


def test_without_flip_the_ramp_survives_and_is_normalised():
    model = RampModel(2)
    classes, maps = multiscale_cams(model, np.zeros((10, 20, 3), np.uint8), np.array([1.0, 1.0]), scales=(1.0,),
                                    flip=False, normalisation="max")
    assert maps.max() == pytest.approx(1.0, abs=1e-4)
    assert maps[0, 0, 0] < maps[0, 0, -1]
    np.testing.assert_allclose(maps[0], maps[1], atol=1e-5)  # max-normalisation removes the class scale


def test_minmax_normalisation_matches_seam_formula():
    s = torch.tensor([[[0.0, 2.0], [4.0, -1.0]]])
    out = normalise_maps(s, "minmax")
    # relu -> [0,2,4,0]; min 0, max 4; values below min+eps zeroed; (s - 0 - 1e-5)/(4 + 1e-5)
    expected = torch.tensor([[[0.0, (2 - 1e-5) / (4 + 1e-5)], [(4 - 1e-5) / (4 + 1e-5), 0.0]]])
    torch.testing.assert_close(out, expected)


def test_no_labels_gives_no_maps():
    classes, maps = multiscale_cams(RampModel(3), np.zeros((8, 8, 3), np.uint8), np.zeros(3))
    assert classes.size == 0 and maps.shape == (0, 8, 8)


def test_batched_cams_equal_one_image_at_a_time():
    from wsss.cams.multiscale import batched_multiscale_cams, cam_views
    from wsss.models.classifier import ClassifierSpec, build_classifier

    torch.manual_seed(0)
    model = build_classifier(ClassifierSpec("seam", "efficientnet_lite0", 4, 16), weights=None).eval()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (40, 56, 3), dtype=np.uint8) for _ in range(3)]
    labels = [np.array([1.0, 0, 1, 0]), np.zeros(4), np.array([0, 0, 0, 1.0])]
    scales = (0.5, 1.0)
    batched = batched_multiscale_cams(model, images, labels, [cam_views(im, scales) for im in images])
    for image, image_labels, (classes, maps) in zip(images, labels, batched):
        expected_classes, expected = multiscale_cams(model, image, image_labels, scales)
        assert classes.tolist() == expected_classes.tolist() and maps.shape == expected.shape
        np.testing.assert_allclose(maps, expected, atol=1e-5)
    with pytest.raises(ValueError, match="one size"):
        batched_multiscale_cams(model, [images[0], images[0][:30]], labels[:2], [[], []])


def test_same_size_runs_keep_order_and_limit():
    from wsss.cams.multiscale import same_size_runs

    sizes = [(2, 3), (2, 3), (2, 3), (4, 4), (2, 3), (2, 3)]
    runs = list(same_size_runs(list(enumerate(sizes)), lambda item: item[1], 2))
    assert [[k for k, _ in run] for run in runs] == [[0, 1], [2], [3], [4, 5]]
