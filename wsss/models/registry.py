"""Name → constructor registries, so params.yaml can say ``backbone: resnet38`` or ``method: seam``,
and what a model kind is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from wsss.errors import ConfigError


class Registry:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable] = {}

    def register(self, name: str) -> Callable[[Callable], Callable]:
        def decorate(fn: Callable) -> Callable:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._entries[name] = fn
            return fn

        return decorate

    def get(self, name: str) -> Callable:
        if name not in self._entries:
            raise ConfigError(f"unknown {self.kind} {name!r}; known: {sorted(self._entries)}")
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)


BACKBONES = Registry("backbone")
CLASSIFIERS = Registry("classifier")
SEGMENTERS = Registry("segmentation architecture")


@dataclass(frozen=True)
class ModelKind:
    """One kind of network: the name its model files carry, the spec dataclass that rebuilds it
    (stored in the file) and ``build(spec, weights=None)``. A model module defines its spec and its
    ``KIND``; readers name the kinds they accept, so a stage imports (and depends on) only those."""

    name: str
    spec: type
    build: Callable
