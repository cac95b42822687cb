"""What every stage needs: its typed params section and logging (and the SEAM CAM curve's optimum)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import TypeVar

import yaml

from stages.restore import STAGE_ENV, restore_previous_outputs
from wsss import io
from wsss.config import LaunchParams, from_dict, with_shared_engine
from wsss.errors import ConfigError, WsssError
from wsss.world import under_torchrun

T = TypeVar("T")
PARAMS_FILE = Path("params.yaml")
SEAM_CAM_METRICS = Path("metrics/eval_cam_seam.json")


def read_params(params_file: Path = PARAMS_FILE) -> dict:
    if not params_file.is_file():
        raise ConfigError(f"{params_file}: not found (run stages from the repository root)")
    return yaml.safe_load(params_file.read_text()) or {}


def load_section(name: str, cls: type[T], params_file: Path = PARAMS_FILE, key: str | None = None) -> T:
    """The typed params section ``name`` (or its entry ``key`` for per-method sections); a training
    section's engine settings default to the top-level ``engine`` section's."""
    document = read_params(params_file)
    if name not in document:
        raise ConfigError(f"{params_file}: section {name!r} missing")
    section = document[name]
    where = f"{params_file}:{name}"
    if key is not None:
        if not isinstance(section, dict) or key not in section:
            raise ConfigError(f"{where} has no entry {key!r}")
        section, where = section[key], f"{where}.{key}"
    if any(f.name == "engine" for f in dataclasses.fields(cls)):
        section = with_shared_engine(section, document.get("engine"))
    return from_dict(cls, section, where=where)


def best_seam_cam_threshold() -> float:
    """The best constant background threshold that ``eval_cam@seam`` found (the automatic α's anchor)."""
    return io.read_json(SEAM_CAM_METRICS)["best_threshold"]


def launch_processes(params_file: Path = PARAMS_FILE) -> int:
    """``launch.processes`` (1 when params.yaml has no ``launch`` section)."""
    document = read_params(params_file) if params_file.is_file() else {}
    return from_dict(LaunchParams, document.get("launch") or {}, where=f"{params_file}:launch").processes


def relaunch_under_torchrun(processes: int) -> int:
    """Run this stage's module again as ``processes`` torchrun workers on this machine; their exit code."""
    module = sys.modules["__main__"].__spec__.name
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", module, *sys.argv[1:]]
    logging.getLogger("stages").info("launching %d processes: %s", processes, " ".join(command[1:]))
    return subprocess.run(command).returncode


def stage_arguments(*names: str) -> list[str]:
    """The running stage's positional arguments, by name; a missing or extra one prints a usage line
    (argparse) instead of a traceback."""
    entry = sys.modules["__main__"]
    summary = (entry.__doc__ or "").strip().splitlines()[:1]
    parser = argparse.ArgumentParser(prog=f"python -m {entry.__spec__.name}", description=" ".join(summary))
    for name in names:
        parser.add_argument(name)
    parsed = parser.parse_args()
    return [getattr(parsed, name) for name in names]


def put_back_previous_outputs() -> None:
    """After a failure under ``dvc repro``: the stage's last good outputs back from DVC's cache (DVC
    deleted them before running the stage), and one line saying so. Torchrun workers leave it to
    the process that launched them."""
    if under_torchrun():
        return
    restored, missing = restore_previous_outputs()
    stage, log = os.environ.get(STAGE_ENV, "this stage"), logging.getLogger("stages")
    if restored:
        log.error("%s failed; its previous outputs are back from DVC's cache: %s", stage, ", ".join(restored))
    if missing:
        log.error("%s failed; not restorable (not in DVC's cache): %s", stage, ", ".join(missing))


def main(run, distributed: bool = False) -> None:
    """Run a stage function with logging; a WsssError becomes a one-line message and exit code 1.
    ``distributed`` stages start themselves under torchrun when ``launch.processes`` > 1. Whatever
    the failure, the stage's previous outputs are put back (see :mod:`stages.restore`)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    code = 0
    try:
        processes = launch_processes() if distributed and not under_torchrun() else 1
        if processes > 1:
            code = relaunch_under_torchrun(processes)
        else:
            run()
    except WsssError as error:
        logging.getLogger("wsss").error("%s", error)
        code = 1
    except BaseException as error:      # a traceback, Ctrl-C, or a usage error (argparse exits)
        if not (isinstance(error, SystemExit) and not error.code):
            put_back_previous_outputs()
        raise
    if code:
        put_back_previous_outputs()
        sys.exit(code)
