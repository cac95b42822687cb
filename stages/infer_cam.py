"""Stage ``infer_cam@<method>``: multi-scale CAMs of a split into cams/<method> (params: infer_cam)."""

import logging
import sys

from stages.common import load_section, main
from wsss.cams.infer import infer_cams
from wsss.config import InferCamParams


def run() -> None:
    name = sys.argv[1]
    params = load_section("infer_cam", InferCamParams)
    count = infer_cams("data/prepared", f"models/cls_{name}.pt", params, f"cams/{name}")
    logging.getLogger("stages.infer_cam").info("wrote maps of %d images to cams/%s", count, name)


if __name__ == "__main__":
    main(run, distributed=True)
