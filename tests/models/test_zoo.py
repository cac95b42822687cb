"""The model zoo: each model module defines its kind beside its spec; one save/load; readers name
the kinds they accept, and the zoo imports no model module itself."""

import ast
from pathlib import Path

import pytest
import torch

from wsss.errors import CheckpointError
from wsss.models import (
    affinity,
    checkpoint,
    classifier,
    coattention,
    deeplab,
    getam,
    zoo,
)
from wsss.models.affinity import AffinitySpec
from wsss.models.classifier import ClassifierSpec
from wsss.models.coattention import McisSpec
from wsss.models.deeplab import SegmenterSpec
from wsss.models.getam import GetamSpec
from wsss.models.zoo import build_model, kind_of, load_model, save_model

NAMES = ("background", "cat", "dog")
SPECS = [
    ClassifierSpec("seam", "efficientnet_lite0", 2, 16, NAMES),
    AffinitySpec("efficientnet_lite0", 8, 5),
    SegmenterSpec("largefov", "efficientnet_lite0", NAMES, 16),
    McisSpec("efficientnet_lite0", 2, 16, 8, NAMES, 0.01),
    GetamSpec("lite0_vit_tiny", NAMES, 8, 2),
]
KINDS = [classifier.KIND, affinity.KIND, deeplab.KIND, coattention.KIND, getam.KIND]


def test_each_spec_finds_the_kind_its_module_defines():
    assert [kind_of(spec) for spec in SPECS] == KINDS
    assert len({kind.name for kind in KINDS}) == len(KINDS)
    assert all(kind.spec is type(spec) for kind, spec in zip(KINDS, SPECS))


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: type(spec).__name__)
def test_every_kind_round_trips_through_one_save_and_load(tmp_path, spec):
    torch.manual_seed(0)
    model = build_model(spec).eval()
    save_model(tmp_path / "m.pt", model, spec, {"steps": 3})
    state = checkpoint.read_checkpoint(tmp_path / "m.pt", None)
    assert state["kind"] == kind_of(spec).name and state["extra"] == {"steps": 3}
    loaded, loaded_spec = load_model(tmp_path / "m.pt", [kind_of(spec)])
    assert loaded_spec == spec and not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_a_file_of_a_kind_the_reader_does_not_accept_is_refused_naming_the_expected_kinds(tmp_path):
    spec = SPECS[1]
    save_model(tmp_path / "aff.pt", build_model(spec), spec)
    with pytest.raises(CheckpointError, match=r"aff\.pt: holds a 'affinity' model; expected 'getam' or 'segmenter'$"):
        load_model(tmp_path / "aff.pt", [deeplab.KIND, getam.KIND])


def test_an_unknown_kind_is_refused(tmp_path):
    torch.save({"format": checkpoint.MODEL_FORMAT, "kind": "irn", "spec": {}, "extra": {}, "state_dict": {}},
               tmp_path / "irn.pt")
    with pytest.raises(CheckpointError, match=r"irn\.pt: holds a 'irn' model; expected 'classifier'$"):
        load_model(tmp_path / "irn.pt", [classifier.KIND])


def test_a_spec_of_no_kind_is_a_type_error():
    with pytest.raises(TypeError, match="dict is not the spec"):
        build_model({"backbone": "efficientnet_lite0"})


def test_the_zoo_imports_no_model_module():
    """What keeps a stage's code deps to the model modules it imports itself."""
    tree = ast.parse(Path(zoo.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith("wsss.models.")} - {"wsss.models.registry"}
    assert "importlib" not in imported and "pkgutil" not in imported
