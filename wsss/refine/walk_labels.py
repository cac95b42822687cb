"""Random-walk pseudo labels for a split: AffinityNet affinities on the full image, SEAM CAM start
scores, sparse propagation of several images at once (block-diagonal), label PNGs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from wsss import io
from wsss.data.transforms import to_tensor
from wsss.inference import open_inference
from wsss.models.affinity import KIND as AFFINITY
from wsss.ops.pairs import effective_radius, pair_affinities
from wsss.params.seam import RandomWalkParams
from wsss.progress import progress
from wsss.refine.random_walk import (
    cam_scores_on_grid,
    propagate,
    sparse_transition_transposed,
)


@torch.no_grad()
def walk_batch(model, images: list[np.ndarray], cams: list[tuple[np.ndarray, np.ndarray]], num_classes: int,
               params: RandomWalkParams, device: torch.device) -> list[np.ndarray]:
    stride = model.backbone.output_stride
    blocks, scores, shapes = [], [], []
    for image, (classes, maps) in zip(images, cams):
        h, w = image.shape[:2]
        padded = (math.ceil(h / stride) * stride, math.ceil(w / stride) * stride)
        x = to_tensor(image, model.backbone.mean, model.backbone.std)
        x = F.pad(x, (0, padded[1] - w, 0, padded[0] - h))[None].to(device)
        features = model.features(x).float()
        gh, gw = features.shape[2:]
        radius = effective_radius(model.radius, gh, gw)
        blocks.append((pair_affinities(features, radius)[0], radius, gh, gw))
        scores.append(cam_scores_on_grid(maps, classes, num_classes, params.alpha, stride, padded).to(device))
        shapes.append(((h, w), padded))
    total = sum(gh * gw for _, _, gh, gw in blocks)
    transposed, offset = None, 0
    for affinity, radius, gh, gw in blocks:
        part = sparse_transition_transposed(affinity, radius, gh, gw, params.beta, offset, total)
        transposed = part if transposed is None else transposed + part
        offset += gh * gw
    start = torch.cat([s.reshape(num_classes, -1) for s in scores], 1).t().contiguous()
    # Classes absent from every image of the batch have zero scores throughout: walk only the others.
    active = start.abs().sum(0) > 0
    walked = torch.zeros(num_classes, start.shape[0], device=device)
    walked[active] = propagate(transposed.coalesce(), start[:, active].contiguous(), 2**params.logt).t()
    labels, offset = [], 0
    for (_, _, gh, gw), ((h, w), padded) in zip(blocks, shapes):
        grid = walked[:, offset : offset + gh * gw].reshape(1, num_classes, gh, gw)
        offset += gh * gw
        up = F.interpolate(grid, padded, mode="bilinear", align_corners=False)[0, :, :h, :w]
        labels.append(up.argmax(0).to(torch.uint8).cpu().numpy())
    return labels


def run_random_walk(index_dir: str | Path, cam_dir: str | Path, checkpoint: str | Path, params: RandomWalkParams,
                    out_dir: str | Path) -> int:
    loaded, share = open_inference(index_dir, checkpoint, [AFFINITY], params.split, params.device)
    model, device, dataset, ids = loaded.model, loaded.device, share.dataset, share.ids
    reader = io.CamShardReader(cam_dir)
    batches = [ids[i : i + params.batch] for i in range(0, len(ids), params.batch)]
    bar = progress(range(len(ids)), len(ids), desc="random walk")
    for batch in batches:
        images = [dataset.read_image(i) for i in batch]
        cams = [reader.read(i) for i in batch]
        for image_id, labels in zip(batch, walk_batch(model, images, cams, dataset.num_classes, params, device)):
            io.write_label_png(io.label_map_path(out_dir, image_id), labels)
            next(bar, None)
    next(bar, None)  # closes the bar
    return len(ids)
