"""Dense CRF with the parameter sets of the reference codebases, on one of two backends:
``pydensecrf`` (the reference's C++ library, CPU) or ``torch`` (:mod:`wsss.refine.crf_torch`, the
same lattice and mean field on a CPU or a CUDA device).

``unary_from_softmax`` semantics: unary = −log(clip(p, 1e-5, 1)); the stacks are not renormalised
(SEAM's [bg = (1 − max)^α, maps] is not a distribution; the reference uses it as is).
"""

from __future__ import annotations

import numpy as np

from wsss.config import CrfBackend, CrfParams
from wsss.devices import resolve_device
from wsss.errors import ConfigError

BACKENDS = ("pydensecrf", "torch")


# Named parameter sets (REFERENCE §10.4).
CRF_PRESETS = {
    "seam": CrfParams(10, 3, 3, 80, 13, 10),       # psa/SEAM la/ha labels
    "irn": CrfParams(10, 3, 3, 50, 5, 10),
    "getam": CrfParams(20, 3, 3, 83, 5, 4),
    "mcis": CrfParams(1, 3, 1, 80, 4, 3),
}


def dense_crf(image: np.ndarray, probs: np.ndarray, params: CrfParams = CRF_PRESETS["seam"],
              backend: CrfBackend = "pydensecrf", device: str = "cpu", cache: dict | None = None) -> np.ndarray:
    """Mean-field inference; ``image`` H×W×3 uint8, ``probs`` K×H×W; returns K×H×W float32 Q.
    ``device`` and ``cache`` (a dict the caller keeps while it runs several CRFs on one image: the
    image's lattices are built once) are used by the torch backend only."""
    k, h, w = probs.shape
    if image.shape[:2] != (h, w):
        raise ValueError(f"image {image.shape[:2]} and probabilities {(h, w)} differ in size")
    if backend == "torch":
        from wsss.refine.crf_torch import dense_crf_torch

        return dense_crf_torch(image, probs, params, device, cache)
    if backend != "pydensecrf":
        raise ConfigError(f"CRF backend {backend!r} is not one of {', '.join(BACKENDS)}")
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax

    crf = dcrf.DenseCRF2D(w, h, k)
    crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(probs.astype(np.float32), clip=1e-5)))
    crf.addPairwiseGaussian(sxy=params.gaussian_sxy, compat=params.gaussian_compat)
    crf.addPairwiseBilateral(sxy=params.bilateral_sxy, srgb=params.bilateral_srgb,
                             rgbim=np.require(image, np.uint8, ["C", "W"]), compat=params.bilateral_compat)
    q = crf.inference(params.iterations)
    return np.asarray(q, dtype=np.float32).reshape(k, h, w)


def crf_placement(backend: CrfBackend, device: str, workers: int) -> tuple[str, int]:
    """(device, processes) for a run of CRFs: the torch backend on CUDA runs in this process, one
    image after another on the device; CPU CRFs run one single-threaded CRF per process."""
    if backend not in BACKENDS:
        raise ConfigError(f"CRF backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if backend == "torch":
        resolved = resolve_device(device)
        if resolved.type == "cuda":
            return str(resolved), 1
    return "cpu", workers


def background_from_alpha(maps: np.ndarray, alpha: float) -> np.ndarray:
    """SEAM/psa background score (1 − max_k S_k)^α (all ones where no class is present)."""
    if maps.shape[0] == 0:
        return np.ones(maps.shape[1:], np.float32)
    return np.power(1.0 - maps.max(axis=0), alpha).astype(np.float32)


def alpha_for_background(threshold: float) -> float:
    """The α whose background (1 − max)^α equals max exactly at ``threshold`` (solves t = (1 − t)^α):
    the power background that agrees with a constant background score ``threshold``."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"background threshold {threshold} is not in (0, 1)")
    return float(np.log(threshold) / np.log1p(-threshold))


def crf_with_alpha(image: np.ndarray, maps: np.ndarray, alpha: float, params: CrfParams = CRF_PRESETS["seam"],
                   **backend) -> np.ndarray:
    """CRF over the stack [bg = (1 − max)^α, maps]; returns (K+1)×H×W Q (channel 0 = background).
    ``backend``: :func:`dense_crf`'s backend and device."""
    stack = np.concatenate([background_from_alpha(maps, alpha)[None], maps.astype(np.float32)])
    return dense_crf(image, stack, params, **backend)


def crf_with_constant_background(image: np.ndarray, maps: np.ndarray, background: float,
                                 params: CrfParams = CRF_PRESETS["seam"], **backend) -> np.ndarray:
    """CRF over [constant bg score, maps] (the "CAM + dCRF" row of SEAM's Table 1)."""
    stack = np.concatenate([np.full((1, *maps.shape[1:]), background, np.float32), maps.astype(np.float32)])
    return dense_crf(image, stack, params, **backend)
