"""What every stage needs: its typed params section and logging (and the SEAM CAM curve's optimum)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TypeVar

import yaml

from wsss import io
from wsss.config import from_dict
from wsss.errors import ConfigError, WsssError

T = TypeVar("T")
PARAMS_FILE = Path("params.yaml")
SEAM_CAM_METRICS = Path("metrics/eval_cam_seam.json")


def load_raw_section(name: str, params_file: Path = PARAMS_FILE) -> dict:
    if not params_file.is_file():
        raise ConfigError(f"{params_file}: not found (run stages from the repository root)")
    document = yaml.safe_load(params_file.read_text()) or {}
    if name not in document:
        raise ConfigError(f"{params_file}: section {name!r} missing")
    return document[name]


def load_section(name: str, cls: type[T], params_file: Path = PARAMS_FILE, key: str | None = None) -> T:
    """The typed params section ``name`` (or its entry ``key`` for per-method sections)."""
    section = load_raw_section(name, params_file)
    where = f"{params_file}:{name}"
    if key is not None:
        if not isinstance(section, dict) or key not in section:
            raise ConfigError(f"{where} has no entry {key!r}")
        section, where = section[key], f"{where}.{key}"
    return from_dict(cls, section, where=where)


def best_seam_cam_threshold() -> float:
    """The best constant background threshold that ``eval_cam@seam`` found (the automatic α's anchor)."""
    return io.read_json(SEAM_CAM_METRICS)["best_threshold"]


def main(run) -> None:
    """Run a stage function with logging; a WsssError becomes a one-line message and exit code 1."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        run()
    except WsssError as error:
        logging.getLogger("wsss").error("%s", error)
        sys.exit(1)
