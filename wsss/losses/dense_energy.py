"""Dense-CRF energy loss (Tang et al. 2018, "rloss"; GETAM adds it with weight 1e-7, as RRM does).

With S the softmax probabilities (inside the valid crop), W the bilateral kernel
W_ij = exp(−|p_i − p_j|² / 2σ_xy² − |I_i − I_j|² / 2σ_rgb²) and the gate
g = max(crop − max_k S_k, 0), set to 1 on pixels the pseudo label ignores:

    E = −(1/B) Σ_b Σ_k Σ_i S_ik · g_i · (W S_k)_i,      ∂E/∂S = −(2/B) · g ⊙ (W S) ⊙ crop,

the gradient of the reference (which treats the gate as a constant). Everything runs at
``scale`` of the input (nearest for the image, crop and label, bilinear for the probabilities), with
σ_xy scaled alike. The reference filters with a permutohedral lattice (an approximation of W); here
W is applied exactly, in row chunks, which costs O((h·w)²) per image: fine at the 0.5 scale of
256² crops on a GPU, and at the demo's sizes on a CPU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from wsss.palette import IGNORE_INDEX


def bilateral_filter(features: torch.Tensor, values: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Σ_j exp(−½|f_i − f_j|²) v_j for B×D×P features and B×K×P values → B×K×P (self term included)."""
    f = features.transpose(1, 2)                                    # B×P×D
    sq = (f * f).sum(-1)                                            # B×P
    v = values.transpose(1, 2)                                      # B×P×K
    out = []
    for start in range(0, f.shape[1], chunk):
        rows = f[:, start : start + chunk]
        dist = sq[:, start : start + chunk, None] + sq[:, None, :] - 2 * rows @ f.transpose(1, 2)
        out.append(torch.exp(-0.5 * dist.clamp_min(0)) @ v)
    return torch.cat(out, 1).transpose(1, 2)


def bilateral_features(image: torch.Tensor, sigma_rgb: float, sigma_xy: float) -> torch.Tensor:
    """B×3×h×w image (0–255) → B×5×P features (x/σ_xy, y/σ_xy, rgb/σ_rgb)."""
    b, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=image.device, dtype=torch.float32),
                            torch.arange(w, device=image.device, dtype=torch.float32), indexing="ij")
    position = torch.stack([xs, ys])[None].expand(b, -1, -1, -1) / sigma_xy
    return torch.cat([position, image.float() / sigma_rgb], 1).flatten(2)


def dense_energy_loss(image: torch.Tensor, probs: torch.Tensor, label: torch.Tensor, crop: torch.Tensor,
                      sigma_rgb: float = 15.0, sigma_xy: float = 100.0, scale: float = 0.5) -> torch.Tensor:
    """E above for a B×3×H×W image in 0–255, B×K×H×W probabilities, B×H×W pseudo label (255 = ignored)
    and B×H×W crop mask (1 = image, 0 = padding). Returns a scalar that carries the reference gradient."""
    size = (max(1, int(image.shape[-2] * scale)), max(1, int(image.shape[-1] * scale)))
    image = F.interpolate(image.float(), size, mode="nearest")
    probs = F.interpolate(probs.float(), size, mode="bilinear", align_corners=False)
    crop = F.interpolate(crop[:, None].float(), size, mode="nearest")[:, 0]
    ignored = F.interpolate(label[:, None].float(), size, mode="nearest")[:, 0] == IGNORE_INDEX
    gate = (crop - probs.detach().amax(1))
    gate = torch.where(ignored, torch.ones_like(gate), gate).clamp_min(0)
    s = probs * crop[:, None]
    filtered = bilateral_filter(bilateral_features(image, sigma_rgb, sigma_xy * scale), s.detach().flatten(2))
    gated = (filtered.view_as(s) * gate[:, None]).detach()
    batch = probs.shape[0]
    value = -(s.detach() * gated).sum() / batch
    surrogate = -2.0 * (s * gated).sum() / batch                    # its gradient is the reference's
    return surrogate - surrogate.detach() + value
