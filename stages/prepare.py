"""Stage ``prepare``: build the dataset index (and generate the demo) into data/prepared."""

import logging

from stages.common import load_section, main
from wsss.config import PrepareParams
from wsss.data.prepare import prepare_dataset

OUT = "data/prepared"


def run() -> None:
    params = load_section("prepare", PrepareParams)
    sizes = prepare_dataset(params, OUT)
    logging.getLogger("stages.prepare").info("prepared %s: %s", params.source, sizes)


if __name__ == "__main__":
    main(run)
