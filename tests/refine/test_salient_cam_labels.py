"""Saliency-guided labels from any method's maps: saliency says where, the maps say which."""

import numpy as np
import pytest

from wsss import io
from wsss.config import SalientCamLabelsParams
from wsss.errors import DataError
from wsss.palette import IGNORE_INDEX
from wsss.refine.saliency_labels import MeanMaps, run_salient_cam_labels, salient_cam_label

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


def write_maps(root, maps_by_id: dict, classes=None) -> None:
    """One shard of maps; ``maps_by_id`` values are maps (of ``classes``) or (classes, maps) pairs."""
    with io.CamShardWriter(root, 1) as writer:
        for image_id, maps in maps_by_id.items():
            writer.write(image_id, *((classes, maps) if classes is not None else maps))


def test_one_folder_reads_as_stored_and_several_average_their_normalised_maps(tmp_path):
    seam = np.array([[[0.0, 0.5, 1.0]], [[0.2, 0.2, 0.6]]], np.float32)     # 2 classes, 1×3 maps
    cam = np.array([[[0.0, 0.25, 0.5]], [[0.0, 0.0, 0.0]]], np.float32)
    write_maps(tmp_path / "seam", {"a": seam}, [1, 4])
    write_maps(tmp_path / "cam", {"a": cam}, [1, 4])
    classes, maps = MeanMaps([tmp_path / "seam"]).read("a")
    np.testing.assert_array_equal(classes, [1, 4])
    np.testing.assert_allclose(maps, seam, atol=1e-3)                       # as stored (float16)
    classes, maps = MeanMaps([tmp_path / "seam", tmp_path / "cam"]).read("a")
    # per class and folder (x − min) / (max − min): seam [0, .5, 1], [0, 0, 1]; cam [0, .5, 1], [0, 0, 0]
    np.testing.assert_allclose(maps, [[[0.0, 0.5, 1.0]], [[0.0, 0.0, 0.5]]], atol=1e-3)


def test_folders_with_other_classes_for_an_image_are_refused_by_name(tmp_path):
    write_maps(tmp_path / "seam", {"a": np.ones((1, 2, 2), np.float32)}, [1])
    write_maps(tmp_path / "cam", {"a": np.ones((1, 2, 2), np.float32)}, [2])
    with pytest.raises(DataError, match=r"cam: image 'a' has maps of classes \[2\]"):
        MeanMaps([tmp_path / "seam", tmp_path / "cam"]).read("a")


def test_sal_labels_from_two_folders_follow_the_rule_on_the_mean(tmp_path):
    from tests.pipeline_checks import tiny_demo
    from wsss.data.dataset import Dataset

    data = tiny_demo(tmp_path / "data")
    dataset = Dataset(data)
    rng = np.random.default_rng(0)
    folders = {}
    for name in ("seam", "cam"):
        maps = {}
        for image_id in dataset.ids("train"):
            present = np.flatnonzero(dataset.labels(image_id))
            h, w = dataset.read_mask(image_id).shape
            maps[image_id] = (present, rng.random((len(present), h, w)).astype(np.float32))
        write_maps(tmp_path / name, maps)
        folders[name] = tmp_path / name
    params = SalientCamLabelsParams(workers=1)
    count = run_salient_cam_labels(data, [folders["seam"], folders["cam"]], params, tmp_path / "out")
    assert count == len(dataset.ids("train"))
    both = MeanMaps([folders["seam"], folders["cam"]])
    for image_id in dataset.ids("train"):
        classes, maps = both.read(image_id)
        saliency = dataset.read_saliency(image_id, maps.shape[1:])
        written = io.read_label_png(io.find_label_map(tmp_path / "out", image_id), dataset.num_classes)
        np.testing.assert_array_equal(written, salient_cam_label(maps, classes, saliency, params))


@pytest.mark.parametrize("cams", [[], ["seam", "seam"]])
def test_the_stage_refuses_no_or_repeated_map_folders_before_reading_any(tmp_path, monkeypatch, cams):
    import yaml

    from stages import sal_labels
    from wsss.errors import ConfigError

    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"sal_labels": {"cams": cams}}))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="sal_labels.cams"):
        sal_labels.run()
