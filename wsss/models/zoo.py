"""One way to build, save and load every kind of network.

A model module defines its spec dataclass and its ``KIND`` (:class:`~wsss.models.registry.ModelKind`).
Building or saving goes through the spec's own module; loading names the kinds the reader accepts.
Nothing here imports a model module, so a stage's code dependencies are the model modules it
imports itself (an edit of GETAM's network does not rerun SEAM's stages). Model files hold the
kind's name, its spec as plain values, and the weights.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from wsss.errors import CheckpointError
from wsss.models import checkpoint
from wsss.models.registry import ModelKind


def kind_of(spec) -> ModelKind:
    """The kind defined beside ``spec``'s type (its module's ``KIND``)."""
    kind = getattr(sys.modules.get(type(spec).__module__), "KIND", None)
    if not isinstance(kind, ModelKind) or kind.spec is not type(spec):
        raise TypeError(f"{type(spec).__name__} is not the spec of a model kind")
    return kind


def build_model(spec, weights: str | None = None) -> nn.Module:
    """A fresh network of ``spec``'s kind; ``weights``: pretrained backbone/encoder weights, if any."""
    return kind_of(spec).build(spec, weights)


def save_model(path: str | Path, model: nn.Module, spec, extra: dict | None = None) -> None:
    checkpoint.save_model(path, model, kind_of(spec).name, asdict(spec), extra)


def load_model(path: str | Path, kinds: Sequence[ModelKind], device: torch.device | str = "cpu"):
    """(model in eval mode on ``device``, spec) from a model file of one of ``kinds``; a file of any
    other kind is refused in one line naming the file and the kinds expected."""
    state = checkpoint.read_checkpoint(path, None)
    by_name = {kind.name: kind for kind in kinds}
    if state.get("kind") not in by_name:
        raise CheckpointError(f"{path}: holds a {state.get('kind')!r} model; "
                              f"expected {' or '.join(map(repr, sorted(by_name)))}")
    kind = by_name[state["kind"]]
    spec = checkpoint.read_spec(path, state, kind.spec)
    model = kind.build(spec, None)
    checkpoint.load_weights(path, model, state)
    return model.to(device).eval(), spec
