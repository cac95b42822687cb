"""Stage ``random_walk``: pseudo labels by random walk over AffinityNet affinities from the SEAM CAMs.

``random_walk.alpha <= 0`` derives α from the best constant background threshold that ``eval_cam@seam``
found (α solving t = (1 − t)^α), so the walk's background agrees with where the CAMs peak.
"""

import dataclasses
import logging

from stages.common import best_seam_cam_threshold, load_section, main
from wsss.params.seam import RandomWalkParams
from wsss.refine.crf import alpha_for_background
from wsss.refine.walk_labels import run_random_walk

log = logging.getLogger("stages.random_walk")


def run() -> None:
    params = load_section("random_walk", RandomWalkParams)
    if params.alpha <= 0:
        threshold = best_seam_cam_threshold()
        params = dataclasses.replace(params, alpha=alpha_for_background(threshold))
        log.info("alpha %.3f from the best CAM background threshold %.2f", params.alpha, threshold)
    count = run_random_walk("data/prepared", "cams/seam", "models/affinity.pt", params, "labels/rw")
    log.info("wrote %d pseudo-label maps to labels/rw", count)


if __name__ == "__main__":
    main(run, distributed=True)
