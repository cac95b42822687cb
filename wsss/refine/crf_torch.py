"""The fully connected CRF of pydensecrf, in torch (CPU or CUDA).

Same model and inference as ``DenseCRF2D``: unary −log(clip(p, 1e-5, 1)); a Gaussian kernel over
(x, y)/sxy and a bilateral kernel over ((x, y)/sxy, rgb/srgb), each filtered on a permutohedral
lattice with symmetric normalisation (D^-½ K D^-½, D = K·1); Potts compatibility; Q = softmax(−unary)
then, per mean-field iteration, Q = softmax(−unary + Σ_kernels w · D^-½ K D^-½ Q).
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from wsss.config import CrfParams
from wsss.refine.permutohedral import PermutohedralLattice


def _pixel_grid(h: int, w: int, device: torch.device) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32),
                            torch.arange(w, device=device, dtype=torch.float32), indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)         # column, row (pydensecrf's order)


class _Kernel:
    def __init__(self, features: torch.Tensor, weight: float):
        self.lattice = PermutohedralLattice(features)
        ones = torch.ones(features.shape[0], 1, device=features.device)
        self.norm = torch.rsqrt(self.lattice.filter(ones) + 1e-20).T          # 1×N
        self.weight = weight

    def message(self, q: torch.Tensor) -> torch.Tensor:
        """Σ_j k(i, j) Q_j normalised, for K×N Q (classes first: softmax over K is then fast)."""
        return self.weight * self.norm * self.lattice.filter((q * self.norm).T.contiguous()).T


def _kernels(image: np.ndarray, params: CrfParams, device: torch.device, cache: dict | None) -> list[_Kernel]:
    """The two kernels of an image. ``cache``, a dict the caller owns, keeps the last image's: the CRF
    stage runs three CRFs (low α, high α, constant background) on each image, and the lattices depend
    on the image and the kernel settings only."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    key = (image.shape, hashlib.blake2b(image.data, digest_size=16).digest(), params.gaussian_sxy,
           params.gaussian_compat, params.bilateral_sxy, params.bilateral_srgb, params.bilateral_compat, str(device))
    if cache is not None and cache.get("key") == key:
        return cache["kernels"]
    h, w = image.shape[:2]
    grid = _pixel_grid(h, w, device)
    rgb = torch.as_tensor(image.copy(), device=device).reshape(-1, 3).float()
    kernels = [
        _Kernel(grid / params.gaussian_sxy, params.gaussian_compat),
        _Kernel(torch.cat([grid / params.bilateral_sxy, rgb / params.bilateral_srgb], 1), params.bilateral_compat),
    ]
    if cache is not None:
        cache.update(key=key, kernels=kernels)
    return kernels


def dense_crf_torch(image: np.ndarray, probs: np.ndarray, params: CrfParams, device: str | torch.device = "cpu",
                    cache: dict | None = None) -> np.ndarray:
    """Mean-field inference; ``image`` H×W×3 uint8, ``probs`` K×H×W; returns K×H×W float32 Q.
    ``cache``: a dict kept across calls on the same image (see :func:`_kernels`)."""
    k, h, w = probs.shape
    kernels = _kernels(image, params, torch.device(device), cache)
    p = torch.as_tensor(np.array(probs, dtype=np.float32), device=device).reshape(k, -1)
    unary = -torch.log(p.clamp(1e-5, 1.0))
    q = torch.softmax(-unary, 0)
    for _ in range(params.iterations):
        energy = -unary
        for kernel in kernels:
            energy = energy + kernel.message(q)
        q = torch.softmax(energy, 0)
    return q.reshape(k, h, w).cpu().numpy()
