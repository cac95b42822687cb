"""A miniature SEAM → CRF → AffinityNet → random walk → DeepLab run through the library, end to end on CPU."""

import numpy as np
import pytest

from tests.pipeline_checks import tiny_demo
from wsss import io, metrics
from wsss.cams.infer import infer_cams
from wsss.config import InferSegParams, TrainSegParams, from_dict
from wsss.data.dataset import Dataset
from wsss.errors import DataError
from wsss.evaluate import evaluate_cams, evaluate_label_maps
from wsss.params.seam import (
    CrfStageParams,
    InferCamParams,
    RandomWalkParams,
    TrainAffParams,
    TrainClsParams,
)
from wsss.refine.crf_labels import run_crf
from wsss.refine.walk_labels import run_random_walk
from wsss.segment import SegmentationRunner, infer_segmentation
from wsss.train.affinity import train_affinity
from wsss.train.classifier import train_classifier
from wsss.train.segmentation import train_segmenter

ENGINE = {"epochs": 1, "batch_size": 4, "num_workers": 0, "checkpoint_every": 0, "log_every": 1}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    tiny_demo(root / "data")
    cls = from_dict(TrainClsParams, {"method": "seam", "resize_long": [64, 96], "crop": 64, "engine": ENGINE})
    train_classifier(root / "data", cls, root / "seam.pt", root / "work", root / "live")
    infer_cams(root / "data", root / "seam.pt", InferCamParams(scales=[1.0]), root / "cams")
    run_crf(root / "data", root / "cams", CrfStageParams(workers=1), 0.3, root / "la", root / "ha", root / "dcrf")
    aff = from_dict(TrainAffParams, {"crop": 64, "engine": ENGINE})
    train_affinity(root / "data", root / "la", root / "ha", aff, root / "aff.pt", root / "work_aff")
    run_random_walk(root / "data", root / "cams", root / "aff.pt", RandomWalkParams(logt=3), root / "rw")
    seg = from_dict(TrainSegParams, {"crop": 64, "output_stride": 16, "engine": ENGINE})
    train_segmenter(root / "data", root / "rw", seg, root / "seg.pt", root / "work_seg", root / "live_seg")
    infer_segmentation(root / "data", root / "seg.pt", InferSegParams(scales=[0.75, 1.0]), root / "seg")
    return root


def test_every_artifact_is_complete(run):
    dataset = Dataset(run / "data")
    cams, la = io.CamShardReader(run / "cams"), io.CamShardReader(run / "la")
    for image_id in dataset.ids("train"):
        shape = dataset.read_mask(image_id).shape
        classes, maps = cams.read(image_id)
        np.testing.assert_array_equal(classes, np.flatnonzero(dataset.labels(image_id)))
        assert maps.shape[1:] == shape and 0 <= maps.min() and maps.max() <= 1
        label_ids, probs = la.read(image_id)
        assert label_ids[0] == 0 and probs.shape == (len(classes) + 1, *shape)
        for folder in ("rw", "dcrf"):
            labels = io.read_label_png(io.find_label_map(run / folder, image_id), dataset.num_classes)
            assert labels.shape == shape
            assert set(np.unique(labels)) <= {0, *(classes + 1).tolist()}


def test_evaluations_run(run):
    dataset = Dataset(run / "data")
    curve = evaluate_cams(run / "data", "train", run / "cams", workers=1)
    assert curve.shape == (60, 7, 7)
    # The parallel evaluation equals confusion matrices built image by image from the files.
    reader = io.CamShardReader(run / "cams")
    by_hand_cam = np.zeros((7, 7), np.int64)
    by_hand_rw = np.zeros((7, 7), np.int64)
    for image_id in dataset.ids("train"):
        gt = dataset.read_mask(image_id)
        classes, maps = reader.read(image_id)
        by_hand_cam += metrics.confusion_matrix(gt, metrics.cam_prediction(classes, maps, 0.3, gt.shape), 7)
        labels = io.read_label_png(io.find_label_map(run / "rw", image_id), 7)
        by_hand_rw += metrics.confusion_matrix(gt, labels, 7)
    np.testing.assert_array_equal(curve[30], by_hand_cam)  # threshold 0.30
    rw = evaluate_label_maps(run / "data", "train", run / "rw", workers=1)
    np.testing.assert_array_equal(rw, by_hand_rw)
    assert rw.sum() == sum((dataset.read_mask(i) != 255).sum() for i in dataset.ids("train"))
    assert (run / "live" / "plots" / "metrics" / "train" / "ecr.tsv").is_file()
    # The segmenter's val labels: written for every val image, scored as the files say, and what the
    # trained network predicts (a stale or misplaced output folder fails here).
    seg = evaluate_label_maps(run / "data", "val", run / "seg", workers=1)
    by_hand_seg = np.zeros((7, 7), np.int64)
    for image_id in dataset.ids("val"):
        labels = io.read_label_png(io.find_label_map(run / "seg", image_id), 7)
        by_hand_seg += metrics.confusion_matrix(dataset.read_mask(image_id), labels, 7)
    np.testing.assert_array_equal(seg, by_hand_seg)
    first = dataset.ids("val")[0]
    runner = SegmentationRunner(run / "seg.pt", InferSegParams(scales=[0.75, 1.0]))
    again = next(runner.run([dataset.read_image(first)]))
    np.testing.assert_array_equal(again, io.read_label_png(io.find_label_map(run / "seg", first), 7))
    assert (run / "live_seg" / "plots" / "metrics" / "train" / "loss.tsv").is_file()


