"""Stage ``infer_seg@<method>``: multi-scale (+ optional CRF) segmentation of a split into
labels/seg_<method> (params: infer_seg, or the named section) with models/seg_<method>.pt (or the
named checkpoint: GETAM's end-to-end network).

Usage: python -m stages.infer_seg <method> [<params section> [<checkpoint>]]
"""

import logging
import sys

from stages.common import load_section, main
from wsss.config import InferSegParams
from wsss.segment import infer_segmentation


def run() -> None:
    name = sys.argv[1]
    section = sys.argv[2] if len(sys.argv) > 2 else "infer_seg"
    model = sys.argv[3] if len(sys.argv) > 3 else f"models/seg_{name}.pt"
    params = load_section(section, InferSegParams)
    count = infer_segmentation("data/prepared", model, params, f"labels/seg_{name}")
    logging.getLogger("stages.infer_seg").info("segmented %d images into labels/seg_%s", count, name)


if __name__ == "__main__":
    main(run, distributed=True)
