"""Stage ``train_aff``: train AffinityNet on labels from the low/high-α CRF outputs."""

import shutil

from stages.common import load_section, main
from wsss.config import TrainAffParams
from wsss.train.affinity import train_affinity


def run() -> None:
    params = load_section("train_aff", TrainAffParams)
    work = "work/train_aff"
    train_affinity("data/prepared", "crf/la", "crf/ha", params, "models/affinity.pt", work, live_dir="logs/train_aff")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(run, distributed=True)
