"""The report's table of artifacts (wsss/report/build.py) and the pipelines agree: each report and
scores stage depends on every artifact it reads, and each of those is some stage's output."""

from pathlib import Path

import pytest
import yaml

from wsss.report.build import CURVES, PIPELINES, TRAINING_LOGS

REPO = Path(__file__).resolve().parent.parent
FILES = {"seam": "dvc.yaml", "mcis": "pipelines/mcis/dvc.yaml", "getam": "pipelines/getam/dvc.yaml"}
SUFFIX = {"seam": "", "mcis": "_mcis", "getam": "_getam"}


def stages(pipeline: str) -> dict:
    return yaml.safe_load((REPO / FILES[pipeline]).read_text())["stages"]


def outputs() -> set[str]:
    """Every output path of the three pipelines (templates and foreach entries resolved by DVC)."""
    from dvc.repo import Repo

    with Repo(str(REPO)) as repo:
        return {Path(out.fs_path).relative_to(REPO).as_posix() for stage in repo.index.stages for out in stage.outs}


def report_reads(pipeline: str) -> set[str]:
    reads = set()
    for stage in PIPELINES[pipeline]:
        reads |= {stage.metrics, *(p for p in (stage.labels, stage.cams) if p)}
    reads |= {f"logs/{run}/plots" for run in TRAINING_LOGS[pipeline]}
    reads |= {f"plots/cam_curve_{name}.csv" for name in CURVES[pipeline]}
    return reads


@pytest.mark.parametrize("pipeline", sorted(FILES))
def test_the_report_depends_on_every_artifact_it_reads(pipeline):
    deps = set(stages(pipeline)["report" + SUFFIX[pipeline]]["deps"])
    assert report_reads(pipeline) <= deps, sorted(report_reads(pipeline) - deps)


@pytest.mark.parametrize("pipeline", sorted(FILES))
def test_the_scores_depend_on_every_metrics_file_they_read(pipeline):
    deps = set(stages(pipeline)["scores" + SUFFIX[pipeline]]["deps"])
    metrics = {stage.metrics for stage in PIPELINES[pipeline]}
    assert metrics <= deps, sorted(metrics - deps)


def test_every_artifact_the_report_reads_is_a_stage_output():
    outs = outputs()
    for pipeline in FILES:
        missing = {path for path in report_reads(pipeline)
                   if path not in outs and not any(path.startswith(out.rstrip("/") + "/") for out in outs)}
        assert not missing, (pipeline, sorted(missing))
