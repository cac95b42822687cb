"""GETAM end-to-end training (GETAM §6.4) with the project's engine.

GETAM's crops (image, saliency, padding mask) and the training run; the two phases and their losses
are :class:`wsss.losses.getam.GetamLoss`. The poly schedule spans both phases.
"""

from __future__ import annotations

import functools
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from wsss.data.dataset import Dataset
from wsss.data.transforms import apply_crop, crop_window, normalize, resize_long
from wsss.errors import DataError
from wsss.losses.getam import GetamLoss, lr_scale
from wsss.models.getam import GetamSpec
from wsss.params.getam import CompletionParams, GetamMapParams, TrainGetamParams
from wsss.train.model_training import train_model


class GetamItems:
    """Picklable item maker: GETAM's crop (random long side, flip, normalise, zero-padded crop) of an
    image and its saliency map, plus the multi-hot label."""

    def __init__(self, index_dir: str, params: TrainGetamParams, mean, std, saliency_dir: str | None = None) -> None:
        self.index_dir, self.params, self.mean, self.std = index_dir, params, mean, std
        self.saliency_dir = saliency_dir
        self._dataset: Dataset | None = None
        dataset = Dataset(index_dir, saliency_dir)
        if not dataset.has_saliency:
            raise DataError(f"{index_dir}: the dataset has no saliency maps (prepare.*.saliency); GETAM needs them")
        self.ids = dataset.ids(params.split)
        for image_id in self.ids[:1] + self.ids[-1:]:  # fail before training, not in a loader worker
            if not dataset.saliency_path(image_id).is_file():
                raise DataError(f"{dataset.saliency_path(image_id)}: saliency map missing")

    def __call__(self, index: int, rng: np.random.Generator) -> dict:
        if self._dataset is None:
            self._dataset = Dataset(self.index_dir, self.saliency_dir)
        image_id = self.ids[index]
        image = self._dataset.read_image(image_id)
        saliency = self._dataset.read_saliency(image_id, image.shape[:2])
        p = self.params
        long_side = int(rng.integers(p.resize_long[0], p.resize_long[1] + 1))
        pil = resize_long(Image.fromarray(image), long_side, Image.BILINEAR)
        sal = Image.fromarray(saliency).resize(pil.size, Image.NEAREST)
        if rng.random() < 0.5:
            pil, sal = pil.transpose(Image.FLIP_LEFT_RIGHT), sal.transpose(Image.FLIP_LEFT_RIGHT)
        x = normalize(np.asarray(pil), self.mean, self.std)
        window = crop_window(x.shape[0], x.shape[1], p.crop, rng)
        crop = apply_crop(np.ones(x.shape[:2], np.float32), p.crop, window, 0.0)  # 1 = image, 0 = padding
        x = apply_crop(x, p.crop, window, 0.0)
        s = apply_crop(np.asarray(sal, np.float32), p.crop, window, 0.0)
        return {"image": torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))),
                "saliency": torch.from_numpy(s), "crop": torch.from_numpy(crop),
                "label": torch.from_numpy(self._dataset.labels(image_id)), "id": image_id}


def train_getam(index_dir: str | Path, params: TrainGetamParams, maps: GetamMapParams, completion: CompletionParams,
                out_path: str | Path, work_dir: str | Path, live_dir: str | Path | None = None,
                saliency_dir: str | Path | None = None) -> GetamSpec:
    """``maps`` and ``completion``: the online pseudo labels' settings (the stage passes those of
    ``localise_getam`` and ``getam_labels``, so training and the multi-stage variant make the same labels)."""
    dataset = Dataset(index_dir)
    spec = GetamSpec(params.encoder, tuple(dataset.class_names), params.features, params.depth)

    train_model(spec, params, lambda mean, std: GetamItems(str(index_dir), params, mean, std,
                                                          str(saliency_dir) if saliency_dir else None),
                GetamLoss(params, maps, completion), out_path,
                work_dir, live_dir, what=f"GETAM ({spec.encoder}), classification only for {params.cls_epochs} epochs",
                fingerprint_extra=(dataset.class_names, asdict(maps), asdict(completion)),
                lr_scale=functools.partial(lr_scale, params=params))
    return spec
