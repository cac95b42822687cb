"""Stage ``train_seg@<method>``: retrain DeepLab on a method's pseudo labels (params: train_seg).

Usage: python -m stages.train_seg <method> <pseudo-label folder>
"""

import shutil

from stages.common import load_section, main, stage_arguments
from wsss.config import TrainSegParams
from wsss.train.segmentation import train_segmenter


def run() -> None:
    name, labels = stage_arguments("method", "labels")
    params = load_section("train_seg", TrainSegParams)
    work = f"work/train_seg_{name}"
    train_segmenter("data/prepared", labels, params, f"models/seg_{name}.pt", work, live_dir=f"logs/train_seg_{name}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(run, distributed=True)
