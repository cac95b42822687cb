"""Stage ``train_getam``: GETAM's two-phase end-to-end training (params: train_getam)."""

import shutil

from stages.common import load_section, main
from wsss.config import TrainGetamParams
from wsss.train.getam import train_getam


def run() -> None:
    params = load_section("train_getam", TrainGetamParams)
    work = "work/train_getam"
    train_getam("data/prepared", params, "models/getam.pt", work, live_dir="logs/train_getam")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(run, distributed=True)
