import numpy as np
import pytest

from wsss import io
from wsss.data.dataset import Dataset
from wsss.data.folder import index_folder
from wsss.errors import DataError


@pytest.fixture
def custom(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("a", "b", "c"):
        io.write_jpeg(tmp_path / "img" / f"{name}.jpg", rng.integers(0, 255, (20, 20, 3), dtype=np.uint8))
    io.write_text(tmp_path / "classes.txt", "leaf\nstem\nfruit\n")
    io.write_text(tmp_path / "labels.csv", "image,labels,split\na.jpg,leaf stem,train\nb.jpg,fruit,train\nc.jpg,leaf|fruit,val\n")
    return tmp_path


def test_custom_data_any_class_count(custom):
    sizes = index_folder(custom / "img", custom / "labels.csv", custom / "classes.txt", custom / "out")
    assert sizes == {"train": 2, "val": 1}
    dataset = Dataset(custom / "out")
    assert dataset.class_names == ["background", "leaf", "stem", "fruit"]
    np.testing.assert_array_equal(dataset.labels("a"), [1, 1, 0])
    np.testing.assert_array_equal(dataset.labels("c"), [1, 0, 1])
    assert dataset.read_image("b").shape == (20, 20, 3)


def test_unknown_class(custom):
    io.write_text(custom / "labels.csv", "image,labels\na.jpg,leaf root\n")
    with pytest.raises(DataError, match="root"):
        index_folder(custom / "img", custom / "labels.csv", custom / "classes.txt", custom / "out")


def test_duplicate_ids(custom):
    io.write_text(custom / "labels.csv", "image,labels\na.jpg,leaf\na.jpg,stem\n")
    with pytest.raises(DataError, match="duplicate"):
        index_folder(custom / "img", custom / "labels.csv", custom / "classes.txt", custom / "out")


def test_missing_image_and_folder(custom):
    io.write_text(custom / "labels.csv", "image,labels\nzz.jpg,leaf\n")
    with pytest.raises(DataError, match=r"zz\.jpg"):
        index_folder(custom / "img", custom / "labels.csv", custom / "classes.txt", custom / "out")
    with pytest.raises(DataError, match="nowhere"):
        index_folder(custom / "nowhere", custom / "labels.csv", custom / "classes.txt", custom / "out")


def test_empty_labels_dropped_by_default(custom):
    io.write_text(custom / "labels.csv", "image,labels\na.jpg,leaf\nb.jpg,\n")
    sizes = index_folder(custom / "img", custom / "labels.csv", custom / "classes.txt", custom / "out")
    assert sizes == {"train": 1}


def test_image_names_without_extension_say_what_to_write(custom):
    io.write_text(custom / "labels.csv", "image,labels\na,leaf\nb,stem\n")
    with pytest.raises(DataError, match=r"labels.csv: the image column must give file names with one extension "
                                         r"of .jpg, .jpeg, .png, .bmp \(e.g. photo1.jpg\); found: none$"):
        index_folder(custom / "img", custom / "labels.csv", custom / "classes.txt", custom / "out")


def test_evaluating_a_missing_label_folder_says_so(custom):
    from wsss.evaluate import evaluate_label_maps

    index_folder(custom / "img", custom / "labels.csv", custom / "classes.txt", custom / "out")
    with pytest.raises(DataError, match=r"nowhere: label-map folder not found$"):
        evaluate_label_maps(custom / "out", "train", custom / "nowhere")
