"""Put a failed stage's previous outputs back from DVC's cache.

``dvc repro`` deletes a stage's cached outputs before it runs the command, so a stage that fails
(a corrupt image, a wrong param) would leave nothing behind. Its dvc.lock entry still names the last
good outputs, and the cache still holds them: this copies them back, so the previous index, model
or maps stay usable and ``dvc status`` shows only what changed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import yaml

# Set by DVC for every stage command: the stage's address and the repository root.
STAGE_ENV, ROOT_ENV = "DVC_STAGE", "DVC_ROOT"


def _lock_entry(root: Path, address: str) -> tuple[dict, Path]:
    """(the stage's dvc.lock entry, the folder its paths are relative to)."""
    file, _, name = address.rpartition(":")
    dvc_yaml = root / (file or "dvc.yaml")
    lock = dvc_yaml.with_name("dvc.lock")
    stages = (yaml.safe_load(lock.read_text()) or {}).get("stages", {}) if lock.is_file() else {}
    definition = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {}).get(name.split("@")[0], {})
    wdir = dvc_yaml.parent / definition.get("wdir", ".")
    return stages.get(name, {}), wdir.resolve()


def _cache_dir(root: Path) -> Path:
    local = root / ".dvc" / "config.local"
    for config in (local, root / ".dvc" / "config"):
        if config.is_file():
            section = None
            for line in config.read_text().splitlines():
                line = line.strip()
                if line.startswith("["):
                    section = line.strip("[]").strip()
                elif section == "cache" and line.split("=")[0].strip() == "dir":
                    value = line.split("=", 1)[1].strip().strip('"')
                    return (config.parent / value).resolve()
    return root / ".dvc" / "cache"


def _cached(cache: Path, md5: str) -> Path:
    return cache / "files" / "md5" / md5[:2] / md5[2:]


def _restore_one(cache: Path, path: Path, md5: str) -> None:
    """Copy the cached file or folder ``md5`` to ``path`` (built beside it, then renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".restore", dir=path.parent))
    try:
        if md5.endswith(".dir"):
            built = staging / path.name
            for entry in json.loads(_cached(cache, md5).read_text()):
                target = built / entry["relpath"]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(_cached(cache, entry["md5"]), target)
        else:
            built = staging / path.name
            shutil.copyfile(_cached(cache, md5), built)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        os.replace(built, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def restore_previous_outputs() -> tuple[list[str], list[str]]:
    """Under ``dvc repro``: (outputs restored, outputs that could not be) for the running stage."""
    address, root = os.environ.get(STAGE_ENV), os.environ.get(ROOT_ENV)
    if not address or not root:
        return [], []
    root = Path(root)
    entry, wdir = _lock_entry(root, address)
    cache = _cache_dir(root)
    restored, missing = [], []
    for out in entry.get("outs", []):
        path, md5 = wdir / out["path"], out.get("md5")
        if not md5:
            continue
        name = os.path.relpath(path, root)
        try:
            _restore_one(cache, path, md5)
            restored.append(name)
        except (OSError, ValueError, KeyError):     # not cached (cache: false), or the cache was pruned
            missing.append(name)
    return restored, missing
