import numpy as np
import pytest

from wsss import io
from wsss.errors import DataError


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "metrics.json"
    io.write_json(target, {"miou": 0.5})
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert io.read_json(target) == {"miou": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_cam_shards_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    written = {}
    with io.CamShardWriter(tmp_path / "cams", num_shards=3) as writer:
        for k in range(10):
            classes = np.array([k % 4, 7])
            maps = rng.random((2, 5, 6)).astype(np.float32)
            writer.write(f"img{k}", classes, maps)
            written[f"img{k}"] = (classes, maps)
    assert len(list((tmp_path / "cams").glob("shard-*.npz"))) <= 3
    reader = io.CamShardReader(tmp_path / "cams")
    for image_id, (classes, maps) in written.items():
        got_classes, got_maps = reader.read(image_id)
        np.testing.assert_array_equal(got_classes, classes)
        np.testing.assert_allclose(got_maps, maps, atol=1e-3)
    with pytest.raises(DataError, match="nope"):
        reader.read("nope")
    assert reader.missing(["img3", "nope", "img0"]) == ["nope"]
    for shard in (tmp_path / "cams").glob("shard-*.npz"):
        shard.unlink()
    assert io.CamShardReader(tmp_path / "cams").missing(["img1"]) == ["img1"]


def test_cam_npy_interop(tmp_path):
    maps = np.random.default_rng(0).random((2, 4, 4)).astype(np.float32)
    io.export_cam_npy(tmp_path / "x.npy", np.array([3, 11]), maps)
    table = np.load(tmp_path / "x.npy", allow_pickle=True).item()
    assert sorted(table) == [3, 11]
    classes, back = io.import_cam_npy(tmp_path / "x.npy")
    np.testing.assert_array_equal(classes, [3, 11])
    np.testing.assert_array_equal(back, maps)


def test_label_png_round_trip_and_palette(tmp_path):
    label = np.array([[0, 1, 255], [20, 3, 0]], np.uint8)
    io.write_label_png(tmp_path / "l.png", label)
    np.testing.assert_array_equal(io.read_label_png(tmp_path / "l.png", 21), label)
    from PIL import Image

    with Image.open(tmp_path / "l.png") as image:
        assert image.mode == "P"
        assert image.getpalette()[3:6] == [128, 0, 0]  # VOC aeroplane colour


def test_sharded_label_paths(tmp_path):
    path = io.label_map_path(tmp_path, "2007_000032")
    io.write_label_png(path, np.zeros((2, 2), np.uint8))
    assert io.find_label_map(tmp_path, "2007_000032") == path
    with pytest.raises(DataError, match="missing_id"):
        io.find_label_map(tmp_path, "missing_id")


def test_cam_writer_merges_a_revisited_shard(tmp_path):
    ids = [f"img{k}" for k in range(12)]
    with io.CamShardWriter(tmp_path / "c", num_shards=2) as writer:
        for image_id in ids:  # deliberately not sorted by shard
            writer.write(image_id, np.array([1]), np.full((1, 2, 2), int(image_id[3:]) / 20))
    reader = io.CamShardReader(tmp_path / "c")
    for image_id in ids:
        assert reader.read(image_id)[1][0, 0, 0] == pytest.approx(int(image_id[3:]) / 20, abs=1e-3)
    assert io.sorted_by_shard(ids, 2)[0] in ids


def test_saved_checkpoints_are_byte_reproducible(tmp_path):
    import torch

    state = {"weights": torch.arange(6.0).reshape(2, 3), "spec": {"name": "x"}}
    io.save_torch(tmp_path / "a.pt", state)
    io.save_torch(tmp_path / "b" / "other.pt", state)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b" / "other.pt").read_bytes()
    assert torch.equal(torch.load(tmp_path / "a.pt")["weights"], state["weights"])
    assert list(tmp_path.glob(".*.tmp")) == []  # no temporary file left behind


def test_written_files_follow_the_umask_and_import_changes_nothing(tmp_path):
    """Importing wsss.io leaves the process umask alone; files get 0666 minus the umask."""
    import subprocess
    import sys

    code = ("import os; os.umask(0o027); from wsss import io; assert os.umask(0o027) == 0o027; "
            f"io.write_text({str(tmp_path / 'f.txt')!r}, 'x'); print(oct(os.stat({str(tmp_path / 'f.txt')!r}).st_mode & 0o777))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "0o640"
