"""Choosing the background power α of SEAM's CRF stacks [bg = (1 − max)^α, maps].

Without the CRF, a pixel is foreground iff its max score m exceeds (1 − m)^α, i.e. iff m > t*(α);
these helpers convert between α and that equivalent constant threshold t*.
"""

from __future__ import annotations

from wsss.refine.crf import alpha_for_background

# SEAM's α for the AffinityNet label maps (4, 24) and for its random walk (6).
SEAM_LOW_ALPHA, SEAM_HIGH_ALPHA, SEAM_WALK_ALPHA = 4.0, 24.0, 6.0


def background_threshold(alpha: float) -> float:
    """t*(α): the max score t at which (1 − t)^α = t (inverse of ``alpha_for_background``)."""
    if alpha <= 0:
        raise ValueError(f"background power alpha {alpha} must be positive")
    low, high = 0.0, 1.0
    for _ in range(60):  # (1 − t)^α − t falls monotonically on [0, 1]
        mid = 0.5 * (low + high)
        low, high = (mid, high) if (1.0 - mid) ** alpha > mid else (low, mid)
    return 0.5 * (low + high)


def bracketing_alphas(threshold: float) -> tuple[float, float]:
    """Low/high α whose thresholds bracket ``threshold`` as SEAM's 4 and 24 bracket its walk α 6.

    The SEAM author's advice (REFERENCE §1.5): the best constant background score of the CAM curve
    must lie between t*(α_high) and t*(α_low). Scaling SEAM's thresholds by threshold / t*(6) keeps
    its spacing; a threshold of t*(6) gives back 4 and 24.
    """
    centre = background_threshold(SEAM_WALK_ALPHA)
    low_t = min(0.99, threshold * background_threshold(SEAM_LOW_ALPHA) / centre)
    high_t = threshold * background_threshold(SEAM_HIGH_ALPHA) / centre
    return alpha_for_background(low_t), alpha_for_background(high_t)


def resolve_alphas(low_alpha: float, high_alpha: float, best_threshold: float | None) -> tuple[float, float]:
    """Configured α pair with each value <= 0 replaced by its ``bracketing_alphas`` counterpart."""
    if low_alpha > 0 and high_alpha > 0:
        return low_alpha, high_alpha
    if best_threshold is None:
        raise ValueError("automatic CRF alphas need the best background threshold of the CAM curve")
    auto_low, auto_high = bracketing_alphas(best_threshold)
    return (low_alpha if low_alpha > 0 else auto_low), (high_alpha if high_alpha > 0 else auto_high)
