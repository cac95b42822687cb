"""Stage ``train_getam``: GETAM's two-phase end-to-end training (params: train_getam; the online labels'
localise_getam.maps and getam_labels.completion)."""

import shutil

from stages.common import load_section, main
from wsss.params.getam import GetamLabelsParams, LocaliseGetamParams, TrainGetamParams
from wsss.train.getam import train_getam


def run() -> None:
    params = load_section("train_getam", TrainGetamParams)
    # The online pseudo labels are made as the multi-stage variant makes them.
    maps = load_section("localise_getam", LocaliseGetamParams).maps
    completion = load_section("getam_labels", GetamLabelsParams).completion
    work = "work/train_getam"
    train_getam("data/prepared", params, maps, completion, "models/getam.pt", work, live_dir="logs/train_getam",
                saliency_dir="saliency")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(run, distributed=True)
