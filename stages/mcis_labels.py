"""Stage ``mcis_labels``: saliency-guided pseudo labels from the MCIS maps into labels/mcis (params: mcis_labels)."""

import logging

from stages.common import load_section, main
from wsss.config import McisLabelsParams
from wsss.refine.saliency_labels import run_saliency_labels


def run() -> None:
    params = load_section("mcis_labels", McisLabelsParams)
    count = run_saliency_labels("data/prepared", "cams/mcis", params, "labels/mcis", saliency_dir="saliency")
    logging.getLogger("stages.mcis_labels").info("wrote %d pseudo-label maps to labels/mcis", count)


if __name__ == "__main__":
    main(run)
