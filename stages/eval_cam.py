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
    dataset = Dataset("data/prepared")
    thresholds = metrics.background_thresholds(params.last_threshold)
    confusions = evaluate_cams("data/prepared", params.split, f"cams/{name}", thresholds, params.workers)
    rows, (best_t, best) = threshold_curve(confusions, thresholds, dataset.class_names)
    at_end = best_t == thresholds[-1]
    io.write_json(f"metrics/eval_cam_{name}.json", {"best_threshold": best_t, **best, "best_at_sweep_end": at_end,
                                                    "data": dataset.fingerprint()})
    io.write_csv(f"plots/cam_curve_{name}.csv", pd.DataFrame(rows))
    log = logging.getLogger("stages.eval_cam")
    log.info("%s: best threshold %.2f, mIoU %.2f", name, best_t, 100 * best["miou"])
    if at_end:
        log.warning("%s: the mIoU still rises at the sweep's last threshold %.2f, so it is understated; "
                    "raise eval_cam.last_threshold to find the peak", name, best_t)


if __name__ == "__main__":
    main(run)
