"""How many pipeline stages an edit of each project file reruns (the code deps of the three dvc.yaml files).

A stage reruns when any of its deps changes; a folder dep (e.g. wsss/models) stands for every file in
it. Prints, per file under stages/ and wsss/, the number of stages (of all three pipelines, foreach
entries counted one by one) that depend on it, most first, and a summary by owner.

    python benchmarks/rerun_impact.py [--all]      # --all: every file, not only those over 3 stages
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stage_deps() -> dict[str, list[str]]:
    """Expanded stage address → its dep paths (repo-relative)."""
    from dvc.repo import Repo

    repo = Repo(str(ROOT))
    result = {}
    for stage in repo.index.stages:
        deps = []
        for dep in stage.deps:
            path = Path(dep.fs_path).resolve()
            try:
                deps.append(path.relative_to(ROOT).as_posix())
            except ValueError:
                continue
        result[stage.addressing] = deps
    return result


def impact(deps: dict[str, list[str]]) -> dict[str, list[str]]:
    files = sorted(p.relative_to(ROOT).as_posix() for folder in ("stages", "wsss") for p in (ROOT / folder).rglob("*.py"))
    table = {}
    for file in files:
        table[file] = [stage for stage, paths in deps.items()
                       if any(file == d or file.startswith(d.rstrip("/") + "/") for d in paths)]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true")
    args = parser.parse_args()
    deps = stage_deps()
    table = impact(deps)
    print(f"{len(deps)} stages in dvc.yaml, pipelines/mcis/dvc.yaml, pipelines/getam/dvc.yaml")
    print(f"{'stages':>6}  file")
    for file, stages in sorted(table.items(), key=lambda item: (-len(item[1]), item[0])):
        if args.all or len(stages) > 3:
            print(f"{len(stages):>6}  {file}")
    every = [f for f, s in table.items() if len(s) == len(deps)]
    print(f"files every stage depends on: {len(every)} ({', '.join(every)})")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
