"""Stages ``eval_rw``, ``eval_dcrf`` and ``eval_seg@<method>``: mIoU, mFP/mFN and per-class IoU of a label-map folder.

Usage: python -m stages.eval_labels <params section> <label folder> <name>
"""

import logging

from stages.common import load_section, main, stage_arguments
from wsss import io, metrics
from wsss.config import EvalLabelsParams
from wsss.data.dataset import Dataset
from wsss.evaluate import evaluate_label_maps


def run() -> None:
    section, folder, name = stage_arguments("section", "folder", "name")
    params = load_section(section, EvalLabelsParams)
    dataset = Dataset("data/prepared")
    result = metrics.scores(evaluate_label_maps("data/prepared", params.split, folder, params.workers), dataset.class_names)
    io.write_json(f"metrics/{name}.json", {**result, "data": dataset.fingerprint()})
    logging.getLogger("stages.eval_labels").info("%s: mIoU %.2f", name, 100 * result["miou"])


if __name__ == "__main__":
    main(run)
