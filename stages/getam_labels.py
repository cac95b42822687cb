"""Stage ``getam_labels``: activation-aware label completion of the GETAM maps with saliency into
labels/getam (params: getam_labels), the pseudo labels of GETAM's multi-stage variant."""

import logging

from stages.common import load_section, main
from wsss.params.getam import GetamLabelsParams
from wsss.refine.label_completion import run_getam_labels


def run() -> None:
    params = load_section("getam_labels", GetamLabelsParams)
    count = run_getam_labels("data/prepared", "cams/getam", params, "labels/getam", saliency_dir="saliency")
    logging.getLogger("stages.getam_labels").info("wrote %d pseudo-label maps to labels/getam", count)


if __name__ == "__main__":
    main(run)
