"""Saliency-guided labels from any method's maps: saliency says where, the maps say which."""

import numpy as np

from wsss.config import SalientCamLabelsParams
from wsss.palette import IGNORE_INDEX
from wsss.refine.saliency_labels import salient_cam_label

P = SalientCamLabelsParams(foreground=0.5, background=0.3, confident_map=0.9, min_map=0.05)


def test_each_pixel_follows_the_rule_by_hand():
    classes = np.array([2, 7])                     # 0-based: label ids 3 and 8
    maps = np.zeros((2, 1, 6), np.float32)
    maps[0, 0] = [0.6, 0.2, 0.0, 0.95, 0.3, 0.01]
    maps[1, 0] = [0.1, 0.4, 0.0, 0.10, 0.3, 0.02]
    saliency = np.array([[0.9, 0.9, 0.1, 0.1, 0.4, 0.8]], np.float32)
    label = salient_cam_label(maps, classes, saliency, P)
    # salient → highest map; not salient → background; confident map beats saliency;
    # in between → ignored; salient but no map reaches min_map → ignored
    np.testing.assert_array_equal(label[0], [3, 8, 0, 3, IGNORE_INDEX, IGNORE_INDEX])


def test_an_image_without_classes_is_background_where_not_salient():
    saliency = np.array([[0.0, 0.9]], np.float32)
    label = salient_cam_label(np.zeros((0, 1, 2), np.float32), np.zeros(0, np.int64), saliency, P)
    np.testing.assert_array_equal(label[0], [0, IGNORE_INDEX])


def test_a_confident_map_above_one_never_overrides_saliency():
    maps = np.ones((1, 1, 2), np.float32)
    label = salient_cam_label(maps, np.array([0]), np.array([[0.0, 1.0]], np.float32),
                              SalientCamLabelsParams(confident_map=1.1))
    np.testing.assert_array_equal(label[0], [0, 1])
