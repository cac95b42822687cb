"""Named parameter sets (``recipes/*.yaml``) merged into params.yaml, comments kept.

A recipe has the layout of params.yaml but only the keys it changes; a key that params.yaml does not
have is an error (a typo would otherwise be ignored). ``--set section.key=value`` adds values on top
(parsed as YAML, as ``dvc exp run -S`` does).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from wsss import io
from wsss.errors import ConfigError
from wsss.params.sections import check_params_document


def merge(target, overlay: dict, where: str = "") -> list[str]:
    """Write ``overlay``'s values into the mapping ``target`` in place; returns the keys changed."""
    changed = []
    for key, value in overlay.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in target:
            raise ConfigError(f"recipe key {path!r} is not in params.yaml")
        if isinstance(value, dict):
            if not isinstance(target[key], dict):
                raise ConfigError(f"recipe key {path!r} is a section, params.yaml has a value there")
            changed += merge(target[key], value, path)
        elif target[key] != value:
            target[key] = _flow(value)
            changed.append(path)
    return changed


def _flow(value):
    """Lists stay on one line, as params.yaml writes them."""
    if not isinstance(value, list):
        return value
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(value)
    seq.fa.set_flow_style()
    return seq


def parse_set(text: str) -> dict:
    """``a.b.c=value`` → {"a": {"b": {"c": value}}}."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    key, raw = text.split("=", 1)
    value = yaml.safe_load(raw)
    for part in reversed(key.split(".")):
        value = {part: value}
    return value


def apply_recipe(params_file: str | Path, recipe_file: str | Path | None, sets: list[str]) -> list[str]:
    """Merge the recipe and the ``--set`` values into ``params_file``; returns the keys changed."""
    from io import StringIO

    from ruamel.yaml import YAML

    params_file = Path(params_file)
    round_trip = YAML()
    round_trip.width = 4096
    round_trip.preserve_quotes = True
    document = round_trip.load(params_file.read_text())
    changed: list[str] = []
    if recipe_file is not None:
        recipe_file = Path(recipe_file)
        if not recipe_file.is_file():
            raise ConfigError(f"{recipe_file}: recipe not found")
        overlay = yaml.safe_load(recipe_file.read_text()) or {}
        if not isinstance(overlay, dict):
            raise ConfigError(f"{recipe_file}: a recipe is a mapping of params.yaml sections")
        changed += merge(document, overlay)
    for text in sets:
        changed += merge(document, parse_set(text))
    check_params_document(document, str(params_file))   # nothing is written unless every value is valid
    buffer = StringIO()
    round_trip.dump(document, buffer)
    io.write_text(params_file, buffer.getvalue())
    return sorted(set(changed))
