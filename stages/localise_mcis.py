"""Stage ``localise_mcis``: multi-round co-attentive localisation maps into cams/mcis (params: localise_mcis,
train_mcis.size)."""

import logging

from stages.common import load_section, main
from wsss.cams.coattention import localise_mcis
from wsss.params.mcis import LocaliseMcisParams, TrainMcisParams


def run() -> None:
    params = load_section("localise_mcis", LocaliseMcisParams)
    size = load_section("train_mcis", TrainMcisParams).size  # the size the network was trained at
    count = localise_mcis("data/prepared", "models/mcis.pt", params, size, "cams/mcis")
    logging.getLogger("stages.localise_mcis").info("wrote maps of %d images to cams/mcis", count)


if __name__ == "__main__":
    main(run, distributed=True)
