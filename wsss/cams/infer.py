"""Run multi-scale CAM inference over a dataset split into a shard folder (rank-sharded under DDP)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from wsss.cams.gradcam import gradcam_maps
from wsss.cams.multiscale import batched_multiscale_cams, cam_views, same_size_runs
from wsss.errors import ConfigError
from wsss.inference import open_inference
from wsss.models.classifier import KIND as CLASSIFIER
from wsss.params.seam import InferCamParams
from wsss.progress import prefetched, progress

log = logging.getLogger(__name__)


def infer_cams(index_dir: str | Path, checkpoint: str | Path, params: InferCamParams, out_dir: str | Path) -> int:
    """Write localisation maps of every image of the split; returns the number of images written."""
    loaded, share = open_inference(index_dir, checkpoint, [CLASSIFIER], params.split, params.device, params.precision)
    model, spec, device, dtype = loaded.model, loaded.spec, loaded.device, loaded.dtype
    dataset, mine = share.dataset, share.ids
    normalisation = params.normalisation
    if normalisation == "auto":
        normalisation = "minmax" if spec.method == "seam" else "max"
    map_fn = None
    if params.maps in ("gradcam", "gradcampp"):
        map_fn = functools.partial(gradcam_maps, model, plusplus=params.maps == "gradcampp")
    elif params.maps != "native":
        raise ConfigError(f"infer_cam.maps {params.maps!r} is not one of native, gradcam, gradcampp")

    def load(image_id: str):
        # Decoding and resizing run in prefetch threads while the device works on earlier images.
        image = dataset.read_image(image_id)
        return image, cam_views(image, params.scales, device)

    # Images of one size share each scale's batch on CUDA; one at a time on the CPU (nothing to gain).
    per_batch = params.batch_images or (4 if device.type == "cuda" else 1)
    with share.cam_writer(out_dir) as writer:
        loaded = zip(mine, prefetched(load, mine))
        bar = iter(progress(range(len(mine)), len(mine), desc=f"cams {spec.method}"))
        for run in same_size_runs(loaded, lambda item: item[1][0].shape[:2], per_batch):
            results = batched_multiscale_cams(
                model, [image for _, (image, _) in run], [dataset.labels(image_id) for image_id, _ in run],
                [views for _, (_, views) in run], params.flip, normalisation, device, dtype, map_fn)
            for (image_id, _), (classes, maps) in zip(run, results):
                writer.write(image_id, classes, maps)
                next(bar, None)
        next(bar, None)  # closes the bar
    return len(mine)
