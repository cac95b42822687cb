"""Stage deps are complete by construction, and an external data source is a dependency."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stages import deps
from tests.pipeline_checks import dvc
from wsss import io

REPO = Path(__file__).resolve().parent.parent


def test_every_stage_depends_on_every_project_file_it_imports():
    assert deps.missing_deps() == {}


def test_closure_follows_function_level_imports_and_packages():
    closure = {str(p.relative_to(REPO)) for p in deps.import_closure("stages.infer_cam")}
    # SeamNet.localisation_maps runs in infer_cam: editing it must rerun the stage.
    assert {"wsss/models/seam.py", "wsss/models/weights.py", "wsss/__init__.py", "stages/common.py"} <= closure
    assert "wsss/data/demo.py" not in closure  # not every stage depends on everything


def test_folder_entry_stands_for_all_its_files():
    entries = deps.code_deps("stages.train_aff")
    # Every backbone module is imported (the backbone registry): the folder stands for them.
    assert "wsss/models/backbones" in entries and not any(e.startswith("wsss/models/backbones/") for e in entries)
    # The report does not import scores.py: its folder is listed file by file, without that one.
    entries = deps.code_deps("stages.report")
    assert "wsss/report/page.py" in entries and "wsss/report" not in entries
    assert "wsss/report/scores.py" not in entries


def test_a_stage_depends_on_the_model_and_params_modules_of_its_own_method_only():
    closure = {str(p.relative_to(REPO)) for p in deps.import_closure("stages.random_walk")}
    assert {"wsss/models/affinity.py", "wsss/params/seam.py"} <= closure
    assert not closure & {"wsss/models/coattention.py", "wsss/models/getam.py", "wsss/models/seam.py",
                          "wsss/params/mcis.py", "wsss/params/getam.py", "wsss/params/sections.py"}
    closure = {str(p.relative_to(REPO)) for p in deps.import_closure("stages.train_getam")}
    assert {"wsss/models/getam.py", "wsss/models/vit.py", "wsss/params/getam.py"} <= closure
    assert not closure & {"wsss/models/affinity.py", "wsss/models/seam.py", "wsss/models/coattention.py",
                          "wsss/params/seam.py", "wsss/params/mcis.py"}
    assert "wsss/models" not in deps.code_deps("stages.eval_cam")


@pytest.fixture
def project(tmp_path):
    """A git clone-like copy of the repository's code and pipeline, with a tiny custom-folder source."""
    work = tmp_path / "repo"
    for folder in ("stages", "wsss"):
        shutil.copytree(REPO / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", "params.yaml", ".dvcignore", ".dvc/config"):
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, work / name)
    data = tmp_path / "photos"
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        io.write_jpeg(data / "img" / f"{name}.jpg", rng.integers(0, 255, (16, 20, 3), dtype=np.uint8))
    io.write_text(data / "classes.txt", "leaf\nstem\n")
    io.write_text(data / "labels.csv", "image,labels\na.jpg,leaf\nb.jpg,stem\n")
    params = (work / "params.yaml").read_text()
    params = params.replace("  source: demo ", "  source: folder ", 1)
    params = params.replace('    images: ""', f'    images: "{data / "img"}"', 1)
    params = params.replace('    labels_csv: ""', f'    labels_csv: "{data / "labels.csv"}"', 1)
    params = params.replace('    classes: ""', f'    classes: "{data / "classes.txt"}"', 1)
    (work / "params.yaml").write_text(params)
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    return work, data


def prepared_digest(work):
    return json.loads((work / "data" / "prepared" / "source.json").read_text())["paths"]


def test_changed_external_files_rerun_prepare_and_unchanged_stay_cached(project):
    work, data = project
    dvc(work, "repro", "prepare")
    first = prepared_digest(work)
    assert "didn't change" in dvc(work, "repro", "prepare")  # unchanged source: cached
    io.write_text(data / "labels.csv", "image,labels\na.jpg,leaf stem\nb.jpg,stem\n")
    assert "Running stage 'prepare'" in dvc(work, "repro", "prepare")
    second = prepared_digest(work)
    assert second != first and (work / "data" / "prepared" / "labels.csv").read_text().splitlines()[1] == "a,1,1"
    io.write_jpeg(data / "img" / "b.jpg", np.zeros((16, 20, 3), np.uint8))  # a replaced image
    assert "Running stage 'prepare'" in dvc(work, "repro", "prepare")
    assert prepared_digest(work) != second


def test_a_failed_stage_under_dvc_repro_puts_its_previous_outputs_back(project):
    """A corrupt photo fails `dvc repro prepare`; DVC has deleted data/prepared by then, and the stage
    restores the last good index from DVC's cache, saying so; dvc status then shows only the change."""
    work, data = project
    dvc(work, "repro", "prepare")
    before = {p.relative_to(work): p.read_bytes() for p in (work / "data" / "prepared").rglob("*") if p.is_file()}
    (data / "img" / "b.jpg").write_bytes(b"not a jpeg")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, DVC_NO_ANALYTICS="1", PYTHONPATH=str(work), PATH=path)
    result = subprocess.run([sys.executable, "-m", "dvc", "repro", "prepare"], cwd=work, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0 and "b.jpg" in result.stderr + result.stdout
    assert "prepare failed; its previous outputs are back from DVC's cache: data/prepared" in result.stderr + result.stdout
    after = {p.relative_to(work): p.read_bytes() for p in (work / "data" / "prepared").rglob("*") if p.is_file()}
    assert after == before
    status = dvc(work, "status", "prepare")
    assert "changed deps" in status and "changed outs" not in status and "deleted" not in status
