import numpy as np
import pytest

from wsss import metrics


def test_confusion_hand_computed():
    gt = np.array([[0, 0, 1], [1, 2, 255]], np.uint8)
    pred = np.array([[0, 1, 1], [2, 2, 0]], np.uint8)
    c = metrics.confusion_matrix(gt, pred, 3)
    assert c.dtype == np.int64
    np.testing.assert_array_equal(c, [[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    s = metrics.scores(c, ["bg", "a", "b"])
    # class a: TP 1, T 2, P 2 -> IoU 1/3; class b: TP 1, T 1, P 2 -> 1/2; bg: TP 1, T 2, P 1 -> 1/2
    assert s["iou_a"] == pytest.approx(1 / 3)
    assert s["iou_b"] == pytest.approx(1 / 2)
    assert s["iou_bg"] == pytest.approx(1 / 2)
    assert s["miou"] == pytest.approx((1 / 3 + 1 / 2 + 1 / 2) / 3)
    assert s["pixel_acc"] == pytest.approx(3 / 5)
    # FP_b = (P−TP)/union = 1/2, FN_b = 0; FP_a = 1/3, FN_a = 1/3
    assert s["mfp"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert s["mfn"] == pytest.approx((1 / 3 + 0) / 2)


def test_iou_fp_fn_sum_to_one():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 5, (50, 60)).astype(np.uint8)
    gt[rng.random(gt.shape) < 0.1] = 255
    pred = rng.integers(0, 5, (50, 60)).astype(np.uint8)
    parts = metrics.per_class(metrics.confusion_matrix(gt, pred, 5))
    np.testing.assert_allclose(parts["iou"] + parts["fp"] + parts["fn"], 1.0)


def test_ignored_prediction_is_a_miss():
    gt = np.array([[1, 1]], np.uint8)
    pred = np.array([[1, 255]], np.uint8)
    c = metrics.confusion_matrix(gt, pred, 2)
    assert c.sum() == 1 and c[1, 1] == 1
    assert metrics.scores(c)["iou_1"] == 1.0
    assert metrics.per_class(c)["fn"][1] == 0  # the miss is not counted as a prediction


def test_absent_class_has_no_iou():
    gt = np.zeros((4, 4), np.uint8)
    s = metrics.scores(metrics.confusion_matrix(gt, gt, 3))
    assert s["iou_1"] is None and s["miou"] == 1.0


def test_threshold_confusions_match_brute_force():
    rng = np.random.default_rng(3)
    num_classes = 6
    gt = rng.integers(0, num_classes, (40, 30)).astype(np.uint8)
    gt[:3] = 255
    classes = np.array([1, 4])
    maps = rng.random((2, 40, 30)).astype(np.float16).astype(np.float32)
    maps[0, 0, 0] = 0.25  # exactly on a threshold: background wins the tie
    thresholds = [i / 100 for i in range(60)]
    fast = metrics.cam_threshold_confusions(gt, classes, maps, num_classes, thresholds)
    for t, confusion in zip(thresholds, fast):
        pred = metrics.cam_prediction(classes, maps, t, gt.shape)
        np.testing.assert_array_equal(confusion, metrics.confusion_matrix(gt, pred, num_classes))


def test_threshold_confusions_without_maps():
    gt = np.array([[0, 2]], np.uint8)
    out = metrics.cam_threshold_confusions(gt, np.array([], int), np.zeros((0, 1, 2), np.float32), 3, [0.1, 0.2])
    np.testing.assert_array_equal(out[0], [[1, 0, 0], [0, 0, 0], [1, 0, 0]])


def test_background_sweep_defaults_to_seams_and_extends():
    from wsss.metrics import SEAM_THRESHOLDS, background_thresholds

    assert background_thresholds() == SEAM_THRESHOLDS and len(SEAM_THRESHOLDS) == 60
    extended = background_thresholds(0.8)
    assert extended[:60] == SEAM_THRESHOLDS and extended[-1] == 0.8 and len(extended) == 81
