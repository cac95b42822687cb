"""Stage ``train_aff``: train AffinityNet on labels from the low/high-α CRF outputs (``train_aff.labels:
crf``), or from a pseudo-label folder such as labels/sal."""

import shutil

from stages.common import load_section, main
from wsss.params.seam import TrainAffParams
from wsss.train.affinity import train_affinity


def run() -> None:
    params = load_section("train_aff", TrainAffParams)
    work = "work/train_aff"
    label_dir = None if params.labels == "crf" else params.labels
    train_affinity("data/prepared", "crf/la", "crf/ha", params, "models/affinity.pt", work, live_dir="logs/train_aff",
                   label_dir=label_dir)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(run, distributed=True)
