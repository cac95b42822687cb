"""The report's table of params that differ from the library's defaults.

It reads the whole params document, so the report stages depend on every method's params sections;
the scores stages, which read metrics only, do not import this.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from wsss.config import from_dict
from wsss.params.sections import PARAMS_SECTIONS


def params_changed(root: Path) -> list[tuple[str, object, object]]:
    """(key, value, default) for every params.yaml value that differs from the library's default."""
    document = yaml.safe_load((root / "params.yaml").read_text()) if (root / "params.yaml").is_file() else {}
    changed = []
    for name, section in document.items():
        entries = section.items() if name == "train_cls" else [(None, section)]
        for key, values in entries:
            cls = PARAMS_SECTIONS.get(name)
            if cls is None or not isinstance(values, dict):
                continue
            where = f"{name}.{key}" if key else name
            actual = _flatten(dataclasses.asdict(from_dict(cls, values, where)), where)
            default = _flatten(dataclasses.asdict(cls()), where)
            changed += [(k, v, default.get(k)) for k, v in actual.items() if default.get(k) != v]
    return changed


def _flatten(values: dict, prefix: str) -> dict:
    out = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}.{key}"))
        else:
            out[f"{prefix}.{key}"] = value
    return out
