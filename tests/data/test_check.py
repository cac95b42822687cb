"""prepare decodes every file up front: bad files are one line naming them (or skipped and listed)."""

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from wsss import io
from wsss.cli import app
from wsss.config import FolderSource, PrepareParams
from wsss.data.check import BAD_IMAGES_FILE
from wsss.data.dataset import Dataset
from wsss.data.prepare import prepare_dataset
from wsss.errors import DataError


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        io.write_jpeg(tmp_path / "img" / f"{name}.jpg", rng.integers(0, 255, (20, 30, 3), dtype=np.uint8))
        io.write_label_png(tmp_path / "masks" / f"{name}.png", np.ones((20, 30), np.uint8))
    io.write_text(tmp_path / "classes.txt", "leaf\nstem\nfruit\n")
    io.write_text(tmp_path / "labels.csv", "image,labels\na.jpg,leaf\nb.jpg,stem\nc.jpg,fruit\n")
    return tmp_path


def params(root, bad_images="error", masks=True):
    source = FolderSource(images=str(root / "img"), labels_csv=str(root / "labels.csv"),
                          classes=str(root / "classes.txt"), masks=str(root / "masks") if masks else "")
    return PrepareParams(source="folder", folder=source, bad_images=bad_images, check_workers=1)


def truncated_jpeg(path):
    path.write_bytes(path.read_bytes()[:200])


def text_as_jpeg(path):
    path.write_text("not an image")


def mask_value_37(root):
    io.write_label_png(root / "masks" / "b.png", np.full((20, 30), 37, np.uint8))


def mask_wrong_size(root):
    io.write_label_png(root / "masks" / "b.png", np.ones((30, 20), np.uint8))


def mask_rgb(root):
    Image.new("RGB", (30, 20)).save(root / "masks" / "b.png")


@pytest.mark.parametrize("damage, bad_file, message", [
    (lambda root: truncated_jpeg(root / "img" / "b.jpg"), "img/b.jpg", "cannot decode image"),
    (lambda root: text_as_jpeg(root / "img" / "b.jpg"), "img/b.jpg", "cannot decode image"),
    (mask_value_37, "masks/b.png", r"label values \[37\]"),
    (mask_wrong_size, "masks/b.png", "mask is 20×30, its image is 30×20"),
    (mask_rgb, "masks/b.png", "mode RGB"),
])
def test_bad_file_is_refused_by_name_and_nothing_is_replaced(folder, damage, bad_file, message):
    prepare_dataset(params(folder), folder / "out")
    before = (folder / "out" / "labels.csv").read_text()
    damage(folder)
    with pytest.raises(DataError, match=message) as error:
        prepare_dataset(params(folder), folder / "out")
    assert str(error.value).startswith(str(folder / bad_file)) and "\n" not in str(error.value)
    assert (folder / "out" / "labels.csv").read_text() == before  # the previous index is untouched


def test_skip_drops_bad_images_and_lists_them(folder):
    truncated_jpeg(folder / "img" / "b.jpg")
    mask_value_37(folder)  # b again: one entry
    io.write_label_png(folder / "masks" / "c.png", np.full((20, 30), 9, np.uint8))
    sizes = prepare_dataset(params(folder, "skip"), folder / "out")
    assert sizes == {"train": 1}
    assert Dataset(folder / "out").ids("train") == ["a"]
    listed = (folder / "out" / BAD_IMAGES_FILE).read_text().splitlines()
    assert [line.split("\t")[0] for line in listed] == ["b", "c"]


def test_missing_mask_folder_is_an_error(folder):
    with pytest.raises(DataError, match="nowhere: mask folder not found"):
        prepare_dataset(params(folder).__class__(source="folder", folder=FolderSource(
            images=str(folder / "img"), labels_csv=str(folder / "labels.csv"), classes=str(folder / "classes.txt"),
            masks=str(folder / "nowhere"))), folder / "out")


def test_cli_folder_reports_bad_file_in_one_line(folder):
    text_as_jpeg(folder / "img" / "c.jpg")
    result = CliRunner().invoke(app, ["data", "folder", str(folder / "img"), str(folder / "labels.csv"),
                                      str(folder / "classes.txt"), str(folder / "out"), "--masks", str(folder / "masks")])
    assert result.exit_code == 1
    assert "c.jpg: cannot decode image" in result.output and "Traceback" not in result.output


def test_odd_but_valid_images_are_read_consistently(tmp_path):
    rgb = np.random.default_rng(2).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg")
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "grey.png")
    Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(tmp_path / "grey16.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise for display
    Image.fromarray(rgb).save(tmp_path / "rotated.png", exif=exif)
    assert io.read_image(tmp_path / "cmyk.jpg").shape == (6, 8, 3)
    np.testing.assert_array_equal(io.read_image(tmp_path / "rgba.png"), rgb)
    np.testing.assert_array_equal(io.read_image(tmp_path / "grey.png")[..., 1], rgb[..., 0])
    np.testing.assert_array_equal(io.read_image(tmp_path / "grey16.png")[..., 2], rgb[..., 0])
    np.testing.assert_array_equal(io.read_image(tmp_path / "rotated.png"), np.rot90(rgb, k=-1))
