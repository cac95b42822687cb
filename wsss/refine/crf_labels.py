"""Run the dense CRF over a split's CAMs: low-α and high-α CRF probabilities (AffinityNet's label
sources) and "CAM + dCRF" label maps, in parallel over all cores (one single-threaded CRF per process)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from wsss import io
from wsss.cams.common import shard_count
from wsss.config import CrfStageParams
from wsss.data.dataset import Dataset
from wsss.progress import chunked, parallel_imap
from wsss.refine.crf import crf_with_alpha, crf_with_constant_background


def _crf_chunk(ids: Sequence[str], index_dir: str, cam_dir: str, params: CrfStageParams, background: float):
    # Several CRFs per process would oversubscribe the cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    dataset = Dataset(index_dir)
    reader = io.CamShardReader(cam_dir)
    out = []
    for image_id in ids:
        image = dataset.read_image(image_id)
        classes, maps = reader.read(image_id)
        label_ids = np.concatenate([[0], classes + 1])
        la = crf_with_alpha(image, maps, params.low_alpha, params.crf)
        ha = crf_with_alpha(image, maps, params.high_alpha, params.crf)
        dcrf = crf_with_constant_background(image, maps, background, params.crf)
        out.append((image_id, label_ids, la, ha, label_ids[dcrf.argmax(0)].astype(np.uint8)))
    return out


def run_crf(index_dir: str | Path, cam_dir: str | Path, params: CrfStageParams, background: float,
            out_la: str | Path, out_ha: str | Path, out_labels: str | Path) -> int:
    ids = Dataset(index_dir).ids(params.split)
    num_shards = shard_count(len(ids))
    ids = io.sorted_by_shard(ids, num_shards)
    fn = functools.partial(_crf_chunk, index_dir=str(index_dir), cam_dir=str(cam_dir), params=params,
                           background=background)
    with io.CamShardWriter(out_la, num_shards) as la_writer, io.CamShardWriter(out_ha, num_shards) as ha_writer:
        for results in parallel_imap(fn, chunked(ids, 8), params.workers, desc="crf", unit="img", count_elements=True):
            for image_id, label_ids, la, ha, labels in results:
                la_writer.write(image_id, label_ids, la)
                ha_writer.write(image_id, label_ids, ha)
                io.write_label_png(io.label_map_path(out_labels, image_id), labels)
    return len(ids)
