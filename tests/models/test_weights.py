import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wsss.errors import CheckpointError
from wsss.models.backbones.resnet38 import ResNet38
from wsss.models.classifier import KIND as CLASSIFIER
from wsss.models.classifier import import_original_seam_checkpoint
from wsss.models.seam import SeamNet
from wsss.models.weights import (
    export_original_seam,
    load_resnet38_weights,
    read_mxnet_params,
    write_mxnet_params,
)
from wsss.models.zoo import load_model


@pytest.mark.parametrize("version", [0, 1, 2])
def test_mxnet_container_round_trip(tmp_path, version):
    arrays = {
        "arg:conv1a_weight": np.random.default_rng(0).normal(size=(4, 3, 3, 3)).astype(np.float32),
        "aux:bn7_moving_var": np.arange(5, dtype=np.float32),
        "arg:half": np.ones((2, 2), np.float16),
    }
    write_mxnet_params(tmp_path / "w.params", arrays, version=version)
    loaded = read_mxnet_params(tmp_path / "w.params")
    assert list(loaded) == list(arrays)
    for key in arrays:
        assert loaded[key].dtype == arrays[key].dtype
        np.testing.assert_array_equal(loaded[key], arrays[key])


def test_mxnet_reader_rejects_other_files(tmp_path):
    (tmp_path / "x.params").write_bytes(b"\x00" * 40)
    with pytest.raises(CheckpointError, match="x.params"):
        read_mxnet_params(tmp_path / "x.params")
    write_mxnet_params(tmp_path / "t.params", {"a": np.zeros(100, np.float32)})
    (tmp_path / "t.params").write_bytes((tmp_path / "t.params").read_bytes()[:60])
    with pytest.raises(CheckpointError, match="truncated"):
        read_mxnet_params(tmp_path / "t.params")


def mxnet_name(key: str) -> str:
    """Our ResNet-38 key → the ademxapp MXNet name (inverse of the documented mapping)."""
    if key == "conv1a.weight":
        return "arg:conv1a_weight"
    suffix = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_var"}
    if key.startswith("bn7."):
        param = key.split(".")[1]
        return f"{'aux' if 'running' in param else 'arg'}:bn7_{suffix[param]}"
    block, layer, param = key.split(".")
    stage, index = re.fullmatch(r"b(\d)(?:_(\d))?", block).groups()
    unit = f"{stage}a" if index is None else f"{stage}b{index}"
    branch = layer.split("_", 1)[1]
    if layer.startswith("conv"):
        return f"arg:res{unit}_{branch}_weight"
    return f"{'aux' if 'running' in param else 'arg'}:bn{unit}_{branch}_{suffix[param]}"


@pytest.fixture(scope="module")
def resnet38_state():
    torch.manual_seed(0)
    model = ResNet38()
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def test_resnet38_loads_from_mxnet_file(tmp_path, resnet38_state):
    arrays = {mxnet_name(k): v.numpy() for k, v in resnet38_state.items()}
    arrays["arg:linear1000_weight"] = np.zeros((1000, 4096), np.float32)  # the ImageNet classifier is dropped
    write_mxnet_params(tmp_path / "ilsvrc.params", arrays, version=0)
    fresh = ResNet38()
    load_resnet38_weights(fresh, tmp_path / "ilsvrc.params")
    for key, value in resnet38_state.items():
        assert torch.equal(fresh.state_dict()[key], value), key


def test_resnet38_weights_missing_tensors_are_reported(tmp_path, resnet38_state):
    arrays = {mxnet_name(k): v.numpy() for k, v in list(resnet38_state.items())[:10]}
    write_mxnet_params(tmp_path / "partial.params", arrays)
    with pytest.raises(CheckpointError, match="missing"):
        load_resnet38_weights(ResNet38(), tmp_path / "partial.params")


def reference_seam_forward(state, backbone, x):
    """SEAM's forward re-derived from the spec with plain tensor ops on the original-layout weights."""
    conv4, conv5, conv6 = backbone(x)
    cam = F.conv2d(conv6, state["fc8.weight"])
    n, c, h, w = cam.shape
    relu_cam = torch.relu(cam)
    peak = relu_cam.view(n, c, -1).max(-1)[0].view(n, c, 1, 1) + 1e-5
    norm = torch.relu(relu_cam - 1e-5) / peak
    fg_max = norm[:, 1:].max(1, keepdim=True)[0]
    fg = norm[:, 1:].clone()
    fg[fg < fg_max] = 0
    seeds = torch.cat([1 - fg_max, fg], 1)
    f = torch.cat([
        F.interpolate(x, (h, w), mode="bilinear", align_corners=True),
        torch.relu(F.conv2d(conv4, state["f8_3.weight"])),
        torch.relu(F.conv2d(conv5, state["f8_4.weight"])),
    ], 1)
    g = F.conv2d(f, state["f9.weight"]).view(n, 192, -1)
    g = g / (torch.norm(g, dim=1, keepdim=True) + 1e-5)
    aff = torch.relu(torch.matmul(g.transpose(1, 2), g))
    aff = aff / (torch.sum(aff, dim=1, keepdim=True) + 1e-5)
    rv = torch.matmul(seeds.view(n, c, -1), aff).view(n, c, h, w)
    return F.interpolate(rv, x.shape[2:], mode="bilinear", align_corners=True)


def test_original_seam_checkpoint_reproduces_reference_cams(tmp_path):
    torch.manual_seed(1)
    original_model = SeamNet(ResNet38(), num_foreground=20)
    original_state = export_original_seam(original_model.state_dict())
    assert "conv1a.weight" in original_state and "fc8.weight" in original_state
    assert original_state["fc8.weight"].shape == (21, 4096, 1, 1)
    torch.save({f"module.{k}": v for k, v in original_state.items()}, tmp_path / "resnet38_SEAM.pth")
    names = ["background"] + [f"c{i}" for i in range(20)]
    import_original_seam_checkpoint(tmp_path / "resnet38_SEAM.pth", tmp_path / "seam.pt", names)
    model, spec = load_model(tmp_path / "seam.pt", [CLASSIFIER])
    assert spec.method == "seam" and spec.backbone == "resnet38"
    reference_backbone = ResNet38()
    reference_backbone.load_state_dict({k: v for k, v in original_state.items() if not k.startswith(("fc8", "f8_", "f9"))}, strict=False)
    reference_backbone.eval()
    x = torch.randn(1, 3, 48, 56)
    with torch.no_grad():
        expected = reference_seam_forward(original_state, reference_backbone, x)
        _, got = model(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_wrong_checkpoint_is_named(tmp_path):
    torch.save({"fc8.weight": torch.zeros(5, 4096, 1, 1)}, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match="bad.pth.*fc8 has 5"):
        import_original_seam_checkpoint(tmp_path / "bad.pth", tmp_path / "o.pt", ["bg"] + ["c"] * 20)
    torch.save({"x": 1}, tmp_path / "notours.pt")
    with pytest.raises(CheckpointError, match="not a wsss model checkpoint"):
        load_model(tmp_path / "notours.pt", [CLASSIFIER])
