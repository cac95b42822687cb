"""The segmenter diagnostic of README "What limits the segmenter": train DeepLab with params.yaml's
train_seg section (plus overrides) on any label folder, ground truth included, then score it on the
val split plainly, with classes gated by a classifier's image-level scores, and with the true image
labels as an oracle. Run from a prepared project (data/prepared, e.g. after `wsss recipe ...`).

    python benchmarks/segmenter_table.py gt ../shared/voc-sample/SegmentationClass engine.epochs=15
    python benchmarks/segmenter_table.py sal labels/sal engine.epochs=15 --classifier models/cls_seam.pt
    python benchmarks/segmenter_table.py sal labels/sal engine.epochs=15 --infer crf=irn   # same model, new test
    python benchmarks/segmenter_table.py gt_rfs ../shared/voc-sample/SegmentationClass engine.epochs=15 repeat_threshold=0.2
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path.cwd()))
from stages.common import read_params  # noqa: E402
from wsss import metrics  # noqa: E402
from wsss.config import InferSegParams, TrainSegParams, from_dict, with_shared_engine  # noqa: E402
from wsss.data.dataset import Dataset  # noqa: E402
from wsss.refine.crf import CRF_PRESETS, dense_crf  # noqa: E402
from wsss.segment import SegmentationRunner, gated, upsampled_argmax  # noqa: E402
from wsss.train.segmentation import train_segmenter  # noqa: E402


def with_overrides(section: dict, overrides: list[str]) -> dict:
    section = yaml.safe_load(yaml.safe_dump(section))
    for override in overrides:
        key, value = override.split("=", 1)
        node = section
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return section


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name", help="a folder under --out for this run's model")
    parser.add_argument("labels", help="label folder the segmenter trains on (sharded or flat PNGs)")
    parser.add_argument("overrides", nargs="*", help="train_seg keys, e.g. engine.epochs=15")
    parser.add_argument("--classifier", default="", help="classifier model file for gated rows")
    parser.add_argument("--thresholds", type=float, nargs="*", default=[0.3, 0.5])
    parser.add_argument("--infer", nargs="*", default=[], help="infer_seg keys for the test, e.g. crf=irn 'scales=[0.75,1,1.25]'")
    parser.add_argument("--out", default="work/segmenter_table")
    args = parser.parse_args()
    document = read_params()
    params = from_dict(TrainSegParams, with_overrides(with_shared_engine(document["train_seg"], document.get("engine")),
                                                      args.overrides))
    run_dir = Path(args.out) / args.name
    model = run_dir / "model.pt"
    start = time.perf_counter()
    if not model.is_file():
        train_segmenter("data/prepared", args.labels, params, model, run_dir / "work")
        shutil.rmtree(run_dir / "work", ignore_errors=True)
    trained = time.perf_counter() - start
    infer = from_dict(InferSegParams, with_overrides({**document.get("infer_seg", {}), "class_threshold": 0.0}, args.infer))
    runner = SegmentationRunner(model, infer)
    gate = SegmentationRunner(model, infer, args.classifier) if args.classifier else None
    dataset = Dataset("data/prepared")
    c = dataset.num_classes
    rows: dict[str, np.ndarray] = {}
    for image_id in dataset.ids("val"):
        image, truth = dataset.read_image(image_id), dataset.read_mask(image_id)
        probs = runner.probs(image)
        variants = {"plain": probs, "oracle image labels": gated(probs, np.concatenate([[True], dataset.labels(image_id) > 0]))}
        for threshold in args.thresholds if gate else []:
            gate.params = replace(infer, class_threshold=threshold)
            variants[f"gated at {threshold}"] = gated(probs, gate.seen_classes(image))
        for row, p in variants.items():
            if infer.crf != "none":     # the dense CRF of the test, on each variant's probabilities
                p = dense_crf(image, p, CRF_PRESETS[infer.crf], infer.crf_backend, runner.crf_device)
            label = upsampled_argmax(p, truth.shape)
            rows[row] = rows.get(row, np.zeros((c, c), np.int64)) + metrics.confusion_matrix(truth, label, c)
    print(f"{args.name}: trained on {args.labels} with {' '.join(args.overrides) or 'params.yaml'} in {trained / 60:.1f} min;"
          f" tested with {' '.join(args.infer) or 'params.yaml'}")
    for row, confusion in rows.items():
        scores = metrics.scores(confusion, dataset.class_names)
        per_class = " ".join(f"{n}:{scores['iou_' + n]:.2f}" for n in dataset.class_names if scores["iou_" + n] is not None)
        print(f"  {row:22} mIoU {100 * scores['miou']:.1f} %   {per_class}")



if __name__ == "__main__":
    main()
