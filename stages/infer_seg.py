"""Stage ``infer_seg@<method>``: multi-scale (+ optional CRF) segmentation of a split into
labels/seg_<method> (params: infer_seg).

Usage: python -m stages.infer_seg <method>
"""

import logging
import sys

from stages.common import load_section, main
from wsss.config import InferSegParams
from wsss.segment import infer_segmentation


def run() -> None:
    name = sys.argv[1]
    params = load_section("infer_seg", InferSegParams)
    count = infer_segmentation("data/prepared", f"models/seg_{name}.pt", params, f"labels/seg_{name}")
    logging.getLogger("stages.infer_seg").info("segmented %d images into labels/seg_%s", count, name)


if __name__ == "__main__":
    main(run)
