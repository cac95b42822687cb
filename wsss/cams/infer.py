"""Run multi-scale CAM inference over a dataset split into a shard folder (rank-sharded under DDP)."""

from __future__ import annotations

import functools
import logging
import math
import os
from pathlib import Path

import torch

from wsss import io
from wsss.cams.gradcam import gradcam_maps
from wsss.cams.multiscale import multiscale_cams
from wsss.config import InferCamParams
from wsss.data.dataset import Dataset
from wsss.errors import ConfigError, DataError
from wsss.models.classifier import load_classifier
from wsss.progress import progress
from wsss.train.engine import resolve_device

log = logging.getLogger(__name__)


def shard_count(num_images: int, per_shard: int = 50) -> int:
    return max(1, math.ceil(num_images / per_shard))


def infer_cams(index_dir: str | Path, checkpoint: str | Path, params: InferCamParams, out_dir: str | Path) -> int:
    """Write localisation maps of every image of the split; returns the number of images written."""
    device = resolve_device(params.device)
    model, spec = load_classifier(checkpoint, device)
    dataset = Dataset(index_dir)
    if list(spec.class_names) != dataset.class_names:
        raise DataError(f"{checkpoint}: trained for classes {list(spec.class_names)}, dataset has {dataset.class_names}")
    normalisation = params.normalisation
    if normalisation == "auto":
        normalisation = "minmax" if spec.method == "seam" else "max"
    dtype = torch.bfloat16 if (params.precision == "bf16" or (params.precision == "auto" and device.type == "cuda")) else None
    map_fn = None
    if params.maps in ("gradcam", "gradcampp"):
        map_fn = functools.partial(gradcam_maps, model, plusplus=params.maps == "gradcampp")
    elif params.maps != "native":
        raise ConfigError(f"infer_cam.maps {params.maps!r} is not one of native, gradcam, gradcampp")
    ids = dataset.ids(params.split)
    num_shards = shard_count(len(ids))
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    mine = [i for i in io.sorted_by_shard(ids, num_shards) if io.shard_of(i, num_shards) % world == rank]
    with io.CamShardWriter(out_dir, num_shards) as writer:
        for image_id in progress(mine, len(mine), desc=f"cams {spec.method}"):
            classes, maps = multiscale_cams(model, dataset.read_image(image_id), dataset.labels(image_id),
                                            params.scales, params.flip, normalisation, device, dtype, map_fn)
            writer.write(image_id, classes, maps)
    return len(mine)
