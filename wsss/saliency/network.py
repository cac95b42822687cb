"""U^2-Net salient-object detection (Qin et al., Pattern Recognition 2020), for inference.

The network is a two-level nested U: six encoder stages and five decoder stages, each a residual
U-block (RSU) that is itself a small U-Net; a 3×3 side output per stage, upsampled to the input and
fused by a 1×1 convolution. Two sizes exist: U^2-Net (176 MB) and U^2-Netp (4.6 MB, 16 mid channels).

The released weights come as ONNX files whose BatchNorms are folded into the convolutions, so each
conv-BN-ReLU of the paper is a biased convolution and a ReLU here. :func:`load_onnx_weights` reads the
file's initializers (no onnxruntime needed) and assigns them to the convolutions in the order the
graph runs them, checking every shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from wsss.errors import CheckpointError


def _conv(cin: int, cout: int, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation)


def _upsample_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)


def _pool(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, 2, 2, ceil_mode=True)


class ResidualUBlock(nn.Module):
    """RSU-L: an input conv, then a U-Net of ``height`` levels whose output is added to the input conv's.

    With ``pooled`` the encoder halves the resolution between levels and the bottom conv is dilated by 2
    (RSU-7…RSU-4); without it the resolution stays and the dilations grow 1, 2, 4, 8 (RSU-4F).
    """

    def __init__(self, height: int, cin: int, mid: int, cout: int, pooled: bool = True) -> None:
        super().__init__()
        self.pooled = pooled
        dilations = [1] * (height - 1) + [2] if pooled else [2 ** k for k in range(height)]
        self.conv_in = _conv(cin, cout)
        self.encoder = nn.ModuleList(
            _conv(cout if k == 0 else mid, mid, d) for k, d in enumerate(dilations))
        self.decoder = nn.ModuleList(  # from the level below the bottom back up to the first
            _conv(2 * mid, cout if k == height - 2 else mid, dilations[height - 2 - k]) for k in range(height - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        start = F.relu(self.conv_in(x))
        skips, h = [], start
        for k, conv in enumerate(self.encoder):
            if self.pooled and 0 < k < len(self.encoder) - 1:
                h = _pool(h)
            h = F.relu(conv(h))
            skips.append(h)
        h = skips.pop()
        for k, conv in enumerate(self.decoder):
            skip = skips.pop()
            if self.pooled and k > 0:            # the bottom conv ran at its input's resolution
                h = _upsample_to(h, skip)
            h = F.relu(conv(torch.cat([h, skip], 1)))
        return h + start


@dataclass(frozen=True)
class U2NetSize:
    encoder: tuple[tuple[int, int, int], ...]      # (in, mid, out) of stages 1..6
    decoder: tuple[tuple[int, int, int], ...]      # of decoder stages 5d..1d


U2NET_SIZES = {
    "u2net": U2NetSize(
        encoder=((3, 32, 64), (64, 32, 128), (128, 64, 256), (256, 128, 512), (512, 256, 512), (512, 256, 512)),
        decoder=((1024, 256, 512), (1024, 128, 256), (512, 64, 128), (256, 32, 64), (128, 16, 64))),
    "u2netp": U2NetSize(
        encoder=((3, 16, 64),) + ((64, 16, 64),) * 5,
        decoder=((128, 16, 64),) * 5),
}
STAGE_HEIGHTS = (7, 6, 5, 4, 4, 4)   # stages 5 and 6 (and decoder 5d) are the unpooled RSU-4F


class U2Net(nn.Module):
    """Input: N×3×H×W normalised images. Output: N×1×H×W fused saliency probabilities."""

    def __init__(self, size: str = "u2netp") -> None:
        super().__init__()
        if size not in U2NET_SIZES:
            raise ValueError(f"unknown U^2-Net size {size!r}; known: {', '.join(U2NET_SIZES)}")
        spec = U2NET_SIZES[size]
        self.encoder = nn.ModuleList(
            ResidualUBlock(h, *channels, pooled=k < 4) for k, (h, channels) in enumerate(zip(STAGE_HEIGHTS, spec.encoder)))
        self.decoder = nn.ModuleList(
            ResidualUBlock(h, *channels, pooled=k > 0)
            for k, (h, channels) in enumerate(zip(STAGE_HEIGHTS[4::-1], spec.decoder)))
        side_channels = [spec.decoder[4 - k][2] for k in range(5)] + [spec.encoder[5][2]]
        self.sides = nn.ModuleList(nn.Conv2d(c, 1, 3, padding=1) for c in side_channels)
        self.fuse = nn.Conv2d(6, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips, h = [], x
        for k, stage in enumerate(self.encoder):
            if k > 0:
                h = _pool(h)
            h = stage(h)
            skips.append(h)
        decoded = [skips.pop()]                      # stage 6's output, then 5d, 4d, ... 1d
        for stage in self.decoder:
            skip = skips.pop()
            decoded.append(stage(torch.cat([_upsample_to(decoded[-1], skip), skip], 1)))
        by_level = decoded[::-1]                     # 1d, 2d, ... 5d, 6
        sides = [side(h) for side, h in zip(self.sides, by_level)]
        sides = [sides[0]] + [_upsample_to(s, sides[0]) for s in sides[1:]]
        return torch.sigmoid(self.fuse(torch.cat(sides, 1)))


def _conv_order(model: nn.Module, size: tuple[int, int] = (64, 64)) -> list[nn.Conv2d]:
    """The model's convolutions in the order a forward pass runs them (each listed once)."""
    order: list[nn.Conv2d] = []
    hooks = [m.register_forward_hook(lambda m, *_: order.append(m))
             for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, *size))
    finally:
        for hook in hooks:
            hook.remove()
    return order


def load_onnx_weights(model: U2Net, path: str | Path) -> U2Net:
    """Copy a released U^2-Net ONNX file's convolution weights into ``model`` (graph order, shapes checked)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    path = Path(path)
    try:
        graph = onnx.load(str(path)).graph
    except Exception as error:  # noqa: BLE001 - protobuf raises several types for foreign files
        raise CheckpointError(f"{path}: cannot read the ONNX model ({type(error).__name__})") from None
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    modules = _conv_order(model)
    if len(convs) != len(modules):
        raise CheckpointError(f"{path}: {len(convs)} convolutions, this U^2-Net has {len(modules)} "
                              "(another size or another network)")
    with torch.no_grad():
        for node, module in zip(convs, modules):
            if len(node.input) != 3 or node.input[1] not in tensors or node.input[2] not in tensors:
                raise CheckpointError(f"{path}: convolution {node.name or node.output[0]} has no stored weight and bias")
            weight, bias = tensors[node.input[1]], tensors[node.input[2]]
            if tuple(weight.shape) != tuple(module.weight.shape):
                raise CheckpointError(f"{path}: a convolution of shape {tuple(weight.shape)} where this U^2-Net has "
                                      f"{tuple(module.weight.shape)} (another size or another network)")
            module.weight.copy_(torch.from_numpy(np.array(weight, np.float32)))
            module.bias.copy_(torch.from_numpy(np.array(bias, np.float32)))
    return model.eval()
