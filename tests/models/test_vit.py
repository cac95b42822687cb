"""ViT encoders: tap layout, prefix tokens, local weight files, and the GETAM network around them."""

import pytest
import torch

from wsss.cams.getam import getam_maps
from wsss.errors import CheckpointError, ConfigError
from wsss.models.getam import GetamNet, GetamSpec, build_getam
from wsss.models.vit import build_encoder


def test_demo_encoder_taps():
    encoder = build_encoder("lite0_vit_tiny", None, depth=3)
    prefix, taps, grid = encoder(torch.randn(2, 3, 64, 96))
    assert grid == (4, 6) and prefix.shape == (2, 1, 192)
    assert [t.shape for t in taps] == [(2, 24, 16, 24), (2, 40, 8, 12), (2, 25, 192), (2, 25, 192)]
    with pytest.raises(ValueError, match="multiple of 16"):
        encoder(torch.randn(1, 3, 40, 64))


@pytest.fixture(scope="module")
def distilled():
    torch.manual_seed(0)
    return GetamNet(build_encoder("deit_b16_distilled"), num_classes=3, features=16).eval()


def test_distilled_deit_layout_and_maps(distilled):
    encoder = distilled.encoder
    assert encoder.num_prefix_tokens == 2 and encoder.depth == 12 and encoder.layout.block_taps == (2, 5, 8, 11)
    pyramid = distilled.pyramid(torch.randn(1, 3, 64, 64))
    # strides 4, 8, 16, 32 with DPT's ViT-B channels
    assert [tuple(p.shape[1:]) for p in pyramid] == [(96, 16, 16), (192, 8, 8), (384, 4, 4), (768, 2, 2)]
    maps = getam_maps(distilled, torch.randn(1, 3, 64, 64), torch.tensor([[0.0, 1.0]]), start_block=6)
    assert maps.shape == (1, 2, 4, 4) and maps[0, 1].sum() > 0 and maps[0, 0].sum() == 0


def test_timm_encoder_weight_file_errors(tmp_path):
    bad = tmp_path / "vit.pth"
    bad.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="vit.pth"):
        build_encoder("vit_b16", str(bad))
    with pytest.raises(ConfigError, match="unknown encoder"):
        build_encoder("vit_gigantic")
    with pytest.raises(ConfigError, match="depth"):
        build_encoder("lite0_vit_tiny", None, depth=1)


@pytest.mark.slow
def test_timm_encoder_loads_a_local_weight_file(tmp_path):
    import timm

    source = timm.create_model("deit_base_patch16_384", pretrained=False, num_classes=0)
    torch.save(source.state_dict(), tmp_path / "deit.pth")
    model = build_getam(GetamSpec("deit_b16", ("background", "a", "b"), features=16), str(tmp_path / "deit.pth"))
    for name, value in source.state_dict().items():
        torch.testing.assert_close(model.encoder.vit.state_dict()[name], value)
    assert len(model.parameter_groups()[0]) > 0  # the ViT counts as pretrained


@pytest.mark.parametrize("distilled_tokens", [False, True])
def test_position_embedding_is_resized_bilinearly_as_getam(distilled_tokens):
    import torch.nn.functional as F
    from timm.models.deit import VisionTransformerDistilled
    from timm.models.vision_transformer import VisionTransformer

    from wsss.models.vit import add_position_embedding

    torch.manual_seed(0)
    cls = VisionTransformerDistilled if distilled_tokens else VisionTransformer
    vit = cls(img_size=64, patch_size=16, embed_dim=8, depth=1, num_heads=2, num_classes=0,
              dynamic_img_size=True).eval()
    torch.nn.init.normal_(vit.pos_embed)
    prefix = vit.num_prefix_tokens
    native = vit.patch_embed(torch.randn(2, 3, 64, 64))
    torch.testing.assert_close(add_position_embedding(vit, native), vit._pos_embed(native))  # 4×4: no resize
    patches = vit.patch_embed(torch.randn(2, 3, 96, 48))  # 6×3 grid
    grid = vit.pos_embed[:, prefix:].reshape(1, 4, 4, 8).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(6, 3), mode="bilinear", align_corners=False).permute(0, 2, 3, 1).reshape(1, 18, 8)
    tokens = torch.cat([vit.cls_token.expand(2, -1, -1)] + ([vit.dist_token.expand(2, -1, -1)] if distilled_tokens else [])
                       + [patches.reshape(2, 18, 8)], dim=1)
    expected = tokens + torch.cat([vit.pos_embed[:, :prefix], grid], dim=1)
    out = add_position_embedding(vit, patches)
    torch.testing.assert_close(out, expected)
    assert (out - vit._pos_embed(patches)).abs().max() > 1e-3  # timm's bicubic+antialias differs
