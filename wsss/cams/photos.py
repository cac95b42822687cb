"""Localisation maps of any trained classifier on arbitrary photos (``wsss cam``).

Works for every kind that localises: the CAM and SEAM classifiers (their own maps, or Grad-CAM /
Grad-CAM++ from their last features), MCIS (co-attention maps; the partners of a class are the other
given photos with that class, or the photo's own mirror) and GETAM (attention-gradient maps + PAMR).
The classes are named, or ``auto``: those the network scores at least ``threshold`` on the photo
(always its best one).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from wsss.cams.gradcam import gradcam_maps
from wsss.cams.multiscale import host_views, multiscale_cams, normalised_views
from wsss.errors import ConfigError
from wsss.inference import LoadedModel, load_for_inference
from wsss.models.checkpoint import read_checkpoint
from wsss.models.classifier import KIND as CLASSIFIER
from wsss.models.coattention import KIND as MCIS
from wsss.models.getam import KIND as GETAM
from wsss.params.getam import GetamMapParams
from wsss.params.mcis import LocaliseMcisParams

# The kinds whose networks give localisation maps.
LOCALISING_KINDS = {kind.name: kind for kind in (CLASSIFIER, MCIS, GETAM)}
MAP_KINDS = ("native", "gradcam", "gradcampp")


@dataclass(frozen=True)
class PhotoMaps:
    classes: list[str]          # foreground class names, one per map
    maps: np.ndarray            # K×H×W float32 in [0, 1]


class PhotoLocaliser:
    """A loaded localising network and its test-time options; ``maps(image, classes)`` per photo."""

    def __init__(self, checkpoint: str | Path, maps: str = "native", scales=(1.0,), flip: bool = True,
                 device: str = "auto", threshold: float = 0.5, size: int = 256) -> None:
        """``size``: MCIS's input side (the network's training size, train_mcis.size)."""
        if maps not in MAP_KINDS:
            raise ConfigError(f"maps {maps!r} is not one of {', '.join(MAP_KINDS)}")
        kind = read_checkpoint(checkpoint, None).get("kind")
        if kind not in LOCALISING_KINDS:
            raise ConfigError(f"{checkpoint}: a {kind!r} model gives no localisation maps; "
                              f"use a classifier ({', '.join(LOCALISING_KINDS)})")
        if maps != "native" and kind != "classifier":
            raise ConfigError(f"{checkpoint}: Grad-CAM maps are for the CAM and SEAM classifiers, not {kind!r}")
        self.kind, self.map_kind, self.scales, self.flip, self.threshold = kind, maps, tuple(scales), flip, threshold
        self.size = size
        self.loaded: LoadedModel = load_for_inference(checkpoint, [LOCALISING_KINDS[kind]], device, "fp32")
        names = list(getattr(self.loaded.spec, "class_names", ()))
        self.foreground = names[1:] if names and names[0] == "background" else names

    def class_indices(self, requested: list[str]) -> list[int]:
        unknown = [c for c in requested if c not in self.foreground]
        if unknown:
            raise ConfigError(f"classes {unknown} are not among the model's: {', '.join(self.foreground)}")
        return [self.foreground.index(c) for c in requested]

    @torch.no_grad()
    def image_scores(self, image: np.ndarray) -> np.ndarray:
        """Sigmoid class scores of the photo and its mirror, averaged (foreground classes)."""
        model, device = self.loaded.model, self.loaded.device
        mean, std = (model.encoder.mean, model.encoder.std) if self.kind == "getam" else (model.backbone.mean, model.backbone.std)
        batch = normalised_views(host_views([image], device)[0], mean, std, True, device)
        if self.kind == "getam":
            logits = model.forward_cls(torch.nn.functional.pad(batch, (0, -batch.shape[-1] % 16, 0, -batch.shape[-2] % 16)))
        elif self.kind == "mcis":
            logits = model(batch)
        else:
            logits = model.image_logits(batch)
        return torch.sigmoid(logits.float()).mean(0).cpu().numpy()

    def auto_classes(self, image: np.ndarray) -> list[int]:
        scores = self.image_scores(image)
        chosen = set(np.flatnonzero(scores >= self.threshold).tolist()) | {int(scores.argmax())}
        return sorted(chosen)

    def maps(self, image: np.ndarray, classes: list[int], partners: dict[int, list[np.ndarray]] | None = None) -> PhotoMaps:
        """Maps of the 0-based foreground ``classes``; ``partners[c]``: other photos with class c (MCIS)."""
        model, device = self.loaded.model, self.loaded.device
        index = np.asarray(sorted(classes), dtype=np.int64)
        if self.kind == "classifier":
            labels = np.zeros(len(self.foreground), np.float32)
            labels[index] = 1
            map_fn = None
            if self.map_kind != "native":
                map_fn = functools.partial(gradcam_maps, model, plusplus=self.map_kind == "gradcampp")
            spec = self.loaded.spec
            normalisation = "minmax" if getattr(spec, "method", "") == "seam" else "max"
            _, maps = multiscale_cams(model, image, labels, self.scales, self.flip, normalisation, device, None, map_fn)
        elif self.kind == "mcis":
            from wsss.cams.coattention import coattention_maps

            related = {int(c): (partners or {}).get(int(c)) or [image[:, ::-1].copy()] for c in index}
            maps = coattention_maps(model, image, index, related, LocaliseMcisParams(), self.size, device)
        else:
            from wsss.cams.getam import image_getam_maps

            # The last half of the blocks, as GETAM's 6-11 of 12 (start_block 3 of the demo's 6).
            params = GetamMapParams(start_block=model.encoder.depth // 2)
            with torch.enable_grad():
                maps = image_getam_maps(model, image, index, params, device)
        return PhotoMaps([self.foreground[c] for c in index], np.asarray(maps, np.float32))


def heat_overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The photo blended with a jet-coloured heat map (0 blue … 1 red)."""
    import cv2

    coloured = cv2.applyColorMap(np.clip(heat * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    return np.clip((1 - alpha) * image.astype(np.float32) + alpha * coloured, 0, 255).astype(np.uint8)
