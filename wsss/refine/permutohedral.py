"""Permutohedral-lattice Gaussian filtering in torch (Adams, Baek & Davis, 2010).

The lattice follows the construction used by the fully connected CRF of Krähenbühl & Koltun
(pydensecrf): features scaled by (d+1)·sqrt(2/3)/sqrt((i+1)(i+2)), the nearest remainder-0 point
found by rounding, ties in the simplex ranking broken by coordinate order, a [½ 1 ½] blur along
each of the d+1 lattice axes in turn, and the slice scaled by 1 / (1 + 2^-d). Building the lattice
is vectorised (lattice points are found with one sort instead of a hash table), so the same code
runs on a CPU or a GPU.
"""

from __future__ import annotations

import math
import warnings

import torch


class PermutohedralLattice:
    """A lattice over N points with d-dimensional features; ``filter`` blurs N×C values over it."""

    def __init__(self, features: torch.Tensor):
        if features.ndim != 2:
            raise ValueError(f"features must be N×d, got shape {tuple(features.shape)}")
        n, d = features.shape
        self.d = d
        features = features.float()
        elevated = self._elevate(features)
        rem0, rank = self._enclosing_simplex(elevated)
        self.barycentric = self._barycentric(elevated, rem0, rank)               # N×(d+1)
        # keys of the d+1 vertices, packed to one int64 each (mixed radix over the coordinates' range)
        self._key_min = rem0[:, :d].min(0).values - (d + 1)
        self._key_base = rem0[:, :d].max(0).values - self._key_min + (d + 2)
        if float(torch.log2(self._key_base.double()).sum()) >= 62:
            raise ValueError("lattice keys span too wide a range to pack into int64")
        self._strides = _strides(self._key_base)
        codes = self._vertex_codes(rem0, rank).reshape(-1)                      # N·(d+1)
        sorted_codes, self._by_vertex = torch.sort(codes)
        is_new = torch.ones_like(sorted_codes, dtype=torch.bool)
        is_new[1:] = sorted_codes[1:] != sorted_codes[:-1]
        self.lattice_codes = sorted_codes[is_new]
        self.size = int(self.lattice_codes.numel())
        offsets = torch.empty_like(codes)
        offsets[self._by_vertex] = torch.cumsum(is_new, 0)                      # 1-based; 0 = the empty slot
        self.offsets = offsets.reshape(n, d + 1)
        self.neighbours = self._blur_neighbours()                               # (d+1)×2×M
        self.alpha = 1.0 / (1.0 + 2.0 ** (-d))
        self._splat, self._slice = self._interpolation_matrices()

    def _elevate(self, features: torch.Tensor) -> torch.Tensor:
        d = self.d
        scale = torch.tensor([(d + 1) * math.sqrt(2.0 / 3.0) / math.sqrt((i + 1) * (i + 2)) for i in range(d)],
                             dtype=torch.float32, device=features.device)
        scaled = features * scale
        elevated = torch.empty(features.shape[0], d + 1, dtype=torch.float32, device=features.device)
        running = torch.zeros(features.shape[0], dtype=torch.float32, device=features.device)
        for j in range(d, 0, -1):                        # the reference's accumulation order
            elevated[:, j] = running - j * scaled[:, j - 1]
            running = running + scaled[:, j - 1]
        elevated[:, 0] = running
        return elevated

    def _enclosing_simplex(self, elevated: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d = self.d
        down = elevated * (1.0 / (d + 1))
        up_point = torch.ceil(down) * (d + 1)
        down_point = torch.floor(down) * (d + 1)
        rem0 = torch.where(up_point - elevated < elevated - down_point, up_point, down_point).long()
        offset_sum = rem0.sum(1, keepdim=True) // (d + 1)
        # rank[i] = #{j > i: r_j > r_i} + #{j < i: r_j >= r_i}: the position of i in a stable
        # descending sort of the residuals r = elevated − rem0
        order = torch.sort(rem0.float() - elevated, dim=1, stable=True).indices
        rank = torch.empty_like(order)
        rank.scatter_(1, order, torch.arange(d + 1, device=elevated.device).expand_as(order).contiguous())
        rank = rank + offset_sum
        below, above = rank < 0, rank > d
        rank = rank + (d + 1) * below.long() - (d + 1) * above.long()
        rem0 = rem0 + (d + 1) * below.long() - (d + 1) * above.long()
        return rem0, rank

    def _barycentric(self, elevated: torch.Tensor, rem0: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
        d = self.d
        v = (elevated - rem0.float()) * (1.0 / (d + 1))
        weights = torch.zeros(elevated.shape[0], d + 2, dtype=torch.float32, device=elevated.device)
        weights.scatter_add_(1, d - rank, v)
        weights.scatter_add_(1, d - rank + 1, -v)
        weights[:, 0] += 1.0 + weights[:, d + 1]
        return weights[:, : d + 1].contiguous()

    def _vertex_codes(self, rem0: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
        """Packed keys of each point's d+1 simplex vertices. Vertex r of the canonical simplex has
        coordinate r where rank <= d − r and r − (d + 1) elsewhere."""
        d = self.d
        strides = self._strides
        base_code = ((rem0[:, :d] - self._key_min) * strides).sum(1)
        remainder = torch.arange(d + 1, device=rem0.device)
        wrapped = rank[:, None, :d] > d - remainder[None, :, None]              # N×(d+1)×d
        wrapped_code = (wrapped.long() * strides).sum(2)
        return base_code[:, None] + remainder * strides.sum() - (d + 1) * wrapped_code

    def _lattice_keys(self) -> torch.Tensor:
        return self.lattice_codes[:, None] // self._strides % self._key_base + self._key_min

    def _lookup(self, keys: torch.Tensor) -> torch.Tensor:
        """Slot (1-based) of each key in the lattice, 0 where the key is not a lattice point."""
        shifted = keys - self._key_min
        inside = ((shifted >= 0) & (shifted < self._key_base)).all(1)
        codes = (shifted.clamp(min=0) * self._strides).sum(1)
        position = torch.searchsorted(self.lattice_codes, codes).clamp(max=self.size - 1)
        found = inside & (self.lattice_codes[position] == codes)
        return torch.where(found, position + 1, torch.zeros_like(position))

    def _blur_neighbours(self) -> torch.Tensor:
        d = self.d
        keys = self._lattice_keys()
        neighbours = []
        for axis in range(d + 1):
            minus, plus = keys - 1, keys + 1
            if axis < d:                                 # the last axis moves every stored coordinate
                minus[:, axis] = keys[:, axis] + d
                plus[:, axis] = keys[:, axis] - d
            neighbours.append(torch.stack([self._lookup(minus), self._lookup(plus)]))
        return torch.stack(neighbours)

    def _interpolation_matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Sparse (M+1)×N splat and N×(M+1) slice matrices of the barycentric weights (CSR; one
        sparse product is several times faster than scatter-adding N·(d+1) rows)."""
        n, vertices = self.offsets.shape
        flat_offsets = self.offsets.reshape(-1)
        weights = self.barycentric.reshape(-1)
        vertex_starts = torch.zeros(self.size + 2, dtype=torch.long, device=flat_offsets.device)
        vertex_starts[1:] = torch.cumsum(torch.bincount(flat_offsets, minlength=self.size + 1), 0)
        columns, order = torch.sort(self.offsets, dim=1)          # each pixel's vertices, in slot order
        pixel_starts = torch.arange(0, n * vertices + 1, vertices, device=flat_offsets.device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")             # "sparse CSR support is in beta"
            splat_matrix = torch.sparse_csr_tensor(vertex_starts, self._by_vertex // vertices, weights[self._by_vertex],
                                                   size=(self.size + 1, n))
            slice_matrix = torch.sparse_csr_tensor(pixel_starts, columns.reshape(-1),
                                                   torch.gather(self.barycentric, 1, order).reshape(-1),
                                                   size=(n, self.size + 1))
        del self._by_vertex
        return splat_matrix, slice_matrix

    def filter(self, values: torch.Tensor) -> torch.Tensor:
        """Splat N×C values onto the lattice, blur, slice back: an approximate Gaussian filter."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lattice = self._splat @ values.float()
        for axis in range(self.d + 1):
            lower, upper = self.neighbours[axis]
            blurred = lattice.clone()
            blurred[1:] += 0.5 * (lattice[lower] + lattice[upper])
            blurred[0] = 0
            lattice = blurred
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.alpha * (self._slice @ lattice)


def _strides(base: torch.Tensor) -> torch.Tensor:
    ones = torch.ones(1, dtype=base.dtype, device=base.device)
    return torch.cat([torch.cumprod(base.flip(0), 0).flip(0)[1:], ones])
