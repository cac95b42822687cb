"""Stage ``infer_getam``: GETAM's end-to-end network (models/getam.pt) segments the split into
labels/seg_getam (params: infer_getam), with the same test-time recipe as ``infer_seg``.

Its own module so that only GETAM's stages depend on GETAM's network code.

Usage: python -m stages.infer_getam
"""

import logging

from stages.common import load_section, main, stage_arguments
from wsss.config import InferSegParams
from wsss.models.getam import KIND as GETAM
from wsss.segment import infer_segmentation


def run() -> None:
    stage_arguments()
    params = load_section("infer_getam", InferSegParams)
    count = infer_segmentation("data/prepared", "models/getam.pt", params, "labels/seg_getam", kinds=[GETAM])
    logging.getLogger("stages.infer_getam").info("segmented %d images into labels/seg_getam", count)


if __name__ == "__main__":
    main(run, distributed=True)
