"""Multi-scale, flipped CAM inference (SEAM §1.5 / psa ``infer_cls``).

For each scale the image is resized (PIL bicubic, on the host), then normalised on the device and run
together with its horizontal flip as one batch; maps are upsampled to the original size (``align_corners=False``), un-flipped and
summed. SEAM normalises per class with min–max (``minmax``), psa divides by the maximum (``max``).
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


NORMALISATIONS = ("minmax", "max")
T = TypeVar("T")


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


def scaled_image(image: np.ndarray, scale: float) -> np.ndarray:
    """The image resized by ``scale`` (PIL bicubic, as the reference), still uint8 H×W×3."""
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BICUBIC)) if size != (w, h) else image


def host_views(images: list[np.ndarray], device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """uint8 tensors of the resized images, page-locked for CUDA so the upload is asynchronous.

    Only uint8 crosses to the device (a quarter of the float bytes, flips made there)."""
    views = [torch.from_numpy(np.require(image, requirements=["C", "W"])) for image in images]
    return [v.pin_memory() for v in views] if torch.device(device).type == "cuda" else views


def normalised_views(view: torch.Tensor, mean, std, flip: bool, device: torch.device) -> torch.Tensor:
    """uint8 H×W×3 → the normalised 1×3×H×W batch on ``device`` (with its mirror image when ``flip``);
    the same float32 arithmetic as :func:`wsss.data.transforms.normalize`."""
    x = view.to(device, non_blocking=True).permute(2, 0, 1).float() / 255.0
    x = (x - torch.tensor(mean, dtype=torch.float32, device=device)[:, None, None]) / torch.tensor(
        std, dtype=torch.float32, device=device)[:, None, None]
    batch = torch.stack([x, x.flip(-1)]) if flip else x[None]
    return batch.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else batch.contiguous()


def cam_views(image: np.ndarray, scales, device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """The host-side half of :func:`multiscale_cams` (run it in a prefetch thread): one resized
    uint8 view per scale."""
    return host_views([scaled_image(image, scale) for scale in scales], device)


def multiscale_cams(model, image: np.ndarray, labels: np.ndarray, scales=(0.5, 1.0, 1.5, 2.0), flip: bool = True,
                    normalisation: str = "minmax", device: torch.device | str = "cpu",
                    autocast_dtype: torch.dtype | None = None, map_fn=None,
                    views: list[torch.Tensor] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(classes, maps): 0-based present classes and their K×H×W float32 maps in [0, 1].

    ``map_fn(views) -> N×C×h×w`` defaults to the model's own localisation maps (CAM, or SEAM's PCM
    output); GradCAM variants pass their own. ``views`` are :func:`cam_views` prepared ahead (e.g. in
    a prefetch thread); by default they are made here.
    """
    views = cam_views(image, scales, device) if views is None else views
    return batched_multiscale_cams(model, [image], [labels], [views], flip, normalisation, device, autocast_dtype,
                                   map_fn)[0]


@torch.no_grad()
def batched_multiscale_cams(model, images: list[np.ndarray], labels: list[np.ndarray],
                            views: list[list[torch.Tensor]], flip: bool = True, normalisation: str = "minmax",
                            device: torch.device | str = "cpu", autocast_dtype: torch.dtype | None = None,
                            map_fn=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`multiscale_cams` of several images of one size at once: each scale's views of all the
    images run as one batch. Exact, since in eval mode every operation acts per image (frozen batch
    norm, no dropout, PCM's affinity within each image); fewer, larger launches keep a GPU busy."""
    map_fn = map_fn or model.localisation_maps
    device = torch.device(device)
    h, w = images[0].shape[:2]
    if any(image.shape[:2] != (h, w) for image in images):
        raise ValueError(f"batched CAMs need images of one size, got {[image.shape[:2] for image in images]}")
    classes = [np.flatnonzero(image_labels) for image_labels in labels]
    active = [k for k, present in enumerate(classes) if len(present)]
    summed = {k: torch.zeros(len(classes[k]), h, w, device=device) for k in active}
    per_image = 2 if flip else 1
    mean, std = model.backbone.mean, model.backbone.std
    for scale in range(len(views[active[0]]) if active else 0):
        batch = torch.cat([normalised_views(views[k][scale], mean, std, flip, device) for k in active])
        with torch.autocast(device.type, dtype=autocast_dtype or torch.float32, enabled=autocast_dtype is not None):
            maps = map_fn(batch)
        for slot, k in enumerate(active):
            index = torch.as_tensor(classes[k], device=device)
            own = maps[slot * per_image : (slot + 1) * per_image].float()[:, index]
            own = F.interpolate(own, (h, w), mode="bilinear", align_corners=False)
            summed[k] += own[0]
            if flip:
                summed[k] += own[1].flip(-1)
    return [(classes[k], normalise_maps(summed[k], normalisation).cpu().numpy() if k in summed
             else np.zeros((0, h, w), np.float32)) for k in range(len(images))]


def same_size_runs(items: Iterable[T], size_of: Callable[[T], tuple[int, int]], limit: int) -> Iterator[list[T]]:
    """Consecutive items grouped while they have one size, at most ``limit`` per group (order kept)."""
    run: list[T] = []
    for item in items:
        if run and (len(run) == limit or size_of(item) != size_of(run[0])):
            yield run
            run = []
        run.append(item)
    if run:
        yield run
