"""Stage ``eval_cam@<method>``: background-threshold curve of the CAMs, best mIoU, mFP/mFN."""

import logging

import pandas as pd

from stages.common import load_section, main, stage_arguments
from wsss import io, metrics
from wsss.config import EvalCamParams
from wsss.data.dataset import Dataset
from wsss.evaluate import evaluate_cams, threshold_curve


def run() -> None:
    (name,) = stage_arguments("method")
    params = load_section("eval_cam", EvalCamParams)
    names = Dataset("data/prepared").class_names
    confusions = evaluate_cams("data/prepared", params.split, f"cams/{name}", metrics.SEAM_THRESHOLDS, params.workers)
    rows, (best_t, best) = threshold_curve(confusions, metrics.SEAM_THRESHOLDS, names)
    io.write_json(f"metrics/eval_cam_{name}.json", {"best_threshold": best_t, **best})
    io.write_csv(f"plots/cam_curve_{name}.csv", pd.DataFrame(rows))
    logging.getLogger("stages.eval_cam").info("%s: best threshold %.2f, mIoU %.2f", name, best_t, 100 * best["miou"])


if __name__ == "__main__":
    main(run)
