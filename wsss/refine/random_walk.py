"""Random walk with AffinityNet's transition matrix (psa ``infer_aff``), without dense powers.

T = column-normalised A^β, where A holds the half-disc pair affinities (symmetric, 1 on the diagonal).
The reference builds T densely and squares it ``logt`` times (T^(2^logt)). Here the scores are
propagated 2^logt times through the *sparse* T instead — v·T^t = (…((v·T)·T)…) exactly — so memory is
O(n) rather than O(n²) and a batch of images walks together as one block-diagonal sparse matrix.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

from wsss.ops.pairs import pair_indices


def sparse_transition_transposed(affinity: torch.Tensor, radius: int, height: int, width: int, beta: float,
                                 offset: int = 0, total: int | None = None) -> torch.Tensor:
    """Tᵀ as a sparse COO matrix for one image (rows = destination j, cols = source i).

    ``affinity`` is D×P (pair affinities of this image); ``offset`` places the image's nodes in a
    block-diagonal batch of ``total`` nodes.
    """
    n = height * width
    total = total or n
    src, dst = pair_indices(radius, height, width)
    device = affinity.device
    src_t = torch.as_tensor(src.reshape(-1), device=device)
    dst_t = torch.as_tensor(dst.reshape(-1), device=device)
    weights = affinity.reshape(-1).float().pow(beta)
    diagonal = torch.arange(n, device=device)
    rows = torch.cat([src_t, dst_t, diagonal])          # i (source)
    cols = torch.cat([dst_t, src_t, diagonal])          # j (destination)
    values = torch.cat([weights, weights, torch.ones(n, device=device)])
    column_sums = torch.zeros(n, device=device).index_add_(0, cols, values)
    values = values / column_sums[cols]
    # Transposed: entry (j, i) = T_ij, so that Tᵀ @ vᵀ = (v @ T)ᵀ.
    indices = torch.stack([cols + offset, rows + offset])
    return torch.sparse_coo_tensor(indices, values, (total, total), check_invariants=False).coalesce()


def dense_transition(affinity: torch.Tensor, radius: int, height: int, width: int, beta: float) -> torch.Tensor:
    """The reference's dense T (n×n), for tests and small images."""
    n = height * width
    src, dst = pair_indices(radius, height, width)
    a = torch.zeros(n, n, dtype=torch.float64)
    values = affinity.reshape(-1).double()
    a[torch.as_tensor(src.reshape(-1)), torch.as_tensor(dst.reshape(-1))] = values
    a[torch.as_tensor(dst.reshape(-1)), torch.as_tensor(src.reshape(-1))] = values
    a.fill_diagonal_(1.0)
    w = a.pow(beta)
    return w / w.sum(0, keepdim=True)


def propagate(transposed: torch.Tensor, scores: torch.Tensor, steps: int) -> torch.Tensor:
    """scores (n×C) ← Tᵀ·scores, ``steps`` times (= (v·T^steps)ᵀ)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        csr = transposed.to_sparse_csr()
    for _ in range(steps):
        scores = torch.sparse.mm(csr, scores)
    return scores


def cam_scores_on_grid(maps: np.ndarray, classes: np.ndarray, num_classes: int, alpha: float, stride: int,
                       padded: tuple[int, int]) -> torch.Tensor:
    """C×h'×w' start scores: present class maps at their class channel, background (1 − max)^α,
    zero-padded to ``padded`` and average-pooled by ``stride``."""
    h, w = maps.shape[1:]
    full = torch.zeros(num_classes, *padded)
    if len(classes):
        full[torch.as_tensor(classes) + 1, :h, :w] = torch.from_numpy(maps)
        full[0, :h, :w] = (1 - torch.from_numpy(maps).amax(0)).pow(alpha)
    else:
        full[0, :h, :w] = 1.0
    return F.avg_pool2d(full[None], stride, stride)[0]

