"""GETAM's network (GETAM §6.1): a ViT encoder, the DPT decoder predicting background + C classes,
and a classifier (GAP of the deepest reassembled tap → Linear) that the GETAM maps explain."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.dpt import DptDecoder, Reassemble
from wsss.models.heads import parameter_groups
from wsss.models.registry import ModelKind
from wsss.models.vit import PATCH, VitEncoder, build_encoder


@dataclass(frozen=True)
class GetamSpec:
    """Everything needed to rebuild the network (stored in its checkpoint)."""

    encoder: str
    class_names: tuple[str, ...]        # background first
    features: int = 256                 # decoder width (DPT: 256)
    depth: int = 6                      # transformer blocks of the demo encoder (timm encoders: fixed)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


class GetamNet(nn.Module):
    def __init__(self, encoder: VitEncoder, num_classes: int, features: int = 256) -> None:
        super().__init__()
        self.encoder = encoder
        dim, prefix = encoder.embed_dim, encoder.num_prefix_tokens
        cnn = len(encoder.layout.cnn_taps)
        factors = (4, 2, 1, 0.5)[cnn:]
        token_channels = (dim // 8, dim // 4, dim // 2, dim)[cnn:] if cnn == 0 else (dim,) * (4 - cnn)
        self.reassemble = nn.ModuleList(Reassemble(dim, prefix, c, f) for c, f in zip(token_channels, factors))
        cnn_channels = self._cnn_channels() if cnn else ()
        self.decoder = DptDecoder((*cnn_channels, *token_channels), features, num_classes)
        self.classifier = nn.Linear(token_channels[-1], num_classes - 1)

    def _cnn_channels(self) -> tuple[int, ...]:
        was_training = self.encoder.training
        self.encoder.eval()
        with torch.no_grad():
            _, taps, _ = self.encoder(torch.zeros(1, 3, 2 * PATCH, 2 * PATCH))
        self.encoder.train(was_training)
        return tuple(t.shape[1] for t in taps if t.ndim == 4)

    @property
    def backbone(self) -> VitEncoder:
        """The encoder under the name the shared inference code reads ``mean``/``std`` from."""
        return self.encoder

    def pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        _, taps, grid = self.encoder(x)
        cnn = len(self.encoder.layout.cnn_taps)
        return taps[:cnn] + [r(t, grid) for r, t in zip(self.reassemble, taps[cnn:])]

    def classify(self, pyramid: list[torch.Tensor]) -> torch.Tensor:
        return self.classifier(pyramid[-1].mean((2, 3)))

    def forward_cls(self, x: torch.Tensor) -> torch.Tensor:
        """B×C foreground logits (the maps' target)."""
        return self.classify(self.pyramid(x))

    def forward(self, x: torch.Tensor, output: str = "seg"):
        """``seg``: B×(1+C)×H×W logits; ``cls``: B×C logits; ``both``: (cls, seg). One entry point, so
        every phase of training goes through DDP's forward."""
        if output == "cls":
            return self.forward_cls(x)
        if output == "seg":
            # Any image size: pad (mean colour) to a multiple of the patch, cut the logits back.
            h, w = x.shape[-2:]
            logits = self.decoder(self.pyramid(F.pad(x, (0, -w % PATCH, 0, -h % PATCH))))
            return logits[..., :h, :w]
        pyramid = self.pyramid(x)
        if output == "both":
            return self.classify(pyramid), self.decoder(pyramid)
        raise ValueError(f"output {output!r} is not one of seg, cls, both")

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        return parameter_groups(self, nn.ModuleList(self.encoder._pretrained))


def build_getam(spec: GetamSpec, weights: str | None = None) -> GetamNet:
    encoder = build_encoder(spec.encoder, weights or None, spec.depth)
    return GetamNet(encoder, spec.num_classes, spec.features)


# Its maps come from the classifier path; its decoder segments images like a DeepLab.
KIND = ModelKind("getam", GetamSpec, build_getam)
