"""Model files load without running code, and a crafted spec is one clean error."""

import os

import pytest
import torch

from tests.payload import MARKER_ENV, Payload
from wsss.errors import CheckpointError
from wsss.models.backbones import build_backbone
from wsss.models.checkpoint import MODEL_FORMAT
from wsss.models.classifier import KIND as CLASSIFIER
from wsss.models.classifier import (
    ClassifierSpec,
    build_classifier,
    import_original_seam_checkpoint,
)
from wsss.models.weights import load_resnet38_weights
from wsss.models.zoo import load_model, save_model


@pytest.fixture()
def malicious(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"format": MODEL_FORMAT, "kind": "classifier", "spec": Payload(), "state_dict": {}}, path)
    os.environ.pop(MARKER_ENV, None)
    yield path
    os.environ.pop(MARKER_ENV, None)


def test_malicious_model_file_runs_no_code(malicious):
    with pytest.raises(CheckpointError, match="refusing to load") as error:
        load_model(malicious, [CLASSIFIER])
    assert MARKER_ENV not in os.environ
    assert str(malicious) in str(error.value) and "\n" not in str(error.value)


def test_predict_refuses_malicious_model_file(malicious):
    from wsss.config import InferSegParams
    from wsss.segment import SegmentationRunner

    with pytest.raises(CheckpointError, match="refusing to load"):
        SegmentationRunner(malicious, InferSegParams(device="cpu"))
    assert MARKER_ENV not in os.environ


@pytest.mark.parametrize("reader", [
    lambda path: build_backbone("vgg16", weights=str(path)),
    lambda path: load_resnet38_weights(None, path),
    lambda path: import_original_seam_checkpoint(path, path.with_suffix(".out"), ["background", "a"]),
])
def test_every_weight_reader_refuses_objects_and_names_garbage(tmp_path, reader):
    """Backbone weights, ResNet-38 weights and original SEAM checkpoints go through the one weights-only
    reader: a file holding objects runs no code, a garbage file is unreadable, each one line naming it."""
    path = tmp_path / "weights.pth"
    torch.save({"conv.weight": torch.zeros(1), "extra": Payload()}, path)
    os.environ.pop(MARKER_ENV, None)
    with pytest.raises(CheckpointError, match=r"weights.pth: refusing to load: .*Unsupported global") as error:
        reader(path)
    assert MARKER_ENV not in os.environ and "weights_only" not in str(error.value) and "\n" not in str(error.value)
    path.write_bytes(b"not a weight file")
    with pytest.raises(CheckpointError, match=r"weights.pth: cannot read .*\(not a torch file of tensors only\)"):
        reader(path)


@pytest.mark.parametrize("spec", [
    {"method": "cam", "backbone": "efficientnet_lite0", "num_foreground": "3"},
    {"method": "cam", "backbone": "efficientnet_lite0", "num_foreground": 3, "evil": 1},
    ["cam"],
])
def test_crafted_spec_is_a_checkpoint_error(tmp_path, spec):
    path = tmp_path / "model.pt"
    torch.save({"format": MODEL_FORMAT, "kind": "classifier", "spec": spec, "state_dict": {}}, path)
    with pytest.raises(CheckpointError, match="invalid model spec"):
        load_model(path, [CLASSIFIER])


def test_saved_model_round_trips_and_is_world_readable(tmp_path):
    spec = ClassifierSpec("cam", "efficientnet_lite0", 3, 16, ("background", "a", "b", "c"))
    model = build_classifier(spec, weights=None)
    save_model(tmp_path / "m.pt", model, spec)
    loaded, loaded_spec = load_model(tmp_path / "m.pt", [CLASSIFIER])
    assert loaded_spec == spec
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.pt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_missing_project_model_names_the_stage_that_trains_it(tmp_path):
    with pytest.raises(CheckpointError, match=r"seg_seam.pt: checkpoint not found \(dvc repro train_seg@seam trains it\)$"):
        load_model(tmp_path / "models" / "seg_seam.pt", [CLASSIFIER])
    with pytest.raises(CheckpointError, match=r"mine.pt: checkpoint not found$"):
        load_model(tmp_path / "mine.pt", [CLASSIFIER])
