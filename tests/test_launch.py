"""``launch.processes``: stages start themselves under torchrun, and the shares of two gloo processes
add up to exactly what one process writes."""

import os
import subprocess
import sys
from contextlib import chdir
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from stages.common import launch_processes
from wsss import io
from wsss.cams.infer import infer_cams
from wsss.config import InferSegParams, PrepareParams, from_dict
from wsss.data.dataset import Dataset
from wsss.data.prepare import prepare_dataset
from wsss.errors import ConfigError
from wsss.models import checkpoint
from wsss.models.affinity import AffinitySpec, build_affinity
from wsss.models.classifier import ClassifierSpec, build_classifier
from wsss.models.deeplab import SegmenterSpec, build_segmenter
from wsss.models.zoo import save_model
from wsss.params.seam import CrfStageParams, InferCamParams, RandomWalkParams
from wsss.refine.crf_labels import run_crf
from wsss.refine.walk_labels import run_random_walk
from wsss.segment import infer_segmentation

REPO = Path(__file__).resolve().parents[1]


def make_project(root: Path, processes: int, data: Path, models: Path) -> Path:
    root.mkdir()
    (root / "data").mkdir()
    (root / "data" / "prepared").symlink_to(data)
    (root / "models").symlink_to(models)
    params = {
        "launch": {"processes": processes},
        "infer_cam": {"scales": [1.0, 1.5], "flip": True, "device": "cpu"},
        "crf": {"low_alpha": 4.0, "high_alpha": 24.0, "cam_background": 0.3, "workers": 1},
        "random_walk": {"alpha": 6.0, "logt": 3, "batch": 3, "device": "cpu"},
        "infer_seg": {"split": "train", "scales": [1.0], "crf": "seam", "crf_workers": 1, "device": "cpu"},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return root


def run_stages(project: Path, stages: list[list[str]]) -> None:
    """Each stage as ``dvc repro`` runs it: ``python -m stages.<name>`` in the project folder."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    for stage in stages:
        result = subprocess.run([sys.executable, "-m", f"stages.{stage[0]}", *stage[1:]], cwd=project, env=env,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "launching 2 processes" in result.stderr


def run_in_this_process(project: Path) -> None:
    """The stages through the library, in this process (on one thread, as the workers run: another
    thread count sums convolutions in another order)."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with chdir(project):
        infer_cams("data/prepared", "models/cls_seam.pt", from_dict(InferCamParams, params["infer_cam"]), "cams/seam")
        run_crf("data/prepared", "cams/seam", from_dict(CrfStageParams, params["crf"]), 0.3, "crf/la", "crf/ha",
                "labels/cam_dcrf")
        run_random_walk("data/prepared", "cams/seam", "models/affinity.pt",
                        from_dict(RandomWalkParams, params["random_walk"]), "labels/rw")
        infer_segmentation("data/prepared", "models/seg_seam.pt", from_dict(InferSegParams, params["infer_seg"]),
                           "labels/seg_seam")
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A tiny dataset, untrained models, and the stages' outputs from one process."""
    root = tmp_path_factory.mktemp("launch")
    # 64 images make two shards of CAMs (50 images each at most), so each of two ranks has work.
    data = root / "data"
    prepare_dataset(from_dict(PrepareParams, {"demo": {"num_train": 64, "num_val": 2, "min_size": 64,
                                                       "max_size": 64}}), data)
    models = root / "models"
    models.mkdir()
    torch.manual_seed(0)
    classes = tuple(Dataset(data).class_names)
    spec = ClassifierSpec("seam", "efficientnet_lite0", len(classes) - 1, 16, classes)
    save_model(models / "cls_seam.pt", build_classifier(spec).eval(), spec)
    affinity = AffinitySpec("efficientnet_lite0", 8, 5)
    checkpoint.save_model(models / "affinity.pt", build_affinity(affinity).eval(), "affinity", asdict(affinity))
    segmenter = SegmenterSpec("largefov", "efficientnet_lite0", classes, 16)
    save_model(models / "seg_seam.pt", build_segmenter(segmenter).eval(), segmenter)
    one = make_project(root / "one", 1, data, models)
    run_in_this_process(one)
    return root, data, models, one


def assert_same_outputs(one: Path, other: Path, ids: list[str], folders: tuple[str, ...]) -> None:
    for folder in folders:
        if (one / folder / "index.json").exists():
            a, b = io.CamShardReader(one / folder), io.CamShardReader(other / folder)
            for image_id in ids:
                (classes_a, maps_a), (classes_b, maps_b) = a.read(image_id), b.read(image_id)
                np.testing.assert_array_equal(classes_a, classes_b)
                np.testing.assert_array_equal(maps_a, maps_b)
        else:
            for image_id in ids:
                expected = io.find_label_map(one / folder, image_id).read_bytes()
                assert io.find_label_map(other / folder, image_id).read_bytes() == expected, (folder, image_id)
            found = sorted(p.name for p in (other / folder).rglob("*.png"))
            assert found == sorted(p.name for p in (one / folder).rglob("*.png"))


ALL_OUTPUTS = ("cams/seam", "crf/la", "crf/ha", "labels/cam_dcrf", "labels/rw", "labels/seg_seam")


def test_two_ranks_write_disjoint_shares_that_add_up_to_one_process(reference, monkeypatch):
    """Rank 0 then rank 1 of a two-process run (torchrun's RANK/WORLD_SIZE) into one folder."""
    root, data, models, one = reference
    shared = make_project(root / "ranks", 2, data, models)
    ids = Dataset(data).ids("train")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    run_in_this_process(shared)
    for folder in ALL_OUTPUTS:                  # rank 0 wrote its share only
        shards = [int(p.stem.split("-")[1]) for p in (shared / folder).glob("shard-*.npz")]
        assert all(shard % 2 == 0 for shard in shards), folder
        written = len(list((shared / folder).rglob("*.png")))
        assert shards or 0 < written < len(ids), folder
    monkeypatch.setenv("RANK", "1")
    run_in_this_process(shared)
    assert_same_outputs(one, shared, ids, ALL_OUTPUTS)


def test_a_stage_starts_itself_under_torchrun(reference):
    root, data, models, one = reference
    two = make_project(root / "torchrun_cam", 2, data, models)
    run_stages(two, [["infer_cam", "seam"]])
    assert_same_outputs(one, two, Dataset(data).ids("train"), ("cams/seam",))


@pytest.mark.slow
def test_inference_stages_under_torchrun_write_what_one_process_writes(reference):
    root, data, models, one = reference
    two = make_project(root / "torchrun", 2, data, models)
    run_stages(two, [["infer_cam", "seam"], ["crf"], ["random_walk"], ["infer_seg", "seam"]])
    assert_same_outputs(one, two, Dataset(data).ids("train"), ALL_OUTPUTS)


def test_launch_section_is_checked(tmp_path):
    assert launch_processes(tmp_path / "missing.yaml") == 1
    (tmp_path / "params.yaml").write_text("launch: {processes: 0}\n")
    with pytest.raises(ConfigError, match="launch.processes: 0 is out of range"):
        launch_processes(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("launch: {gpus: 2}\n")
    with pytest.raises(ConfigError, match="gpus"):
        launch_processes(tmp_path / "params.yaml")


@pytest.mark.parametrize("argv, missing", [(["stages.train_cls"], "method"),
                                            (["stages.train_seg", "seam"], "labels"),
                                            (["stages.eval_labels", "eval_rw"], "folder, name")])
def test_a_stage_without_its_arguments_prints_its_usage(argv, missing):
    result = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True,
                            cwd=Path(__file__).parents[1])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"usage: python -m {argv[0]}" in result.stderr and f"required: {missing}" in result.stderr
