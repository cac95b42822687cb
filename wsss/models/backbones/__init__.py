"""Backbones register themselves on import; build one with :func:`build_backbone`."""

from wsss.models.backbones import efficientnet, resnet38, torchvision_resnet, vgg  # noqa: F401  (registration)
from wsss.models.backbones.base import Backbone
from wsss.models.registry import BACKBONES


def build_backbone(name: str, weights: str | None = None, output_stride: int = 8) -> Backbone:
    backbone = BACKBONES.get(name)(weights=weights or None, output_stride=output_stride)
    backbone.freeze()
    return backbone
