"""Stage ``source`` (always runs): fingerprint the files the data source reads into data/source.json.

``prepare`` depends on that file, so a changed image, mask, label table, list or saliency map outside
the repository reruns ``prepare`` (and what follows from it); an unchanged source leaves the file,
and so everything after it, as it was.
"""

import json
import logging

from stages.common import load_section, main
from wsss import io
from wsss.config import PrepareParams
from wsss.data.sources import describe, fingerprint

OUT = "data/source.json"
HASH_CACHE = "work/source-hashes.json"


def run() -> None:
    params = load_section("prepare", PrepareParams)
    result = fingerprint(params, HASH_CACHE)
    io.write_text(OUT, json.dumps(result, indent=1, sort_keys=True) + "\n")
    logging.getLogger("stages.source").info("%s source: %s", params.source, describe(result))


if __name__ == "__main__":
    main(run)
