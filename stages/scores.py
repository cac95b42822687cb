"""Stage ``scores`` of each pipeline: every evaluation's mIoU (%) in metrics/<pipeline>.json, the one
metrics file that ``dvc exp show`` and ``dvc metrics diff`` list.

Usage: python -m stages.scores <seam|mcis|getam>
"""

import logging
from pathlib import Path

from stages.common import main, stage_arguments
from wsss import io
from wsss.report.scores import pipeline_scores


def run() -> None:
    (pipeline,) = stage_arguments("pipeline")
    scores = pipeline_scores(Path("."), pipeline)
    io.write_json(Path("metrics") / f"{pipeline}.json", scores)
    logging.getLogger("stages.scores").info("%s: %s", pipeline, ", ".join(f"{k} {v:.1f}" for k, v in scores.items()))


if __name__ == "__main__":
    main(run)
