"""Multi-scale, flipped CAM inference (SEAM §1.5 / psa ``infer_cls``).

For each scale the image is resized (PIL bicubic), normalised, and run together with its horizontal
flip as one batch; maps are upsampled to the original size (``align_corners=False``), un-flipped and
summed. SEAM normalises per class with min–max (``minmax``), psa divides by the maximum (``max``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from wsss.data.transforms import normalize

NORMALISATIONS = ("minmax", "max")


def normalise_maps(summed: torch.Tensor, mode: str, eps: float = 1e-5) -> torch.Tensor:
    """K×H×W summed maps → [0, 1] per class."""
    if mode == "max":
        peak = summed.flatten(1).amax(1)[:, None, None]
        return summed / (peak + eps)
    if mode == "minmax":
        s = F.relu(summed)
        low = s.flatten(1).amin(1)[:, None, None]
        high = s.flatten(1).amax(1)[:, None, None]
        s = torch.where(s < low + eps, torch.zeros_like(s), s)
        return ((s - low - eps) / (high - low + eps)).clamp_min(0)
    raise ValueError(f"normalisation {mode!r} is not one of {NORMALISATIONS}")


def scaled_views(image: np.ndarray, scale: float, mean, std, flip: bool) -> torch.Tensor:
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = np.asarray(Image.fromarray(image).resize(size, Image.BICUBIC)) if size != (w, h) else image
    x = torch.from_numpy(np.ascontiguousarray(normalize(resized, mean, std).transpose(2, 0, 1)))
    return torch.stack([x, x.flip(-1)]) if flip else x[None]


@torch.no_grad()
def multiscale_cams(model, image: np.ndarray, labels: np.ndarray, scales=(0.5, 1.0, 1.5, 2.0), flip: bool = True,
                    normalisation: str = "minmax", device: torch.device | str = "cpu",
                    autocast_dtype: torch.dtype | None = None, map_fn=None) -> tuple[np.ndarray, np.ndarray]:
    """(classes, maps): 0-based present classes and their K×H×W float32 maps in [0, 1].

    ``map_fn(views) -> N×C×h×w`` defaults to the model's own localisation maps (CAM, or SEAM's PCM
    output); GradCAM variants pass their own.
    """
    map_fn = map_fn or model.localisation_maps
    device = torch.device(device)
    classes = np.flatnonzero(labels)
    h, w = image.shape[:2]
    backbone = model.backbone
    summed = torch.zeros(len(classes), h, w, device=device)
    if len(classes) == 0:
        return classes, summed.cpu().numpy()
    index = torch.as_tensor(classes, device=device)
    for scale in scales:
        views = scaled_views(image, scale, backbone.mean, backbone.std, flip).to(device)
        if device.type == "cuda":
            views = views.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=autocast_dtype or torch.float32, enabled=autocast_dtype is not None):
            maps = map_fn(views)
        maps = F.interpolate(maps.float()[:, index], (h, w), mode="bilinear", align_corners=False)
        summed += maps[0]
        if flip:
            summed += maps[1].flip(-1)
    return classes, normalise_maps(summed, normalisation).cpu().numpy()
