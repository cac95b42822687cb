"""Run the dense CRF over a split's CAMs: low-α and high-α CRF probabilities (AffinityNet's label
sources) and "CAM + dCRF" label maps, in parallel over all cores (one single-threaded CRF per process),
or in this process on a CUDA device with the torch backend."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import numpy as np

from wsss import io
from wsss.data.dataset import Dataset
from wsss.devices import rank_share
from wsss.params.seam import CrfStageParams
from wsss.progress import (
    chunked,
    default_workers,
    parallel_imap,
    single_threaded_worker,
)
from wsss.refine.crf import crf_placement, crf_with_alpha, crf_with_constant_background
from wsss.world import launch_world


def _crf_chunk(ids: Sequence[str], index_dir: str, cam_dir: str, params: CrfStageParams, background: float,
               device: str):
    single_threaded_worker()
    backend = {"backend": params.backend, "device": device, "cache": {}}   # three CRFs per image share its lattices
    dataset = Dataset(index_dir)
    reader = io.CamShardReader(cam_dir)
    out = []
    for image_id in ids:
        image = dataset.read_image(image_id)
        classes, maps = reader.read(image_id)
        label_ids = np.concatenate([[0], classes + 1])
        la = crf_with_alpha(image, maps, params.low_alpha, params.crf, **backend)
        ha = crf_with_alpha(image, maps, params.high_alpha, params.crf, **backend)
        dcrf = crf_with_constant_background(image, maps, background, params.crf, **backend)
        out.append((image_id, label_ids, la, ha, label_ids[dcrf.argmax(0)].astype(np.uint8)))
    return out


def run_crf(index_dir: str | Path, cam_dir: str | Path, params: CrfStageParams, background: float,
            out_la: str | Path, out_ha: str | Path, out_labels: str | Path) -> int:
    ids, num_shards = rank_share(Dataset(index_dir).ids(params.split))
    # Under torchrun each process takes its share of the shards and of the cores.
    device, workers = crf_placement(params.backend, params.device,
                                    params.workers or max(1, default_workers() // launch_world().size))
    fn = functools.partial(_crf_chunk, index_dir=str(index_dir), cam_dir=str(cam_dir), params=params,
                           background=background, device=device)
    with io.CamShardWriter(out_la, num_shards) as la_writer, io.CamShardWriter(out_ha, num_shards) as ha_writer:
        for results in parallel_imap(fn, chunked(ids, 8), workers, desc="crf", unit="img", count_elements=True):
            for image_id, label_ids, la, ha, labels in results:
                la_writer.write(image_id, label_ids, la)
                ha_writer.write(image_id, label_ids, ha)
                io.write_label_png(io.label_map_path(out_labels, image_id), labels)
    return len(ids)
