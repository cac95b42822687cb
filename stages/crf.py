"""Stage ``crf``: low/high-α CRF probabilities of the SEAM CAMs (crf/la, crf/ha) and CAM + dCRF labels.

``crf.low_alpha`` / ``crf.high_alpha`` <= 0 derive the pair from the best constant background
threshold of ``eval_cam@seam`` (:func:`wsss.refine.crf_alpha.bracketing_alphas`), as the SEAM author
advises; positive values are used as given (SEAM: 4 and 24).
"""

import dataclasses
import logging

from stages.common import best_seam_cam_threshold, load_section, main
from wsss.params.seam import CrfStageParams
from wsss.refine.crf_alpha import resolve_alphas
from wsss.refine.crf_labels import run_crf

log = logging.getLogger("stages.crf")


def run() -> None:
    params = load_section("crf", CrfStageParams)
    best = None
    if params.cam_background < 0 or params.low_alpha <= 0 or params.high_alpha <= 0:
        best = best_seam_cam_threshold()
    background = best if params.cam_background < 0 else params.cam_background
    low, high = resolve_alphas(params.low_alpha, params.high_alpha, best)
    params = dataclasses.replace(params, low_alpha=low, high_alpha=high)
    log.info("alpha low %.3f high %.3f (best CAM background threshold %s)", params.low_alpha,
             params.high_alpha, best)
    count = run_crf("data/prepared", "cams/seam", params, background, "crf/la", "crf/ha", "labels/cam_dcrf")
    log.info("CRF on %d images (CAM + dCRF background %.2f)", count, background)


if __name__ == "__main__":
    main(run, distributed=True)
