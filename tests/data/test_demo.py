import hashlib

import cv2
import numpy as np
import pytest

from wsss import io
from wsss.data.demo import DEMO_CLASSES, DEMO_PARTS, PART_BODY, PART_PART, DemoConfig, generate_demo, render_image

SMALL = DemoConfig(num_train=12, num_val=4)


def _digest(root):
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_same_seed_gives_identical_bytes(tmp_path):
    generate_demo(tmp_path / "a", SMALL)
    generate_demo(tmp_path / "b", SMALL)
    generate_demo(tmp_path / "c", DemoConfig(seed=1, num_train=12, num_val=4))
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_changing_val_count_keeps_train_images(tmp_path):
    generate_demo(tmp_path / "a", SMALL)
    generate_demo(tmp_path / "b", DemoConfig(num_train=12, num_val=2))
    for i in range(12):
        name = f"JPEGImages/train_{i:05d}.jpg"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("index", range(8))
def test_sample_properties(index):
    config = DemoConfig()
    image, labels, parts, saliency = render_image(np.random.default_rng([7, 0, index]), config)
    h, w = labels.shape
    assert config.min_size <= h <= config.max_size and config.min_size <= w <= config.max_size
    assert image.shape == (h, w, 3) and image.dtype == np.uint8
    present = set(np.unique(labels)) - {0, 255}
    assert 1 <= len(present) <= config.max_objects
    assert present <= set(range(1, len(DEMO_CLASSES)))
    assert 255 in labels  # the boundary band
    # Parts and bodies are both in the ground truth, and the part is the small piece of each object.
    for c in present:
        region = labels == c
        part_area = (region & (parts == PART_PART)).sum()
        body_area = (region & (parts == PART_BODY)).sum()
        assert part_area > 0 and body_area > 0
        assert part_area < 0.5 * body_area
    # Saliency follows the foreground but is imperfect.
    fg = (labels > 0) & (labels < 255)
    bg = labels == 0
    assert saliency[fg].mean() > saliency[bg].mean() + 100
    assert saliency.shape == (h, w)


def test_part_fraction_over_many_images():
    config = DemoConfig()
    part, obj = 0, 0
    for index in range(30):
        _, labels, parts, _ = render_image(np.random.default_rng([3, 0, index]), config)
        part += (parts == PART_PART).sum()
        obj += ((labels > 0) & (labels < 255)).sum()
    assert 0.05 < part / obj < 0.3


def test_written_layout(tmp_path):
    splits = generate_demo(tmp_path, SMALL)
    assert len(splits["train"]) == 12 and len(splits["val"]) == 4
    image_id = splits["val"][0]
    label = io.read_label_png(tmp_path / "SegmentationClass" / f"{image_id}.png", len(DEMO_CLASSES))
    assert io.read_image(tmp_path / "JPEGImages" / f"{image_id}.jpg").shape[:2] == label.shape
    assert (tmp_path / "ImageSets/Segmentation/val.txt").read_text().split() == splits["val"]


def test_body_cue_tints_only_bodies_towards_their_part_colour():
    # The same stream with and without the cue: the background and the parts are unchanged, and the
    # inside of every body moves by body_cue × (part colour − its grey level).
    rng_args = [7, 0, 3]
    plain, labels, parts, _ = render_image(np.random.default_rng(rng_args), DemoConfig(body_cue=0.0))
    tinted, labels2, _, _ = render_image(np.random.default_rng(rng_args), DemoConfig(body_cue=0.2))
    assert np.array_equal(labels, labels2)
    shift = tinted.astype(np.float32) - plain.astype(np.float32)
    far = cv2.erode((labels == 0).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.abs(shift[far]).max() == 0
    for c in set(np.unique(labels)) - {0, 255}:
        inside = cv2.erode(((labels == c) & (parts == PART_BODY)).astype(np.uint8), np.ones((9, 9), np.uint8))
        colour = np.array(DEMO_PARTS[c - 1][1], np.float32)
        expected = 0.2 * (colour - colour.mean())
        moved = shift[inside.astype(bool)].mean(axis=0)  # clipping at 255 can only shorten the move
        assert np.all(np.abs(moved - expected) <= np.abs(expected) * 0.25 + 1.0), (c, moved, expected)
