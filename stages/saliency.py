"""Stage ``saliency``: one saliency map per photo into saliency/ (params: saliency), read by MCIS,
GETAM and the saliency-guided labels.

Usage: python -m stages.saliency
"""

import logging

from stages.common import load_section, main
from wsss.config import SaliencyParams
from wsss.saliency.maps import write_saliency_maps


def run() -> None:
    params = load_section("saliency", SaliencyParams)
    count = write_saliency_maps("data/prepared", params, "saliency")
    logging.getLogger("stages.saliency").info("saliency: %d maps from %s into saliency/", count, params.model)


if __name__ == "__main__":
    main(run)
