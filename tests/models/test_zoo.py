"""The model zoo: one registry entry per kind, one save/load, and loaders that ask for a use."""

import pytest
import torch

from wsss.errors import CheckpointError
from wsss.models import checkpoint
from wsss.models.affinity import AffinitySpec
from wsss.models.classifier import ClassifierSpec
from wsss.models.coattention import McisSpec
from wsss.models.deeplab import SegmenterSpec
from wsss.models.getam import GetamSpec
from wsss.models.zoo import build_model, kind_of, load_model, model_kinds, save_model

NAMES = ("background", "cat", "dog")
SPECS = [
    ClassifierSpec("seam", "efficientnet_lite0", 2, 16, NAMES),
    AffinitySpec("efficientnet_lite0", 8, 5),
    SegmenterSpec("largefov", "efficientnet_lite0", NAMES, 16),
    McisSpec("efficientnet_lite0", 2, 16, 8, NAMES, 0.01),
    GetamSpec("lite0_vit_tiny", NAMES, 8, 2),
]


def test_every_kind_is_registered_once_with_its_uses():
    kinds = {kind.name: kind for kind in model_kinds()}
    assert set(kinds) == {"classifier", "affinity", "segmenter", "mcis", "getam"}
    assert {name for name, kind in kinds.items() if "segment" in kind.uses} == {"segmenter", "getam"}
    assert [kind_of(spec).spec for spec in SPECS] == [type(spec) for spec in SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: type(spec).__name__)
def test_every_kind_round_trips_through_one_save_and_load(tmp_path, spec):
    torch.manual_seed(0)
    model = build_model(spec).eval()
    save_model(tmp_path / "m.pt", model, spec, {"steps": 3})
    state = checkpoint.read_checkpoint(tmp_path / "m.pt", None)
    assert state["kind"] == kind_of(spec).name and state["extra"] == {"steps": 3}
    loaded, loaded_spec = load_model(tmp_path / "m.pt", use=kind_of(spec).uses[0])
    assert loaded_spec == spec and not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_a_file_of_the_wrong_use_is_refused_naming_the_kinds_that_fit(tmp_path):
    spec = SPECS[1]
    save_model(tmp_path / "aff.pt", build_model(spec), spec)
    with pytest.raises(CheckpointError, match=r"aff\.pt: holds a 'affinity' model, which cannot be used for segment; "
                                              r"expected 'getam' or 'segmenter'") as error:
        load_model(tmp_path / "aff.pt", use="segment")
    assert "\n" not in str(error.value)


def test_an_unknown_kind_is_refused(tmp_path):
    torch.save({"format": checkpoint.MODEL_FORMAT, "kind": "irn", "spec": {}, "extra": {}, "state_dict": {}},
               tmp_path / "irn.pt")
    with pytest.raises(CheckpointError, match=r"irn\.pt: holds an unknown model kind 'irn'"):
        load_model(tmp_path / "irn.pt")


def test_a_spec_of_no_kind_is_a_type_error():
    with pytest.raises(TypeError, match="dict is not the spec"):
        build_model({"backbone": "efficientnet_lite0"})
