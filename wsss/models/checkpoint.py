"""The wsss model file: state dict + the spec that rebuilds the architecture + free-form metadata."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from wsss import io
from wsss.errors import CheckpointError

MODEL_FORMAT = "wsss-model-v1"


def save_model(path: str | Path, model: nn.Module, kind: str, spec: dict, extra: dict | None = None) -> None:
    state = {"format": MODEL_FORMAT, "kind": kind, "spec": spec, "extra": extra or {},
             "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    io.save_torch(path, state)


def read_checkpoint(path: str | Path, kind: str | None) -> dict:
    """A wsss checkpoint of the given kind (None: any); anything else raises CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # noqa: BLE001 - torch raises many types for corrupt files
        raise CheckpointError(f"{path}: cannot read checkpoint ({error})") from error
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


def read_checkpoint_kind(path: str | Path) -> str:
    return read_checkpoint(path, None)["kind"]
