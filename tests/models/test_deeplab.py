import pytest
import torch

from wsss.errors import CheckpointError
from wsss.models import checkpoint
from wsss.models.deeplab import KIND, DeepLabASPP, SegmenterSpec, build_segmenter
from wsss.models.zoo import load_model, save_model

NAMES = ("background", "a", "b", "c")


def spec(arch, output_stride=16):
    return SegmenterSpec(arch, "efficientnet_lite0", NAMES, output_stride)


@pytest.mark.parametrize("arch", ["largefov", "aspp"])
@pytest.mark.parametrize("output_stride", [8, 16])
def test_logits_at_feature_resolution(arch, output_stride):
    model = build_segmenter(spec(arch, output_stride)).eval()
    logits = model(torch.randn(2, 3, 64, 96))
    assert logits.shape == (2, 4, 64 // output_stride, 96 // output_stride)


def test_head_dilation_keeps_the_field_of_view():
    fov8 = build_segmenter(spec("largefov", 8)).head[0]
    fov16 = build_segmenter(spec("largefov", 16)).head[0]
    assert (fov8.dilation, fov16.dilation) == ((12, 12), (6, 6))
    aspp = build_segmenter(spec("aspp", 8))
    assert [b.dilation[0] for b in aspp.branches] == [6, 12, 18, 24]


def test_aspp_is_the_sum_of_its_branches():
    torch.manual_seed(0)
    model = build_segmenter(spec("aspp")).eval()
    x = torch.randn(1, 3, 64, 64)
    feature = model.backbone(x)[-1]
    expected = sum(torch.nn.functional.conv2d(feature, b.weight, b.bias, padding=b.padding, dilation=b.dilation)
                   for b in model.branches)
    torch.testing.assert_close(model(x), expected)
    assert isinstance(model, DeepLabASPP)


def test_parameter_groups_separate_new_layers():
    model = build_segmenter(spec("largefov"))
    pretrained_w, pretrained_b, new_w, new_b = (set(map(id, g)) for g in model.parameter_groups())
    backbone = {id(p) for p in model.backbone.parameters() if p.requires_grad}
    assert pretrained_w | pretrained_b == backbone
    assert id(model.head[0].weight) in new_w and id(model.classifier.bias) in new_b
    assert id(model.head[1].weight) in new_w  # the head's BatchNorm trains
    frozen = {id(p) for p in model.backbone.parameters() if not p.requires_grad}
    assert frozen and not frozen & (pretrained_w | pretrained_b | new_w | new_b)


def test_checkpoint_round_trip_and_wrong_kind(tmp_path):
    model = build_segmenter(spec("largefov")).eval()
    save_model(tmp_path / "seg.pt", model, spec("largefov"))
    loaded, loaded_spec = load_model(tmp_path / "seg.pt", [KIND])
    assert loaded_spec == spec("largefov")
    x = torch.randn(1, 3, 48, 48)
    torch.testing.assert_close(loaded(x), model(x))
    checkpoint.save_model(tmp_path / "aff.pt", model, "affinity", {})
    with pytest.raises(CheckpointError, match="aff.pt: holds a 'affinity' model; expected 'segmenter'$"):
        load_model(tmp_path / "aff.pt", [KIND])
