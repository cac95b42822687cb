"""One way to build, save and load every kind of network.

Each model module registers its kind (:class:`~wsss.models.registry.ModelKind`) when imported; the
zoo imports every module of ``wsss.models`` before its first lookup, so a new kind needs nothing but
its own module. Model files hold the kind's name, its spec as plain values, and the weights.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

import wsss.models
from wsss.errors import CheckpointError
from wsss.models import checkpoint
from wsss.models.registry import MODEL_KINDS, ModelKind


@lru_cache(maxsize=1)
def _import_model_modules() -> None:
    for module in pkgutil.walk_packages(wsss.models.__path__, "wsss.models."):
        if module.name != __name__:
            importlib.import_module(module.name)


def model_kinds() -> list[ModelKind]:
    _import_model_modules()
    return [MODEL_KINDS.get(name) for name in MODEL_KINDS.names()]


def kind_of(spec) -> ModelKind:
    """The registered kind whose spec type ``spec`` is."""
    for kind in model_kinds():
        if type(spec) is kind.spec:
            return kind
    raise TypeError(f"{type(spec).__name__} is not the spec of a registered model kind")


def build_model(spec, weights: str | None = None) -> nn.Module:
    """A fresh network of ``spec``'s kind; ``weights``: pretrained backbone/encoder weights, if any."""
    return kind_of(spec).build(spec, weights)


def save_model(path: str | Path, model: nn.Module, spec, extra: dict | None = None) -> None:
    checkpoint.save_model(path, model, kind_of(spec).name, asdict(spec), extra)


def load_model(path: str | Path, device: torch.device | str = "cpu", use: str | None = None):
    """(model in eval mode on ``device``, spec) from a model file; with ``use``, a file whose kind
    cannot serve that use is refused in one line naming the file and the kinds that can."""
    _import_model_modules()
    state = checkpoint.read_checkpoint(path, None)
    if state.get("kind") not in MODEL_KINDS.names():
        raise CheckpointError(f"{path}: holds an unknown model kind {state.get('kind')!r}; known: {MODEL_KINDS.names()}")
    kind = MODEL_KINDS.get(state["kind"])
    if use is not None and use not in kind.uses:
        able = sorted(k.name for k in model_kinds() if use in k.uses)
        raise CheckpointError(f"{path}: holds a {kind.name!r} model, which cannot be used for {use}; "
                              f"expected {' or '.join(map(repr, able))}")
    spec = checkpoint.read_spec(path, state, kind.spec)
    model = kind.build(spec, None)
    checkpoint.load_weights(path, model, state)
    return model.to(device).eval(), spec
