"""Stage ``infer_seg@<method>``: multi-scale (+ optional CRF) segmentation of a split into
labels/seg_<method> (params: infer_seg, or the named section) with the DeepLab network in
models/seg_<method>.pt (or the named checkpoint). With ``--classes-from`` a classifier's image-level
scores gate the classes (``class_threshold`` > 0): the file must be a dependency of the stage.

Usage: python -m stages.infer_seg <method> [<params section> [<checkpoint>]] [--classes-from <classifier>]
"""

import argparse
import logging

from stages.common import load_section, main
from wsss.config import InferSegParams
from wsss.segment import infer_segmentation


def run() -> None:
    parser = argparse.ArgumentParser(prog="python -m stages.infer_seg", description=__doc__.splitlines()[0])
    parser.add_argument("method")
    parser.add_argument("section", nargs="?", default="infer_seg")
    parser.add_argument("checkpoint", nargs="?")
    parser.add_argument("--classes-from", default="", help="classifier model file whose scores gate the classes")
    args = parser.parse_args()
    model = args.checkpoint or f"models/seg_{args.method}.pt"
    params = load_section(args.section, InferSegParams)
    log = logging.getLogger("stages.infer_seg")
    if params.class_threshold > 0 and not args.classes_from:
        log.warning("%s.class_threshold %.2f is not used by infer_seg %s: its stage names no classifier",
                    args.section, params.class_threshold, args.method)
    count = infer_segmentation("data/prepared", model, params, f"labels/seg_{args.method}",
                               classifier=args.classes_from if params.class_threshold > 0 else None)
    log.info("segmented %d images into labels/seg_%s", count, args.method)


if __name__ == "__main__":
    main(run, distributed=True)
