"""Recipes merge into params.yaml by key, keep its comments, and reject keys params.yaml lacks."""

from pathlib import Path

import pytest
import yaml

from wsss.config import PrepareParams, from_dict
from wsss.errors import ConfigError
from wsss.params.seam import TrainClsParams
from wsss.recipe import apply_recipe

REPO = Path(__file__).resolve().parent.parent


def test_recipe_and_sets_merge_with_comments_kept(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("a:\n  b: 1      # why b\n  c: [1, 2]\nd: x\n")
    (tmp_path / "r.yaml").write_text("a:\n  c: [3, 4]\n")
    changed = apply_recipe(params, tmp_path / "r.yaml", ["d=y", "a.b=1"])
    assert changed == ["a.c", "d"]
    assert params.read_text() == "a:\n  b: 1      # why b\n  c: [3, 4]\nd: y\n"


def test_unknown_recipe_key_is_an_error(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("a:\n  b: 1\n")
    with pytest.raises(ConfigError, match="'a.bb' is not in params.yaml"):
        apply_recipe(params, None, ["a.bb=2"])
    assert params.read_text() == "a:\n  b: 1\n"


@pytest.mark.parametrize("recipe", sorted((REPO / "recipes").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_recipes_give_valid_params(tmp_path, recipe):
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "params.yaml").read_text())
    apply_recipe(params, recipe, [])
    document = yaml.safe_load(params.read_text())
    from_dict(PrepareParams, document["prepare"], "prepare")
    for name, section in document["train_cls"].items():
        from_dict(TrainClsParams, section, f"train_cls.{name}")
