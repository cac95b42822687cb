"""An edit reruns only the stages that run the edited code: checked with DVC itself on a copy of
the three pipelines whose outputs are committed placeholders (no stage runs)."""

import shutil
from pathlib import Path

import pytest

from tests.pipeline_checks import dvc

REPO = Path(__file__).resolve().parent.parent
PIPELINES = {"dvc.yaml": "seam", "pipelines/mcis/dvc.yaml": "mcis", "pipelines/getam/dvc.yaml": "getam"}


def stage_outs(work: Path) -> list[Path]:
    """Every declared output of the three pipelines (templates and foreach entries resolved by DVC)."""
    from dvc.repo import Repo

    with Repo(str(work)) as repo:
        return [Path(out.fs_path) for stage in repo.index.stages for out in stage.outs]


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """The code, params and pipelines in a fresh DVC project, every output a placeholder, all committed."""
    work = tmp_path_factory.mktemp("scope")
    for folder in ("stages", "wsss"):
        shutil.copytree(REPO / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in (*PIPELINES, "params.yaml", ".dvcignore"):
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, work / name)
    dvc(work, "init", "--no-scm", "-q")
    for out in stage_outs(work):
        if out.suffix:       # a file (model, metrics, plot table)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("{}\n")
        else:                # a folder
            out.mkdir(parents=True, exist_ok=True)
            (out / "placeholder").write_text(out.name)
    dvc(work, "commit", "--force", "-q", *PIPELINES)
    assert stages_to_rerun(work) == {}
    return work


def stages_to_rerun(work: Path) -> dict[str, set[str]]:
    """Pipeline → the stages ``dvc status`` lists (bar ``source``, which always runs: it fingerprints the data)."""
    changed: dict[str, set[str]] = {}
    for line in dvc(work, "status", *PIPELINES).splitlines():
        if line.endswith(":") and not line[0].isspace():
            pipeline, _, name = line[:-1].rpartition(":")
            if name != "source":
                changed.setdefault(PIPELINES[pipeline or "dvc.yaml"], set()).add(name)
    return changed


def changed_stages(work: Path, edited: str) -> dict[str, set[str]]:
    """:func:`stages_to_rerun` after appending a comment to ``edited`` (put back after)."""
    path = work / edited
    original = path.read_text()
    path.write_text(original + "\n# edited\n")
    try:
        return stages_to_rerun(work)
    finally:
        path.write_text(original)


@pytest.mark.parametrize("edited, method", [
    ("wsss/models/getam.py", "getam"), ("wsss/params/getam.py", "getam"),
    ("wsss/models/coattention.py", "mcis"), ("wsss/params/mcis.py", "mcis"),
    ("wsss/models/affinity.py", "seam"), ("wsss/params/seam.py", "seam"),
])
def test_editing_one_methods_file_reruns_only_that_methods_stages(committed, edited, method):
    changed = changed_stages(committed, edited)
    assert changed.get(method), changed
    # The other pipelines rerun nothing, bar their reports when params change: a report lists every
    # value of params.yaml that differs from its default, so it reads every method's sections.
    others = {name for pipeline, names in changed.items() if pipeline != method for name in names}
    assert others <= ({"report", "report_mcis", "report_getam"} if "/params/" in edited else set()), changed


def test_editing_shared_code_reruns_every_pipeline(committed):
    assert set(changed_stages(committed, "wsss/config.py")) == set(PIPELINES.values())
