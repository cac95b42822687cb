"""Stage ``crf``: low/high-α CRF probabilities of the SEAM CAMs (crf/la, crf/ha) and CAM + dCRF labels."""

import logging

from stages.common import load_section, main
from wsss import io
from wsss.config import CrfStageParams
from wsss.refine.crf_labels import run_crf


def run() -> None:
    params = load_section("crf", CrfStageParams)
    background = params.cam_background
    if background < 0:
        background = io.read_json("metrics/eval_cam_seam.json")["best_threshold"]
    count = run_crf("data/prepared", "cams/seam", params, background, "crf/la", "crf/ha", "labels/cam_dcrf")
    logging.getLogger("stages.crf").info("CRF on %d images (CAM + dCRF background %.2f)", count, background)


if __name__ == "__main__":
    main(run)
