"""Repeat-factor sampling of the segmenter's training images (train_seg.repeat_threshold)."""

import numpy as np
import pytest

from tests.pipeline_checks import tiny_demo
from wsss.config import TrainSegParams, from_dict
from wsss.data.dataset import Dataset
from wsss.train.data import repeat_factor_ids
from wsss.train.segmentation import SegmentationItems


def test_rare_classes_repeat_by_the_square_root_of_threshold_over_frequency():
    ids = [f"img{i}" for i in range(10)]
    present = np.zeros((10, 3), bool)
    present[:, 0] = True          # everywhere: factor 1
    present[0, 1] = True          # 1 of 10 images: √(0.4 / 0.1) = 2
    present[1:4, 2] = True        # 3 of 10: √(0.4 / 0.3) = 1.15 → once
    repeated = repeat_factor_ids(ids, present, 0.4)
    assert repeated == ["img0", "img0", *ids[1:]]
    # at 0.9 the 3-in-10 class reaches √3 = 1.73 → twice, and the image with both rare classes takes the larger
    present[0, 2] = True          # now 4 of 10: √(0.9 / 0.4) = 1.5 → twice; class 1: √9 = 3
    counts = {i: repeat_factor_ids(ids, present, 0.9).count(i) for i in ids}
    assert counts == {"img0": 3, "img1": 2, "img2": 2, "img3": 2, **{f"img{i}": 1 for i in range(4, 10)}}


def test_a_threshold_below_every_frequency_keeps_each_image_once():
    ids = ["a", "b", "c", "d"]
    present = np.array([[1, 0], [1, 1], [0, 1], [1, 1]], bool)
    assert repeat_factor_ids(ids, present, 0.5) == ids


def test_rows_must_match_the_images():
    with pytest.raises(ValueError, match="3 label rows for 2 images"):
        repeat_factor_ids(["a", "b"], np.ones((3, 2), bool), 0.5)


def test_segmenter_items_repeat_the_images_of_rare_classes(tmp_path):
    data = tiny_demo(tmp_path / "data")
    dataset = Dataset(data)
    labels = dataset.mask_path(dataset.ids("train")[0]).parent   # the demo's ground truth as the label folder
    plain = SegmentationItems(str(data), str(labels), from_dict(TrainSegParams, {}), None, None)
    repeated = SegmentationItems(str(data), str(labels), from_dict(TrainSegParams, {"repeat_threshold": 1.0}), None, None)
    assert plain.ids == dataset.ids("train")
    present = np.array([dataset.labels(i) > 0 for i in plain.ids])
    assert repeated.ids == repeat_factor_ids(plain.ids, present, 1.0)
    assert len(repeated.ids) > len(plain.ids)   # at threshold 1 every class shown in fewer than all images repeats
