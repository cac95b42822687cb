"""`wsss cam`: localisation maps of every classifier kind on arbitrary photos."""

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tests.test_segment import _classifier
from wsss import io
from wsss.cli import app
from wsss.models.coattention import McisSpec
from wsss.models.getam import GetamSpec
from wsss.models.zoo import build_model, save_model

NAMES = ("background", "a", "b")


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    io.write_jpeg(tmp_path / "in" / "one.jpg", rng.integers(0, 255, (40, 56, 3), dtype=np.uint8))
    io.write_jpeg(tmp_path / "in" / "two.jpg", rng.integers(0, 255, (48, 48, 3), dtype=np.uint8))
    return tmp_path / "in"


def read_maps(path):
    with np.load(path) as stored:
        return list(stored["classes"]), stored["maps"].astype(np.float32)


def test_auto_classes_are_those_the_classifier_scores(tmp_path, photos):
    """Class b's logit is +features, a's −features: auto picks b alone; maps match the photo and lie in [0, 1]."""
    model = _classifier(tmp_path, "cam", NAMES, [-1.0, 1.0])
    result = CliRunner().invoke(app, ["cam", str(model), str(photos), "-o", str(tmp_path / "out"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    classes, maps = read_maps(tmp_path / "out" / "one.npz")
    assert classes == ["b"] and maps.shape == (1, 40, 56) and 0 <= maps.min() and maps.max() <= 1
    assert io.read_image(tmp_path / "out" / "one_b.jpg").shape == (40, 56, 3)
    assert not (tmp_path / "out" / "one_a.jpg").exists()


@pytest.mark.parametrize("maps", ["native", "gradcam", "gradcampp"])
def test_named_classes_and_gradcam_variants(tmp_path, photos, maps):
    model = _classifier(tmp_path, "seam", NAMES, [0.0, -1.0, 1.0])
    result = CliRunner().invoke(app, ["cam", str(model), str(photos / "two.jpg"), "-o", str(tmp_path / "out"),
                                      "--classes", "a,b", "--maps", maps, "--scales", "0.5,1.0", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    classes, stored = read_maps(tmp_path / "out" / "two.npz")
    assert classes == ["a", "b"] and stored.shape == (2, 48, 48) and np.isfinite(stored).all()


@pytest.mark.parametrize("kind, spec", [
    ("mcis", McisSpec("efficientnet_lite0", 2, 16, 8, NAMES, 0.01)),
    ("getam", GetamSpec("lite0_vit_tiny", NAMES, 8, 2)),
])
def test_mcis_and_getam_models_localise_photos(tmp_path, photos, kind, spec):
    torch.manual_seed(0)
    save_model(tmp_path / f"{kind}.pt", build_model(spec, None).eval(), spec)
    result = CliRunner().invoke(app, ["cam", str(tmp_path / f"{kind}.pt"), str(photos), "-o", str(tmp_path / "out"),
                                      "--classes", "b", "--size", "64", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    classes, maps = read_maps(tmp_path / "out" / "one.npz")
    assert classes == ["b"] and maps.shape == (1, 40, 56) and 0 <= maps.min() and maps.max() <= 1 + 1e-3


def test_models_without_maps_and_unknown_classes_are_one_line(tmp_path, photos):
    from wsss.models.deeplab import SegmenterSpec, build_segmenter

    spec = SegmenterSpec("largefov", "efficientnet_lite0", NAMES, 16)
    save_model(tmp_path / "seg.pt", build_segmenter(spec).eval(), spec)
    result = CliRunner().invoke(app, ["cam", str(tmp_path / "seg.pt"), str(photos), "--device", "cpu"])
    assert result.exit_code == 1 and "a 'segmenter' model gives no localisation maps" in result.output
    model = _classifier(tmp_path, "cam", NAMES, [-1.0, 1.0])
    result = CliRunner().invoke(app, ["cam", str(model), str(photos), "--classes", "dog", "--device", "cpu"])
    assert result.exit_code == 1 and "classes ['dog'] are not among the model's: a, b" in result.output
