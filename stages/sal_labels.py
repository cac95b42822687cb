"""Stage ``sal_labels``: saliency-guided pseudo labels from the maps of cams/<name> for each name in
sal_labels.cams (several: averaged) and saliency/ into labels/sal (params: sal_labels);
train_seg.labels: labels/sal trains DeepLab on them.

Usage: python -m stages.sal_labels
"""

import logging

from stages.common import load_section, main
from wsss.config import SalientCamLabelsParams
from wsss.errors import ConfigError
from wsss.refine.saliency_labels import run_salient_cam_labels


def run() -> None:
    params = load_section("sal_labels", SalientCamLabelsParams)
    if not params.cams or len(set(params.cams)) != len(params.cams):
        raise ConfigError(f"sal_labels.cams: {params.cams!r}: name each map folder once (seam, cam)")
    cams = [f"cams/{name}" for name in params.cams]
    count = run_salient_cam_labels("data/prepared", cams, params, "labels/sal", saliency_dir="saliency")
    logging.getLogger("stages.sal_labels").info("wrote %d pseudo-label maps from %s to labels/sal", count,
                                                " + ".join(cams))


if __name__ == "__main__":
    main(run)
