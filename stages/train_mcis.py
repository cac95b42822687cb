"""Stage ``train_mcis``: train the MCIS co-attention classifier on image pairs (params: train_mcis)."""

import shutil

from stages.common import load_section, main
from wsss.params.mcis import TrainMcisParams
from wsss.train.mcis import train_mcis


def run() -> None:
    params = load_section("train_mcis", TrainMcisParams)
    work = "work/train_mcis"
    train_mcis("data/prepared", params, "models/mcis.pt", work, live_dir="logs/train_mcis")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(run, distributed=True)
