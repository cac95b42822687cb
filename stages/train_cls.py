"""Stage ``train_cls@<method>``: train the CAM baseline or SEAM classifier (params: train_cls.<method>).

Usage: python -m stages.train_cls <cam|seam>
"""

import shutil

from stages.common import load_section, main, stage_arguments
from wsss.params.seam import TrainClsParams
from wsss.train.classifier import train_classifier


def run() -> None:
    (name,) = stage_arguments("method")
    params = load_section("train_cls", TrainClsParams, key=name)
    work = f"work/train_cls_{name}"
    train_classifier("data/prepared", params, f"models/cls_{name}.pt", work, live_dir=f"logs/train_cls_{name}")
    # The resumable training state is only needed while training runs.
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(run, distributed=True)
