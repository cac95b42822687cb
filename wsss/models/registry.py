"""Name → constructor registries, so params.yaml can say ``backbone: resnet38`` or ``method: seam``."""

from __future__ import annotations

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
