"""Stage ``random_walk``: pseudo labels by random walk over AffinityNet affinities from the SEAM CAMs."""

import logging

from stages.common import load_section, main
from wsss.config import RandomWalkParams
from wsss.refine.walk_labels import run_random_walk


def run() -> None:
    params = load_section("random_walk", RandomWalkParams)
    count = run_random_walk("data/prepared", "cams/seam", "models/affinity.pt", params, "labels/rw")
    logging.getLogger("stages.random_walk").info("wrote %d pseudo-label maps to labels/rw", count)


if __name__ == "__main__":
    main(run)
