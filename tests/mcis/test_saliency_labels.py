import numpy as np
import pytest

from wsss.config import McisLabelsParams
from wsss.refine.saliency_labels import saliency_pseudo_label

P = McisLabelsParams()


def scene():
    """A 10×10 image: class 0 (label 1) on the left object, class 2 (label 3) on the right one."""
    saliency = np.zeros((10, 10), np.float32)
    saliency[2:8, 1:5] = 1.0
    saliency[2:8, 6:9] = 1.0
    maps = np.zeros((2, 10, 10), np.float32)
    maps[0, 2:8, 1:5] = 0.8
    maps[1, 2:8, 6:9] = 0.9
    maps[0, 0, 0] = 0.0  # min 0 so min-max keeps the values
    return maps, np.array([0, 2]), saliency


def test_salient_objects_take_their_class_and_background_stays():
    maps, classes, saliency = scene()
    label = saliency_pseudo_label(maps, classes, saliency, P)
    assert (label[2:8, 1:5] == 1).all() and (label[2:8, 6:9] == 3).all()
    assert (label[0] == 0).all() and label[9, 9] == 0


def test_salient_pixels_without_a_class_are_ignored():
    maps, classes, saliency = scene()
    saliency[9, 0:3] = 0.5               # salient (≥ 32/255) but no map: background would be wrong
    label = saliency_pseudo_label(maps, classes, saliency, P)
    assert (label[9, 0:3] == 255).all()
    saliency[9, 5] = 20 / 255            # below bg_saliency: still background
    assert saliency_pseudo_label(maps, classes, saliency, P)[9, 5] == 0


def test_confident_map_overrides_missing_saliency_and_conflicts_are_ignored():
    maps, classes, saliency = scene()
    maps[0, 0, 8] = 1.0                  # att > 0.95 outside the saliency: salient, labelled by the map
    maps[1, 0, 8] = 1.0                  # both classes above 0.99 there: conflict
    label = saliency_pseudo_label(maps, classes, saliency, P)
    assert label[0, 8] == 255


def test_weak_scores_are_zeroed_before_the_argmax():
    maps, classes, saliency = scene()
    saliency[:] = 0.75                   # background score 0.25 < 0.3 everywhere -> zeroed
    maps[:, 0, :] = 0.0
    label = saliency_pseudo_label(maps, classes, saliency, P)
    # all scores 0 on row 0 -> argmax 0 (background), but it is salient -> ignored
    assert (label[0] == 255).all()


def test_images_with_almost_no_foreground_are_ignored_entirely():
    maps, classes, saliency = scene()
    saliency[:] = 0.0
    saliency[5, 5] = 1.0
    maps[:] = 0.0
    maps[0, 5, 5] = 1.0
    label = saliency_pseudo_label(maps, classes, saliency, P)   # 1 % of 100 pixels: exactly at the rule
    assert (label == 255).all() == (1 / 100 < P.min_foreground)
    label = saliency_pseudo_label(maps, classes, saliency, McisLabelsParams(min_foreground=0.02))
    assert (label == 255).all()


def test_size_mismatch_is_an_error():
    maps, classes, saliency = scene()
    with pytest.raises(ValueError, match="differ in size"):
        saliency_pseudo_label(maps, classes, saliency[:-1], P)
