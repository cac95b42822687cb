
import numpy as np
import pytest

from wsss import io
from wsss.data.dataset import Dataset
from wsss.data.voc import index_voc, voc_splits
from wsss.errors import DataError
from tests.conftest import VOC_SAMPLE, write_xml


def test_splits_from_segmentation_class_aug(tiny_voc):
    splits = voc_splits(tiny_voc)
    assert splits["train"] == ["2007_000001", "2007_000002"]
    assert splits["val"] == ["2007_000003", "2008_000004"]
    # (Aug ids ∪ VOC train) − VOC val
    assert splits["train_aug"] == ["2007_000001", "2007_000002", "2008_000005", "2009_000006", "2010_000007"]


def test_splits_from_sbd_lists(tiny_voc, tmp_path):
    sbd = tmp_path / "sbd"
    io.write_text(sbd / "train.txt", "2008_000005\n2007_000003\n")
    io.write_text(sbd / "val.txt", "2009_000006\n")
    splits = voc_splits(tiny_voc, sbd)
    assert splits["train_aug"] == ["2007_000001", "2007_000002", "2008_000005", "2009_000006"]


def test_labels_from_xml_and_masks_agree(tiny_voc, tmp_path):
    index_voc(tiny_voc, tmp_path / "a", labels_from="xml")
    index_voc(tiny_voc, tmp_path / "b", labels_from="masks")
    a, b = Dataset(tmp_path / "a"), Dataset(tmp_path / "b")
    assert a.num_classes == 21
    for image_id in a.ids("train_aug") + a.ids("val"):
        np.testing.assert_array_equal(a.labels(image_id), b.labels(image_id))
    expected = np.zeros(20)
    expected[[7, 11]] = 1  # cat (8) and dog (12), 0-based over foreground
    np.testing.assert_array_equal(a.labels("2007_000002"), expected)
    assert a.read_mask("2007_000002").shape == (24, 32)
    assert a.read_image("2007_000002").shape == (24, 32, 3)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(DataError, match="VOC2012"):
        index_voc(tmp_path / "VOC2012", tmp_path / "out")


def test_unknown_xml_class_is_named(tiny_voc, tmp_path):
    write_xml(tiny_voc / "Annotations" / "2007_000001.xml", ["unicorn"])
    with pytest.raises(DataError, match=r"2007_000001\.xml.*unicorn"):
        index_voc(tiny_voc, tmp_path / "out", labels_from="xml")


def test_label_png_with_unknown_value_is_named(tiny_voc, tmp_path):
    bad = np.full((24, 32), 42, np.uint8)
    io.write_label_png(tiny_voc / "SegmentationClass" / "2007_000002.png", bad)
    with pytest.raises(DataError, match=r"2007_000002\.png.*\[42\]"):
        index_voc(tiny_voc, tmp_path / "out", labels_from="masks")


def test_empty_label_policy(tiny_voc, tmp_path):
    write_xml(tiny_voc / "Annotations" / "2007_000001.xml", [])
    with pytest.raises(DataError, match="2007_000001"):
        index_voc(tiny_voc, tmp_path / "e", labels_from="xml", empty_labels="error")
    sizes = index_voc(tiny_voc, tmp_path / "d", labels_from="xml", empty_labels="drop")
    assert sizes["train"] == 1 and "2007_000001" not in Dataset(tmp_path / "d").ids("train_aug")
    sizes = index_voc(tiny_voc, tmp_path / "k", labels_from="xml", empty_labels="keep")
    assert sizes["train"] == 2 and Dataset(tmp_path / "k").labels("2007_000001").sum() == 0


def test_duplicate_ids_in_list(tiny_voc, tmp_path):
    io.write_text(tiny_voc / "ImageSets" / "Segmentation" / "train.txt", "2007_000001\n2007_000001\n")
    with pytest.raises(DataError, match="duplicate"):
        index_voc(tiny_voc, tmp_path / "out")


def test_corrupt_image_is_named(tiny_voc, tmp_path):
    index_voc(tiny_voc, tmp_path / "out")
    (tiny_voc / "JPEGImages" / "2007_000001.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"2007_000001\.jpg"):
        Dataset(tmp_path / "out").read_image("2007_000001")


@pytest.mark.voc_sample
@pytest.mark.skipif(not VOC_SAMPLE.is_dir(), reason="voc-sample not present")
def test_real_voc_sample(tmp_path):
    sizes = index_voc(VOC_SAMPLE, tmp_path / "out")
    dataset = Dataset(tmp_path / "out")
    assert sizes["train"] == len((VOC_SAMPLE / "ImageSets/Segmentation/train.txt").read_text().split())
    first = dataset.ids("train")[0]
    mask = dataset.read_mask(first)
    assert mask.shape == dataset.read_image(first).shape[:2]
    present = set(np.unique(mask)) - {0, 255}
    assert {int(c) - 1 for c in present} == set(np.flatnonzero(dataset.labels(first)))
