"""Retrain a DeepLab network on pseudo-label maps (SEAM step 3), with the project's engine."""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from wsss import io
from wsss.config import TrainSegParams
from wsss.data.dataset import Dataset
from wsss.data.palette import IGNORE_INDEX
from wsss.data.transforms import segmentation_augment
from wsss.errors import DataError
from wsss.models.deeplab import SegmenterSpec, build_segmenter, save_segmenter
from wsss.train.engine import Trainer, seed_everything

log = logging.getLogger(__name__)


class SegmentationItems:
    """Picklable item maker: an augmented image and its pseudo-label map (255 = ignore)."""

    def __init__(self, index_dir: str, label_dir: str, params: TrainSegParams, mean, std) -> None:
        self.index_dir, self.label_dir, self.params, self.mean, self.std = index_dir, label_dir, params, mean, std
        self._dataset: Dataset | None = None
        dataset = Dataset(index_dir)
        self.num_classes = dataset.num_classes
        self.ids = dataset.ids(params.split)
        for image_id in self.ids[:1] + self.ids[-1:]:  # fail before training, not in a loader worker
            io.find_label_map(label_dir, image_id)

    def __call__(self, index: int, rng: np.random.Generator) -> dict:
        if self._dataset is None:
            self._dataset = Dataset(self.index_dir)
        image_id = self.ids[index]
        image = self._dataset.read_image(image_id)
        label = io.read_label_png(io.find_label_map(self.label_dir, image_id), self.num_classes)
        if label.shape != image.shape[:2]:
            raise DataError(f"{io.find_label_map(self.label_dir, image_id)}: size {label.shape} differs from "
                            f"its image {image.shape[:2]}")
        p = self.params
        x, y = segmentation_augment(image, label, rng, scale_range=tuple(p.scale_range), crop=p.crop,
                                    jitter=tuple(p.color_jitter), mean=self.mean, std=self.std)
        return {"image": x, "label": y, "id": image_id}


def segmentation_loss(model, batch: dict) -> dict:
    """Pixel cross-entropy of the upsampled logits averaged over labelled pixels; ignored pixels (255)
    do not count, and a batch whose crops are all ignored contributes zero instead of NaN (saliency
    labels ignore whole images)."""
    logits = model(batch["image"])
    logits = F.interpolate(logits.float(), batch["label"].shape[-2:], mode="bilinear", align_corners=False)
    total = F.cross_entropy(logits, batch["label"], ignore_index=IGNORE_INDEX, reduction="sum")
    labelled = (batch["label"] != IGNORE_INDEX).sum().clamp_min(1)
    return {"loss": total / labelled}


def train_segmenter(index_dir: str | Path, label_dir: str | Path, params: TrainSegParams, out_path: str | Path,
                    work_dir: str | Path, live_dir: str | Path | None = None) -> SegmenterSpec:
    dataset = Dataset(index_dir)
    spec = SegmenterSpec(params.arch, params.backbone, tuple(dataset.class_names), params.output_stride)
    seed_everything(params.engine.seed)  # head initialisation is part of the seeded run
    model = build_segmenter(spec, params.weights or None)
    if params.classifier_std > 0 and hasattr(model, "classifier"):
        # He-initialised, the last layer's logits start near ±5 on 512 ReLU features: the loss starts
        # around 9 nats and the first steps undo the pretrained features (seen on real photos).
        torch.nn.init.normal_(model.classifier.weight, std=params.classifier_std)
        torch.nn.init.zeros_(model.classifier.bias)
    items = SegmentationItems(str(index_dir), str(label_dir), params, model.backbone.mean, model.backbone.std)
    fingerprint = hashlib.sha256(repr((asdict(params), items.ids, str(label_dir))).encode()).hexdigest()
    trainer = Trainer(model, segmentation_loss, items, len(items.ids), params.engine, work_dir, live_dir,
                      fingerprint=fingerprint)
    log.info("training %s/%s on %d pseudo-labelled images for %d steps (device %s)", spec.arch, spec.backbone,
             trainer.num_items, trainer.max_steps, trainer.device)
    model = trainer.fit(resume=True)
    final, uniform = trainer.final_loss(), math.log(spec.num_classes)
    if final is not None and final >= uniform:
        log.warning("the segmenter did not learn: its final loss %.3f is no better than a uniform guess over %d "
                    "classes (ln %d = %.3f); check the labels, the learning rate and the budget",
                    final, spec.num_classes, spec.num_classes, uniform)
    if trainer.dist.is_main:
        save_segmenter(out_path, model, spec, {"steps": trainer.max_steps, "labels": str(label_dir)})
    return spec
