"""Not a stage: keeps every stage's code dependencies in the dvc.yaml files equal to what it imports.

A stage runs ``python -m stages.<name>``; the project files it can execute are that module and the
transitive closure of its imports of ``stages.*`` and ``wsss.*`` modules (every import statement
anywhere in a file, function-level ones included, plus the ``__init__.py`` of each package on the
way; project code imports nothing by name at run time, so the statements are the whole story). Each stage's code deps are that closure, with a folder listed instead of its files when the
stage needs every Python file in it. Data deps (anything outside ``stages/`` and ``wsss/``) are kept.

    python -m stages.deps            # report stages whose deps miss an imported file (exit 1 if any)
    python -m stages.deps --write    # rewrite the code deps of every stage in place
"""

from __future__ import annotations

import ast
import re
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIPELINE_FILES = ("dvc.yaml", "pipelines/mcis/dvc.yaml", "pipelines/getam/dvc.yaml")
PACKAGES = ("stages", "wsss")
CMD_MODULE = re.compile(r"python -m (stages\.\w+)")


def module_file(module: str) -> Path | None:
    """The repository file of a ``stages``/``wsss`` module, or None for anything else."""
    if module.split(".")[0] not in PACKAGES:
        return None
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)  # submodules
    return found


def _with_packages(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@lru_cache(maxsize=None)
def import_closure(module: str) -> frozenset[Path]:
    """Every repository file that running ``python -m module`` can execute."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        for name in _with_packages(todo.pop()):
            path = module_file(name)
            if path is None or path in seen:
                continue
            seen.add(path)
            todo.extend(_imported_modules(path))
    return frozenset(seen)


def stage_modules(pipeline_file: str | Path) -> dict[str, str]:
    """Stage name → the ``stages.*`` module its cmd runs."""
    import yaml

    document = yaml.safe_load((ROOT / pipeline_file).read_text())
    modules = {}
    for name, stage in document["stages"].items():
        body = stage.get("do", stage)
        match = CMD_MODULE.search(body["cmd"])
        if match:
            modules[name] = match.group(1)
    return modules


def is_code(dep: str) -> bool:
    return dep.split("/")[0] in PACKAGES


def covered(path: Path, deps: list[str]) -> bool:
    relative = path.relative_to(ROOT)
    return any(relative == Path(dep) or Path(dep) in relative.parents for dep in deps)


def code_deps(module: str) -> list[str]:
    """The closure as dep entries: whole folders where every Python file of the folder is needed."""
    needed = {p.relative_to(ROOT) for p in import_closure(module)}
    entries: set[Path] = set()
    for path in needed:
        entry = path
        for folder in path.parents:
            if folder == Path(".") or folder.name in PACKAGES and folder.parent == Path("."):
                break
            files = {p.relative_to(ROOT) for p in (ROOT / folder).rglob("*.py")}
            if files <= needed:
                entry = folder
        entries.add(entry)
    # Drop entries inside a listed folder.
    return sorted(str(e) for e in entries if not any(f in e.parents for f in entries))


def missing_deps() -> dict[str, list[str]]:
    """``file:stage`` → imported project files that the stage's deps do not cover."""
    import yaml

    problems = {}
    for pipeline_file in PIPELINE_FILES:
        stages = yaml.safe_load((ROOT / pipeline_file).read_text())["stages"]
        for name, module in stage_modules(pipeline_file).items():
            deps = [d if isinstance(d, str) else next(iter(d)) for d in stages[name].get("do", stages[name])["deps"]]
            missing = sorted(str(p.relative_to(ROOT)) for p in import_closure(module) if not covered(p, deps))
            if missing:
                problems[f"{pipeline_file}:{name}"] = missing
    return problems


def write_deps() -> None:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    for pipeline_file in PIPELINE_FILES:
        path = ROOT / pipeline_file
        document = yaml.load(path.read_text())
        for name, module in stage_modules(pipeline_file).items():
            stage = document["stages"][name]
            body = stage["do"] if "do" in stage else stage
            data = [d for d in body["deps"] if not is_code(d if isinstance(d, str) else next(iter(d)))]
            body["deps"] = code_deps(module) + data
        with path.open("w") as handle:
            yaml.dump(document, handle)


def main() -> int:
    if "--write" in sys.argv[1:]:
        write_deps()
    problems = missing_deps()
    for stage, files in problems.items():
        print(f"{stage}: missing {', '.join(files)}")
    if not problems:
        print("every stage depends on every project file it imports")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
