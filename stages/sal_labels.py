"""Stage ``sal_labels``: saliency-guided pseudo labels from a method's maps (cams/<sal_labels.cams>) and
saliency/ into labels/sal (params: sal_labels); train_seg.labels: labels/sal trains DeepLab on them.

Usage: python -m stages.sal_labels
"""

import logging

from stages.common import load_section, main
from wsss.config import SalientCamLabelsParams
from wsss.refine.saliency_labels import run_salient_cam_labels


def run() -> None:
    params = load_section("sal_labels", SalientCamLabelsParams)
    cams = f"cams/{params.cams}"
    count = run_salient_cam_labels("data/prepared", cams, params, "labels/sal", saliency_dir="saliency")
    logging.getLogger("stages.sal_labels").info("wrote %d pseudo-label maps from %s to labels/sal", count, cams)


if __name__ == "__main__":
    main(run)