def test_training_is_deterministic(tmp_path, run):
    """Same params, same seed: identical weights (head initialisation included)."""
    import torch

    cls = from_dict(TrainClsParams, {"method": "cam", "resize_long": [64, 96], "crop": 64, "engine": ENGINE})
    for name in ("a", "b"):
        train_classifier(run / "data", cls, tmp_path / f"{name}.pt", tmp_path / f"work_{name}")
    a = torch.load(tmp_path / "a.pt", weights_only=False)["state_dict"]
    b = torch.load(tmp_path / "b.pt", weights_only=False)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_affinity_training_refuses_incomplete_crf_folders_before_it_starts(tmp_path, run):
    import shutil

    dataset = Dataset(run / "data")
    ids = dataset.ids("train")
    shutil.copytree(run / "la", tmp_path / "la")
    # A CRF folder without one training image's probabilities: named, counted, before any batch loads.
    source = io.CamShardReader(run / "la")
    with io.CamShardWriter(tmp_path / "partial", source.num_shards) as writer:
        for image_id in ids[1:]:
            writer.write(image_id, *source.read(image_id))
    aff = from_dict(TrainAffParams, {"crop": 64, "engine": ENGINE})
    with pytest.raises(DataError, match=rf"partial: no CRF probabilities for 1 of the {len(ids)} train .*{ids[0]}"):
        train_affinity(run / "data", tmp_path / "la", tmp_path / "partial", aff, tmp_path / "aff.pt", tmp_path / "w")
    with pytest.raises(DataError, match="nothing: not a localisation-map folder"):
        train_affinity(run / "data", tmp_path / "nothing", tmp_path / "la", aff, tmp_path / "aff.pt", tmp_path / "w")
    assert not (tmp_path / "aff.pt").exists() and not (tmp_path / "w").exists()


def test_affinity_from_pseudo_label_maps(run, tmp_path):
    """train_aff.labels = a label folder: pure cells train, the crop's padding is ignored (not background),
    and a training run writes a model the walk can use."""
    from wsss.train.affinity import AffinityItems

    aff = from_dict(TrainAffParams, {"labels": str(run / "dcrf"), "crop": 256, "engine": ENGINE})
    items = AffinityItems(str(run / "data"), "", "", aff, [0.0] * 3, [1.0] * 3, label_dir=str(run / "dcrf"))
    item = items(0, np.random.default_rng(0))
    image_id = item["id"]
    h, w = Dataset(run / "data").read_mask(image_id).shape
    known = (h // 8) * (w // 8)      # the crop (256) is larger than the image: padding cells are unknown
    assert item["bg"].sum() + item["fg"].sum() + item["neg"].sum() <= known * item["bg"].shape[0]
    assert item["bg"].sum() > 0
    train_affinity(run / "data", "", "", from_dict(TrainAffParams, {"crop": 64, "engine": ENGINE}),
                   tmp_path / "aff.pt", tmp_path / "w", label_dir=run / "dcrf")
    run_random_walk(run / "data", run / "cams", tmp_path / "aff.pt", RandomWalkParams(logt=2), tmp_path / "rw")
    with pytest.raises(DataError, match="nothing: label-map folder not found"):
        train_affinity(run / "data", "", "", aff, tmp_path / "b.pt", tmp_path / "w2", label_dir=tmp_path / "nothing")
