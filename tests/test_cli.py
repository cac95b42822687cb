import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from wsss import io
from wsss.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["data"], ["eval"], ["data", "demo"], ["data", "voc"], ["data", "folder"],
                                     ["data", "info"], ["eval", "labels"], ["eval", "cams"], ["plots"],
                                     ["interop"], ["interop", "seam-checkpoint"], ["interop", "mxnet-resnet38"],
                                     ["interop", "export-cams"], ["interop", "import-cams"], ["predict"]])
def test_help_on_every_command(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_demo_then_evaluate_ground_truth_and_cams(tmp_path):
    index = tmp_path / "demo"
    result = runner.invoke(app, ["data", "demo", str(index), "--num-train", "6", "--num-val", "3"])
    assert result.exit_code == 0, result.output
    from wsss.data.dataset import Dataset

    dataset = Dataset(index)
    # Ground truth evaluated against itself (band pixels predicted as background) is perfect.
    with io.CamShardWriter(tmp_path / "cams", 2) as cams:
        for image_id in dataset.ids("val"):
            gt = dataset.read_mask(image_id)
            pred = np.where(gt == 255, 0, gt).astype(np.uint8)
            io.write_label_png(io.label_map_path(tmp_path / "pred", image_id), pred)
            classes = np.flatnonzero(dataset.labels(image_id))
            cams.write(image_id, classes, np.stack([(gt == c + 1).astype(np.float32) for c in classes]))
    result = runner.invoke(app, ["eval", "labels", str(index), "val", str(tmp_path / "pred"), "--out",
                                 str(tmp_path / "m.json"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert io.read_json(tmp_path / "m.json")["miou"] == 1.0
    result = runner.invoke(app, ["eval", "cams", str(index), "val", str(tmp_path / "cams"), "--out",
                                 str(tmp_path / "c.json"), "--curve", str(tmp_path / "c.csv"), "--workers", "2"])
    assert result.exit_code == 0, result.output
    best = io.read_json(tmp_path / "c.json")
    assert best["miou"] == 1.0 and best["best_threshold"] < 1.0
    assert len((tmp_path / "c.csv").read_text().splitlines()) == 61


def test_clear_error_for_missing_index(tmp_path):
    result = runner.invoke(app, ["data", "info", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "dataset.json missing" in result.output


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "wsss.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "eval" in out.stdout


def test_cam_npy_round_trip_through_cli(tmp_path):

    index = tmp_path / "demo"
    runner.invoke(app, ["data", "demo", str(index), "--num-train", "3", "--num-val", "1"])
    from wsss.data.dataset import Dataset

    dataset = Dataset(index)
    with io.CamShardWriter(tmp_path / "cams", 1) as cams:
        for image_id in dataset.ids("train"):
            h, w = dataset.read_mask(image_id).shape
            classes = np.flatnonzero(dataset.labels(image_id))
            cams.write(image_id, classes, np.random.default_rng(0).random((len(classes), h, w)))
    result = runner.invoke(app, ["interop", "export-cams", str(tmp_path / "cams"), str(tmp_path / "npy"),
                                 "--index", str(index)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["interop", "import-cams", str(tmp_path / "npy"), str(tmp_path / "back")])
    assert result.exit_code == 0, result.output
    a, b = io.CamShardReader(tmp_path / "cams"), io.CamShardReader(tmp_path / "back")
    for image_id in dataset.ids("train"):
        np.testing.assert_array_equal(a.read(image_id)[1], b.read(image_id)[1])


def test_a_missing_pipeline_package_is_one_line_naming_the_extra(monkeypatch):
    import sys

    from wsss.errors import WsssError, import_pipeline_package

    monkeypatch.setitem(sys.modules, "dvclive", None)  # an import of a None entry raises ModuleNotFoundError
    with pytest.raises(WsssError, match=r"^logging training needs the dvclive package: pip install 'wsss\[pipeline\]'$"):
        import_pipeline_package("dvclive", "logging training")


def test_option_defaults_are_the_params_defaults():
    """Options that set a params field default to that field's default (defined once, in wsss.config)."""
    import typer.main

    from wsss.cli import app
    from wsss.config import DemoConfig, InferSegParams, PrepareParams, VocSource

    group = typer.main.get_command(app)
    expected = {
        ("data", "demo"): {"seed": DemoConfig().seed, "num_train": DemoConfig().num_train, "num_val": DemoConfig().num_val},
        ("data", "voc"): {"labels_from": VocSource().labels_from, "holdout": VocSource().holdout,
                          "empty_labels": PrepareParams().empty_labels, "bad_images": PrepareParams().bad_images},
        ("data", "folder"): {"empty_labels": PrepareParams().empty_labels, "bad_images": PrepareParams().bad_images},
        ("predict",): {name: getattr(InferSegParams(), name) for name in ("average", "flip", "crf", "crf_backend")},
    }
    for path, defaults in expected.items():
        command = group
        for name in path:
            command = command.commands[name]
        got = {p.name: p.default for p in command.params if p.name in defaults}
        assert got == defaults, path
