import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from wsss import io
from wsss.cli import app
from wsss.config import InferSegParams
from wsss.errors import ConfigError, DataError
from wsss.models.deeplab import SegmenterSpec, build_segmenter
from wsss.models.zoo import save_model
from wsss.segment import image_files, multiscale_probs, predict, with_skips
from wsss.viz import colorize, overlay


class PixelwiseModel(torch.nn.Module):
    """Logits are a per-pixel function of the colour: exactly flip-equivariant."""

    def __init__(self):
        super().__init__()
        self.backbone = type("B", (), {"mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25)})()
        self.conv = torch.nn.Conv2d(3, 3, 1)
        torch.manual_seed(0)
        torch.nn.init.normal_(self.conv.weight)

    def forward(self, x):
        return self.conv(x)


def test_flip_views_are_unflipped_before_averaging():
    image = np.random.default_rng(0).integers(0, 255, (12, 17, 3), dtype=np.uint8)
    model = PixelwiseModel()
    single = multiscale_probs(model, image, [1.0], flip=False)
    flipped = multiscale_probs(model, image, [1.0], flip=True)
    np.testing.assert_allclose(flipped, single, atol=1e-6)
    np.testing.assert_allclose(single.sum(0), 1.0, atol=1e-5)


def test_probability_and_logit_averaging():
    image = np.random.default_rng(1).integers(0, 255, (10, 14, 3), dtype=np.uint8)
    model = PixelwiseModel()
    scales = [0.5, 1.0]
    probs = multiscale_probs(model, image, scales, flip=False, average="probs")
    logits = multiscale_probs(model, image, scales, flip=False, average="logits")
    views = [multiscale_probs(model, image, [s], flip=False, average="logits") for s in scales]
    np.testing.assert_allclose(probs, np.mean(views, 0), atol=1e-6)
    np.testing.assert_allclose(logits.sum(0), 1.0, atol=1e-5)
    with pytest.raises(ConfigError, match="average"):
        multiscale_probs(model, image, scales, average="max")


def test_square_size_views_are_resized_back_to_the_image():
    yy, xx = np.mgrid[0:10, 0:14]
    image = np.stack([yy * 20, xx * 15, 200 - xx * 10], -1).astype(np.uint8)  # smooth: resizing keeps it
    model = PixelwiseModel()
    probs = multiscale_probs(model, image, flip=False, average="logits", sizes=[8, 16])
    assert probs.shape == (3, 10, 14)
    # A pixelwise model on a bilinear resize and back is close to the model on the image itself.
    direct = multiscale_probs(model, image, [1.0], flip=False, average="logits")
    assert np.abs(probs - direct).mean() < 0.02
    views = [multiscale_probs(model, image, flip=False, average="logits", sizes=[s]) for s in (8, 16)]
    assert not np.allclose(views[0], views[1])  # sizes, not scales, decide the views


def test_overlay_paints_objects_only():
    image = np.full((2, 3, 3), 100, np.uint8)
    label = np.array([[0, 1, 255], [2, 0, 1]], np.uint8)
    out = overlay(image, label, alpha=0.5)
    assert (out[label == 0] == 100).all() and (out[label == 255] == 100).all()
    expected = np.rint(0.5 * 100 + 0.5 * colorize(label)[0, 1].astype(float))
    np.testing.assert_array_equal(out[0, 1], expected)


@pytest.fixture
def segmenter(tmp_path):
    spec = SegmenterSpec("largefov", "efficientnet_lite0", ("background", "a", "b"), 16)
    torch.manual_seed(0)
    save_model(tmp_path / "seg.pt", build_segmenter(spec).eval(), spec)
    return tmp_path / "seg.pt"


def write_images(folder):
    rng = np.random.default_rng(0)
    io.write_jpeg(folder / "one.jpg", rng.integers(0, 255, (40, 56, 3), dtype=np.uint8))
    io.write_jpeg(folder / "nested" / "two.jpg", rng.integers(0, 255, (33, 30, 3), dtype=np.uint8))
    io.write_bytes(folder / "broken.png", b"not a png")
    io.write_text(folder / "notes.txt", "ignored")


def test_predict_writes_labels_and_overlays_and_reports_bad_files(tmp_path, segmenter):
    write_images(tmp_path / "in")
    params = InferSegParams(split="", scales=[0.5, 1.0], device="cpu")
    written, errors = predict(segmenter, [tmp_path / "in"], tmp_path / "out", params)
    assert written == 2
    assert len(errors) == 1 and "broken.png" in errors[0]
    label = io.read_label_png(tmp_path / "out" / "nested" / "two.png", 3)
    assert label.shape == (33, 30)
    assert io.read_image(tmp_path / "out" / "one_overlay.jpg").shape == (40, 56, 3)


def test_with_skips_yields_one_item_per_input_file():
    errors: list[str] = []

    def labels():                       # the reader skips a file before the 1st and two after the 2nd
        errors.append("a")
        yield "L1"
        yield "L2"
        errors.extend(["b", "c"])

    assert list(with_skips(labels(), errors)) == ["L1", None, "L2", None, None]
    assert list(with_skips(iter([]), ["x"])) == [None]


def test_predict_progress_counts_skipped_files(tmp_path, segmenter, monkeypatch):
    import wsss.segment as segment

    counted = []

    def counting(iterable, total=None, **_):
        for item in iterable:
            counted.append(item)
            yield item

    monkeypatch.setattr(segment, "progress", counting)
    write_images(tmp_path / "in")       # two images and one broken file
    predict(segmenter, [tmp_path / "in"], tmp_path / "out", InferSegParams(split="", scales=[1.0], device="cpu"))
    assert len(counted) == 3


def test_predict_with_crf_matches_file_order(tmp_path, segmenter):
    write_images(tmp_path / "in")
    params = InferSegParams(split="", scales=[1.0], crf="mcis", crf_workers=2, device="cpu")
    written, _ = predict(segmenter, [tmp_path / "in" / "one.jpg", tmp_path / "in" / "nested"], tmp_path / "out", params)
    assert written == 2
    assert io.read_label_png(tmp_path / "out" / "one.png").shape == (40, 56)
    assert io.read_label_png(tmp_path / "out" / "two.png").shape == (33, 30)


def test_predict_crf_backends_agree(tmp_path, segmenter):
    """The torch CRF in this process (crf_workers 1) gives pydensecrf's labels from a worker pool."""
    write_images(tmp_path / "in")
    inputs = [tmp_path / "in" / "one.jpg", tmp_path / "in" / "nested"]
    for backend, workers in (("pydensecrf", 2), ("torch", 1)):
        params = InferSegParams(split="", scales=[1.0], crf="seam", crf_workers=workers, crf_backend=backend,
                                device="cpu")
        assert predict(segmenter, inputs, tmp_path / backend, params)[0] == 2
    for name in ("one.png", "two.png"):
        reference = io.read_label_png(tmp_path / "pydensecrf" / name)
        assert (io.read_label_png(tmp_path / "torch" / name) == reference).mean() >= 0.999
    result = CliRunner().invoke(app, ["predict", str(segmenter), str(inputs[0]), "-o", str(tmp_path / "bad"),
                                      "--crf", "seam", "--crf-backend", "cuda-crf", "--device", "cpu"])
    assert result.exit_code == 1 and "CRF backend 'cuda-crf' is not one of pydensecrf, torch" in result.output


def test_image_files_errors():
    with pytest.raises(DataError, match="no such file"):
        image_files(["/nonexistent/folder"])


def test_predict_cli(tmp_path, segmenter):
    write_images(tmp_path / "in")
    result = CliRunner().invoke(app, ["predict", str(segmenter), str(tmp_path / "in"), "-o", str(tmp_path / "out"),
                                      "--scales", "1.0", "--no-flip", "--device", "cpu"])
    assert result.exit_code == 1  # one unreadable file
    assert "wrote 2 label maps" in result.output and "broken.png" in result.output
    result = CliRunner().invoke(app, ["predict", str(segmenter), str(tmp_path / "in" / "one.jpg"), "-o",
                                      str(tmp_path / "out2"), "--crf", "bogus", "--device", "cpu"])
    assert result.exit_code == 1 and "crf 'bogus'" in result.output


def test_class_mismatch_names_the_checkpoint():
    from wsss.inference import check_class_names

    check_class_names(("background", "a"), ["background", "a"], "seg.pt")
    with pytest.raises(DataError, match="seg.pt: trained for classes"):
        check_class_names(("background", "a"), ["background", "b"], "seg.pt")


def test_segmentation_loss_ignores_255_and_survives_fully_ignored_batches():
    from wsss.losses.segmentation import segmentation_loss

    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 1)
    image = torch.randn(2, 3, 4, 4)
    label = torch.randint(0, 3, (2, 4, 4))
    label[0, :2] = 255
    loss = segmentation_loss(model, {"image": image, "label": label})["loss"]
    expected = torch.nn.functional.cross_entropy(model(image), label, ignore_index=255)
    torch.testing.assert_close(loss, expected)
    ignored = segmentation_loss(model, {"image": image, "label": torch.full_like(label, 255)})["loss"]
    assert float(ignored.detach()) == 0.0
    ignored.backward()  # a zero loss with a graph, not NaN


def test_prefetched_keeps_order_and_bounds_lookahead():
    import threading

    from wsss.progress import prefetched

    consumed = []

    def items():
        for k in range(20):
            consumed.append(k)
            yield k

    started = threading.Event()

    def square(k):
        started.set()
        return k * k

    results = []
    for value in prefetched(square, items(), workers=3, ahead=4):
        results.append(value)
        if len(results) == 1:
            assert len(consumed) <= 5  # at most `ahead` items in flight plus the one refilled
    assert results == [k * k for k in range(20)] and started.is_set()


def test_runner_with_prefetched_views_matches_direct_calls(tmp_path, segmenter):
    from wsss.segment import SegmentationRunner

    images = [np.random.default_rng(k).integers(0, 255, (20 + k, 30, 3), dtype=np.uint8) for k in range(5)]
    params = InferSegParams(scales=[0.5, 1.0], flip=True, crf="none", device="cpu")
    runner = SegmentationRunner(segmenter, params)
    direct = [multiscale_probs(runner.model, image, [0.5, 1.0], True).argmax(0) for image in images]
    for got, expected in zip(runner.run(range(5), load=lambda k: images[k]), direct, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_predict_names_keep_inner_dots_and_refuse_collisions(tmp_path, segmenter):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)
    io.write_jpeg(tmp_path / "in" / "my.photo.v2.jpg", image)
    params = InferSegParams(split="", scales=[1.0], flip=False, device="cpu")
    written, _ = predict(segmenter, [tmp_path / "in"], tmp_path / "out", params)
    assert written == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["my.photo.v2.png", "my.photo.v2_overlay.jpg"]
    Image.fromarray(image).save(tmp_path / "in" / "my.photo.v2.png")
    with pytest.raises(DataError, match=r"my\.photo\.v2\.jpg and .*my\.photo\.v2\.png would both write"):
        predict(segmenter, [tmp_path / "in"], tmp_path / "out3", params)
    assert not (tmp_path / "out3").exists()  # refused before anything was written


def test_gated_probabilities_drop_unseen_classes_and_sum_to_one():
    from wsss.segment import gated

    probs = np.array([[[0.2]], [[0.5]], [[0.3]]], np.float32)
    out = gated(probs, np.array([True, False, True]))
    np.testing.assert_allclose(out[:, 0, 0], [0.4, 0.0, 0.6], rtol=1e-6)


def _classifier(tmp_path, method, names, signs):
    """A classifier whose logit for each class is ``sign`` × the sum of the (non-negative) features."""
    from wsss.models.classifier import ClassifierSpec, build_classifier

    spec = ClassifierSpec(method, "efficientnet_lite0", len(names) - 1, 16, tuple(names))
    torch.manual_seed(0)
    model = build_classifier(spec).eval()
    with torch.no_grad():
        model.fc8.weight.copy_(torch.tensor(signs)[:, None, None, None].expand_as(model.fc8.weight))
    path = tmp_path / f"cls_{method}.pt"
    save_model(path, model, spec)
    return path


@pytest.mark.parametrize("method, signs", [("cam", [-1.0, 1.0]), ("seam", [0.0, -1.0, 1.0])])
def test_a_classifier_gates_the_classes_the_segmenter_may_predict(tmp_path, segmenter, method, signs):
    from wsss.segment import SegmentationRunner

    names = ("background", "a", "b")
    image = np.random.default_rng(1).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    params = InferSegParams(scales=[1.0], device="cpu", class_threshold=0.5)
    classifier = _classifier(tmp_path, method, names, signs)    # scores: a near 0, b near 1
    runner = SegmentationRunner(segmenter, params, classifier)
    np.testing.assert_array_equal(runner.seen_classes(image), [True, False, True])
    probs = runner.probs(image)
    assert probs[1].max() == 0 and np.allclose(probs.sum(0), 1, atol=1e-5)
    ungated = SegmentationRunner(segmenter, params).probs(image)
    assert ungated[1].max() > 0


def test_a_classifier_of_other_classes_is_refused(tmp_path, segmenter):
    from wsss.segment import SegmentationRunner

    classifier = _classifier(tmp_path, "cam", ("background", "x", "y"), [1.0, 1.0])
    with pytest.raises(ConfigError, match="classes differ"):
        SegmentationRunner(segmenter, InferSegParams(scales=[1.0], device="cpu", class_threshold=0.5), classifier)


def test_upsampled_argmax_is_the_argmax_of_bilinear_probabilities():
    """Class by class (bounded memory), the labels of torch's bilinear resize of all probabilities."""
    import torch.nn.functional as F

    from wsss.segment import upsampled_argmax

    probs = torch.rand(4, 9, 13).softmax(0)
    full = F.interpolate(probs[None], (50, 71), mode="bilinear", align_corners=False)[0].argmax(0).numpy()
    label = upsampled_argmax(probs.numpy(), (50, 71))
    assert label.shape == (50, 71) and label.dtype == np.uint8
    assert (label == full).mean() > 0.995          # cv2 and torch differ only in float rounding at ties
    np.testing.assert_array_equal(upsampled_argmax(probs.numpy(), (9, 13)), probs.argmax(0).numpy())


def test_max_side_segments_a_large_photo_shrunk_with_labels_at_full_size(tmp_path, segmenter, caplog):
    import logging

    from wsss.segment import reduced

    image = np.random.default_rng(0).integers(0, 255, (90, 150, 3), dtype=np.uint8)
    assert reduced(image, 60).shape == (36, 60, 3) and reduced(image, 150) is image and reduced(image, 0) is image
    io.write_jpeg(tmp_path / "big.jpg", image)
    for max_side, folder in ((60, "small"), (0, "full")):
        params = InferSegParams(split="", scales=[1.0], device="cpu", max_side=max_side)
        with caplog.at_level(logging.INFO, logger="wsss.segment"):
            assert predict(segmenter, [tmp_path / "big.jpg"], tmp_path / folder, params) == (1, [])
        assert io.read_label_png(tmp_path / folder / "big.png", 3).shape == (90, 150)
    assert "150×90 image segmented at 60×36 (max_side 60)" in caplog.text
    result = CliRunner().invoke(app, ["predict", str(segmenter), str(tmp_path / "big.jpg"), "-o", str(tmp_path / "c"),
                                      "--max-side", "-1", "--device", "cpu"])
    assert result.exit_code == 1 and "--max_side: -1 is out of range (allowed: >= 0)" in result.output
