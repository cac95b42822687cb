"""Stage ``report@<pipeline>``: the run's HTML report in report/<pipeline>/ (reads artifacts only).

Usage: python -m stages.report <seam|mcis|getam>
"""

import logging
import shutil
from pathlib import Path

from stages.common import main, stage_arguments
from wsss.report.page import build_report


def run() -> None:
    (pipeline,) = stage_arguments("pipeline")
    out = Path("report") / pipeline
    shutil.rmtree(out, ignore_errors=True)  # no tiles left over from an earlier selection
    path = build_report(Path("."), out, pipeline)
    logging.getLogger("stages.report").info("report written to %s", path)


if __name__ == "__main__":
    main(run)
