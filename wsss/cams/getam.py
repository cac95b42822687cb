"""GETAM maps (GETAM §6.2): gradient-weighted element-wise transformer attention.

For block l with attention A (heads×N×N, after softmax) and its gradient G = ∂y_c/∂A:
E = mean_heads(ReLU(G ⊙ A)) ⊙ mean_heads(ReLU(G)); the map of class c is ReLU(Σ_l E[class-token row,
patch columns]) over the blocks from ``start_block`` to the last, on the token grid. Gradients come from
``torch.autograd.grad`` on the recorded attention only: no parameter's ``.grad`` is touched.

Images are independent in the classifier path (no batch statistics there), so one gradient of
Σ_b y_{b,c} over the images holding class c gives every image's own gradient: one backward per class
present in the batch instead of one per (image, class) as in the reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from wsss.data.transforms import to_tensor
from wsss.inference import open_inference
from wsss.models.getam import KIND as GETAM
from wsss.ops.pamr import DILATIONS, ITERATIONS, pamr
from wsss.params.getam import GetamMapParams, LocaliseGetamParams
from wsss.progress import progress


def block_relevance(attention: torch.Tensor, gradient: torch.Tensor, prefix: int = 1) -> torch.Tensor:
    """B×heads×N×N attention and gradient → B×(N − prefix): the class-token row of
    mean_heads(ReLU(G ⊙ A)) ⊙ mean_heads(ReLU(G)) over the patch columns."""
    cam = F.relu(gradient * attention).mean(1)
    weight = F.relu(gradient).mean(1)
    return (cam * weight)[:, 0, prefix:]


def getam_maps(model, images: torch.Tensor, labels: torch.Tensor, start_block: int = 6,
               classes: Sequence[int] | None = None) -> torch.Tensor:
    """B×C×h×w raw GETAM maps on the token grid (h, w = image sides / 16) for the classes set in the
    B×C multi-hot ``labels`` (other channels are 0). ``model`` is a :class:`GetamNet`."""
    encoder = model.encoder
    if not 0 <= start_block < encoder.depth:
        raise ValueError(f"start_block {start_block} outside the encoder's {encoder.depth} blocks")
    grid = (images.shape[-2] // 16, images.shape[-1] // 16)
    present = labels > 0
    if classes is None:
        classes = [int(c) for c in torch.nonzero(present.any(0)).flatten()]
    batch, num_classes = labels.shape
    maps = torch.zeros(batch, num_classes, grid[0] * grid[1], device=images.device)
    if not classes:
        return maps.view(batch, num_classes, *grid)
    with torch.enable_grad():
        # An input that requires grad keeps the graph even for frozen or eval-mode models.
        x = images.detach().requires_grad_(True)
        with encoder.recording_attention() as recorded:
            logits = model.forward_cls(x)
        attentions = [recorded[index] for index in range(start_block, encoder.depth)]
        for k, c in enumerate(classes):
            target = (logits[:, c] * present[:, c]).sum()
            grads = torch.autograd.grad(target, attentions, retain_graph=k < len(classes) - 1)
            # Detached: the maps are constants (pseudo-label sources), holding no graph of the forward.
            total = sum(block_relevance(a.detach().float(), g.float(), encoder.num_prefix_tokens)
                        for a, g in zip(attentions, grads))
            maps[:, c] = F.relu(total) * present[:, c, None]
    return maps.view(batch, num_classes, *grid)


def normalise_peak(maps: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Per image and class: map / (max + eps)."""
    return maps / (maps.flatten(2).amax(2)[:, :, None, None] + eps)


def refined_getam_maps(model, images: torch.Tensor, labels: torch.Tensor, start_block: int = 6,
                       dilations: Sequence[int] = DILATIONS, iterations: int = ITERATIONS,
                       peak_eps: float = 1e-5) -> torch.Tensor:
    """B×C×H×W maps as GETAM's pseudo-label source: raw maps upsampled to the image
    (``align_corners=True``), refined by PAMR on the image, divided by their peak + ``peak_eps``.
    The maps' scale follows the logits' gradients; where raw peaks fall below ``peak_eps`` the
    reference's constant shrinks every map, so it is a parameter."""
    maps = getam_maps(model, images, labels, start_block)
    maps = F.interpolate(maps, images.shape[-2:], mode="bilinear", align_corners=True)
    return normalise_peak(refine_present(images, maps, labels, dilations, iterations), peak_eps)


def refine_present(images: torch.Tensor, maps: torch.Tensor, labels: torch.Tensor, dilations: Sequence[int],
                   iterations: int) -> torch.Tensor:
    """PAMR of each image's present-class maps (absent maps are zero and stay zero; PAMR's cost is per
    channel, so they are skipped)."""
    if iterations <= 0:
        return maps
    refined = torch.zeros_like(maps)
    for b, present in enumerate(labels > 0):
        channels = torch.nonzero(present).flatten()
        if len(channels):
            refined[b, channels] = pamr(images[b : b + 1].detach(), maps[b : b + 1, channels], dilations,
                                        iterations)[0]
    return refined


def image_getam_maps(model, image: np.ndarray, classes: np.ndarray, params: GetamMapParams,
                     device: torch.device, dtype: torch.dtype | None = None) -> np.ndarray:
    """K×H×W refined, peak-normalised maps of the 0-based ``classes`` for a whole H×W×3 image, run at
    its own size (zero-padded, in normalised space, up to a multiple of 16)."""
    h, w = image.shape[:2]
    x = to_tensor(image, model.encoder.mean, model.encoder.std)[None].to(device)
    x = F.pad(x, (0, -w % 16, 0, -h % 16))
    labels = torch.zeros(1, model.classifier.out_features, device=device)
    labels[0, torch.as_tensor(classes, dtype=torch.long)] = 1
    with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        maps = getam_maps(model, x, labels, params.start_block)
    maps = F.interpolate(maps.float(), x.shape[-2:], mode="bilinear", align_corners=True)[..., :h, :w]
    maps = refine_present(x[..., :h, :w], maps, labels, params.pamr_dilations, params.pamr_iterations)
    return normalise_peak(maps, params.peak_eps)[0, torch.as_tensor(classes, dtype=torch.long)].cpu().numpy()


def localise_getam(index_dir: str | Path, checkpoint: str | Path, params: LocaliseGetamParams,
                   out_dir: str | Path) -> int:
    """Write the GETAM maps of every image of the split in the project's CAM format."""
    loaded, share = open_inference(index_dir, checkpoint, [GETAM], params.split, params.device, params.precision)
    dataset = share.dataset
    with share.cam_writer(out_dir) as writer:
        for image_id in progress(share.ids, len(share.ids), desc="getam maps"):
            classes = np.flatnonzero(dataset.labels(image_id))
            maps = image_getam_maps(loaded.model, dataset.read_image(image_id), classes, params.maps, loaded.device,
                                    loaded.dtype)
            writer.write(image_id, classes, maps)
    return len(share.ids)
