"""Stage ``localise_getam``: PAMR-refined GETAM maps of the trained network into cams/getam
(params: localise_getam)."""

import logging

from stages.common import load_section, main
from wsss.cams.getam import localise_getam
from wsss.params.getam import LocaliseGetamParams


def run() -> None:
    params = load_section("localise_getam", LocaliseGetamParams)
    count = localise_getam("data/prepared", "models/getam.pt", params, "cams/getam")
    logging.getLogger("stages.localise_getam").info("wrote maps of %d images to cams/getam", count)


if __name__ == "__main__":
    main(run, distributed=True)
