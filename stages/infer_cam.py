"""Stage ``infer_cam@<method>``: multi-scale CAMs of a split into cams/<method> (params: infer_cam)."""

import logging

from stages.common import load_section, main, stage_arguments
from wsss.cams.infer import infer_cams
from wsss.params.seam import InferCamParams


def run() -> None:
    (name,) = stage_arguments("method")
    params = load_section("infer_cam", InferCamParams)
    count = infer_cams("data/prepared", f"models/cls_{name}.pt", params, f"cams/{name}")
    logging.getLogger("stages.infer_cam").info("wrote maps of %d images to cams/%s", count, name)


if __name__ == "__main__":
    main(run, distributed=True)
