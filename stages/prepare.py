"""Stage ``prepare``: build the dataset index (and generate the demo) into data/prepared.

The source fingerprint written by the ``source`` stage is copied into the index, so a changed
external file changes data/prepared and reruns every stage that reads it.
"""

import logging
from pathlib import Path

from stages.common import load_section, main
from wsss.config import PrepareParams
from wsss.data.prepare import prepare_dataset
from wsss.errors import WsssError

OUT = "data/prepared"
SOURCE = "data/source.json"


def run() -> None:
    params = load_section("prepare", PrepareParams)
    if not Path(SOURCE).is_file():
        raise WsssError(f"{SOURCE} missing: run `dvc repro` (its source stage fingerprints the data first)")
    sizes = prepare_dataset(params, OUT, extra_files={"source.json": SOURCE})
    logging.getLogger("stages.prepare").info("prepared %s: %s", params.source, sizes)


if __name__ == "__main__":
    main(run)
