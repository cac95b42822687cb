"""The torch dense CRF against pydensecrf on a pipeline's real CAMs: pixels with the same label,
each backend's label mIoU against the ground truth, and each backend's speed (one thread each).

    python benchmarks/crf_agreement.py --index data/prepared --cams cams/seam --split train \\
        --alphas 4 24 --background 0.24 [--images 100]

Labels are those the ``crf`` stage writes: argmax over [bg = (1 − max)^α, maps] for each α, and
over [constant background, maps] for ``--background`` ("CAM + dCRF").
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np

from wsss import io, metrics
from wsss.data.dataset import Dataset
from wsss.progress import chunked, default_workers, parallel_map
from wsss.refine.crf import BACKENDS, CRF_PRESETS, crf_with_alpha, crf_with_constant_background


def _compare_chunk(ids, index_dir: str, cam_dir: str, alphas: tuple[float, ...], background: float, preset: str):
    import torch

    torch.set_num_threads(1)               # both backends timed on one thread, in a worker or not
    dataset = Dataset(index_dir)
    reader = io.CamShardReader(cam_dir)
    c = dataset.num_classes
    settings = [f"alpha {a:g}" for a in alphas] + [f"dCRF bg {background:g}"]
    confusion = np.zeros((len(settings), len(BACKENDS), c, c), np.int64)
    same = np.zeros(len(settings), np.int64)
    pixels = 0
    seconds = np.zeros(len(BACKENDS))
    for image_id in ids:
        image = dataset.read_image(image_id)
        gt = dataset.read_mask(image_id)
        classes, maps = reader.read(image_id)
        label_ids = np.concatenate([[0], classes + 1])
        pixels += gt.size
        for s, setting in enumerate(settings):
            labels = []
            for b, backend in enumerate(BACKENDS):
                start = time.perf_counter()
                if s < len(alphas):
                    q = crf_with_alpha(image, maps, alphas[s], CRF_PRESETS[preset], backend=backend)
                else:
                    q = crf_with_constant_background(image, maps, background, CRF_PRESETS[preset], backend=backend)
                seconds[b] += time.perf_counter() - start
                labels.append(label_ids[q.argmax(0)])
                confusion[s, b] += metrics.confusion_matrix(gt, labels[-1], c)
            same[s] += int((labels[0] == labels[1]).sum())
    return confusion, same, pixels, seconds, len(ids) * len(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default="data/prepared")
    parser.add_argument("--cams", default="cams/seam")
    parser.add_argument("--split", default="train")
    parser.add_argument("--alphas", type=float, nargs="+", default=[4.0, 24.0])
    parser.add_argument("--background", type=float, default=0.3)
    parser.add_argument("--preset", default="seam", choices=sorted(CRF_PRESETS))
    parser.add_argument("--images", type=int, default=0, help="first N images of the split (0: all)")
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    dataset = Dataset(args.index)
    ids = dataset.ids(args.split)
    ids = ids[: args.images] if args.images else ids
    fn = functools.partial(_compare_chunk, index_dir=args.index, cam_dir=args.cams, alphas=tuple(args.alphas),
                           background=args.background, preset=args.preset)
    parts = parallel_map(fn, chunked(ids, 4), args.workers or default_workers(), desc="crf agreement", unit="img",
                         count_elements=True)
    confusion = sum(p[0] for p in parts)
    same = sum(p[1] for p in parts)
    pixels = sum(p[2] for p in parts)
    seconds = sum(p[3] for p in parts)
    runs = sum(p[4] for p in parts)
    settings = [f"alpha {a:g}" for a in args.alphas] + [f"dCRF bg {args.background:g}"]
    print(f"{len(ids)} images of {args.split}, preset {args.preset}, {CRF_PRESETS[args.preset].iterations} iterations")
    print("| labels | same label | mIoU pydensecrf | mIoU torch | difference |")
    print("|---|---|---|---|---|")
    for s, setting in enumerate(settings):
        ref, ours = (metrics.scores(confusion[s, b])["miou"] * 100 for b in range(2))
        print(f"| {setting} | {100 * same[s] / pixels:.3f} % | {ref:.2f} % | {ours:.2f} % | {ours - ref:+.2f} |")
    for b, backend in enumerate(BACKENDS):
        print(f"{backend}: {runs / seconds[b]:.2f} CRFs/s on one CPU thread")


if __name__ == "__main__":
    main()
