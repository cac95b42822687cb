"""The wsss model file: state dict + the spec that rebuilds the architecture + free-form metadata.

Model files are read with ``weights_only=True``: only tensors and plain containers (dict, list, str,
numbers) are unpickled, so a file that holds Python objects (which could run code when loaded) is
refused before anything in it runs. The spec is validated field by field against its dataclass.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn

from wsss import io
from wsss.errors import CheckpointError, ConfigError

MODEL_FORMAT = "wsss-model-v1"


def save_model(path: str | Path, model: nn.Module, kind: str, spec: dict, extra: dict | None = None) -> None:
    state = {"format": MODEL_FORMAT, "kind": kind, "spec": spec, "extra": extra or {},
             "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    io.save_torch(path, state)


# The pipeline stage that writes each model file of a project (dvc repro <stage> makes it).
MODEL_STAGES = {"cls_cam.pt": "train_cls@cam", "cls_seam.pt": "train_cls@seam", "affinity.pt": "train_aff",
                "seg_seam.pt": "train_seg@seam", "mcis.pt": "pipelines/mcis/dvc.yaml:train_mcis",
                "seg_mcis.pt": "pipelines/mcis/dvc.yaml:train_seg_mcis", "getam.pt": "pipelines/getam/dvc.yaml:train_getam",
                "seg_getam_ms.pt": "pipelines/getam/dvc.yaml:train_seg_getam_ms"}


def _maker_hint(path: Path) -> str:
    stage = MODEL_STAGES.get(path.name) if path.parent.name == "models" else None
    return f" (dvc repro {stage} trains it)" if stage else ""


def read_checkpoint(path: str | Path, kind: str | None) -> dict:
    """A wsss checkpoint of the given kind (None: any); anything else raises CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found{_maker_hint(path)}")
    state = load_plain(path, "checkpoint")
    if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
        raise CheckpointError(f"{path}: not a wsss model checkpoint (use the import commands for original weights)")
    if kind is not None and state.get("kind") != kind:
        raise CheckpointError(f"{path}: holds a {state.get('kind')!r} model, expected {kind!r}")
    return state


def load_weights(path: str | Path, model: nn.Module, state: dict) -> None:
    try:
        model.load_state_dict(state["state_dict"], strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{path}: weights do not fit the model its spec describes ({error})") from error


def load_plain(path: str | Path, what: str = "file"):
    """``torch.load`` that unpickles only tensors and plain containers. A file that holds Python objects
    is refused, and a missing, truncated or foreign file is unreadable: either is one ``CheckpointError``
    naming the file (torch's own message advises ``weights_only=False``, which this project never does)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        offending = [line.strip() for line in str(error).splitlines() if "Unsupported global" in line]
        if offending:
            raise CheckpointError(f"{path}: refusing to load: the {what} holds Python objects, not only "
                                  f"tensors and plain values ({offending[0][:160]})") from None
        raise CheckpointError(f"{path}: cannot read {what} (not a torch file of tensors only)") from None
    except Exception as error:  # noqa: BLE001 - torch raises many types for corrupt files
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CheckpointError(f"{path}: cannot read {what} ({type(error).__name__}: {first[:160]})") from None


SpecT = TypeVar("SpecT")


def read_spec(path: str | Path, state: dict, cls: type[SpecT]) -> SpecT:
    """The checkpoint's spec as ``cls``; a missing, unknown or mistyped field is a CheckpointError."""
    from wsss.config import from_dict

    try:
        return from_dict(cls, state.get("spec"), where="spec")
    except ConfigError as error:
        raise CheckpointError(f"{path}: invalid model spec ({error})") from None
