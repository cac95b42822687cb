"""Files read by the project never run code: .npy CAM dicts and map shards holding Python objects."""

import os

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.payload import MARKER_ENV, Payload
from wsss import io
from wsss.cli import app
from wsss.errors import DataError
from wsss.safe_pickle import load_npy_object


@pytest.fixture()
def payload_npy(tmp_path):
    path = tmp_path / "npy" / "2007_000032.npy"
    path.parent.mkdir()
    np.save(path, {0: np.zeros((2, 2), np.float32), 1: Payload()}, allow_pickle=True)
    os.environ.pop(MARKER_ENV, None)
    yield path
    os.environ.pop(MARKER_ENV, None)


def test_the_payload_would_run_under_a_plain_unpickler(payload_npy):
    """The fixture is a real attack: numpy's own loader with pickles allowed runs it."""
    np.load(payload_npy, allow_pickle=True)
    assert os.environ.pop(MARKER_ENV) == "1"


def test_import_cam_npy_refuses_objects(payload_npy):
    with pytest.raises(DataError, match=r"2007_000032.npy: refused: the file asks to run builtins.exec") as error:
        io.import_cam_npy(payload_npy)
    assert MARKER_ENV not in os.environ and "\n" not in str(error.value)


def test_cli_import_cams_refuses_objects_in_one_line(payload_npy, tmp_path):
    result = CliRunner().invoke(app, ["interop", "import-cams", str(payload_npy.parent), str(tmp_path / "out")])
    assert result.exit_code != 0 and MARKER_ENV not in os.environ
    assert "refused" in result.output and "Traceback" not in result.output


def test_real_cam_dicts_still_load_with_scalars_and_containers(tmp_path):
    maps = {3: np.arange(6, dtype=np.float32).reshape(2, 3), 14: np.ones((2, 3), np.float32)}
    np.save(tmp_path / "a.npy", maps)
    classes, stacked = io.import_cam_npy(tmp_path / "a.npy")
    np.testing.assert_array_equal(classes, [3, 14])
    np.testing.assert_array_equal(stacked[0], maps[3])
    np.save(tmp_path / "b.npy", {"x": [np.float32(2.5), (1, "s")]})
    assert load_npy_object(tmp_path / "b.npy") == {"x": [2.5, (1, "s")]}
    np.save(tmp_path / "c.npy", np.arange(4))
    np.testing.assert_array_equal(load_npy_object(tmp_path / "c.npy"), np.arange(4))


@pytest.mark.parametrize("content, message", [(b"garbage", "not a readable .npy file"), (None, "file not found")])
def test_broken_npy_is_one_line(tmp_path, content, message):
    path = tmp_path / "x.npy"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=f"x.npy: {message}"):
        load_npy_object(path)


def test_a_map_shard_with_objects_is_refused_naming_it(tmp_path):
    with io.CamShardWriter(tmp_path / "cams", 1) as writer:
        writer.write("a", np.array([1]), np.zeros((1, 2, 2)))
    shard = io.cam_shard_file(tmp_path / "cams", 0)
    np.savez(shard, **{"a/classes": np.array([Payload()], dtype=object), "a/maps": np.zeros((1, 2, 2))})
    os.environ.pop(MARKER_ENV, None)
    with pytest.raises(DataError, match=r"shard-0000.npz: unreadable maps for image 'a'"):
        io.CamShardReader(tmp_path / "cams").read("a")
    assert MARKER_ENV not in os.environ
    shard.write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"shard-0000.npz: not a localisation-map shard"):
        io.CamShardReader(tmp_path / "cams").read("a")
    (tmp_path / "cams" / "index.json").write_text("{")
    with pytest.raises(DataError, match=r"index.json: invalid JSON"):
        io.CamShardReader(tmp_path / "cams")
