"""Retrain a DeepLab network on pseudo-label maps (SEAM step 3), with the project's engine."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch

from wsss import io
from wsss.config import TrainSegParams
from wsss.data.dataset import Dataset
from wsss.data.transforms import segmentation_augment
from wsss.errors import DataError
from wsss.losses.segmentation import segmentation_loss
from wsss.models.deeplab import SegmenterSpec
from wsss.train.data import repeat_factor_ids
from wsss.train.model_training import train_model

log = logging.getLogger(__name__)


class SegmentationItems:
    """Picklable item maker: an augmented image and its pseudo-label map (255 = ignore)."""

    def __init__(self, index_dir: str, label_dir: str, params: TrainSegParams, mean, std) -> None:
        self.index_dir, self.label_dir, self.params, self.mean, self.std = index_dir, label_dir, params, mean, std
        self._dataset: Dataset | None = None
        dataset = Dataset(index_dir)
        self.num_classes = dataset.num_classes
        self.ids = dataset.ids(params.split)
        if params.repeat_threshold > 0:
            present = np.array([dataset.labels(i) > 0 for i in self.ids]).reshape(len(self.ids), -1)
            self.ids = repeat_factor_ids(self.ids, present, params.repeat_threshold)
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


def train_segmenter(index_dir: str | Path, label_dir: str | Path, params: TrainSegParams, out_path: str | Path,
                    work_dir: str | Path, live_dir: str | Path | None = None) -> SegmenterSpec:
    dataset = Dataset(index_dir)
    spec = SegmenterSpec(params.arch, params.backbone, tuple(dataset.class_names), params.output_stride)

    def start_classifier(model) -> None:
        if params.classifier_std > 0 and hasattr(model, "classifier"):
            # He-initialised, the last layer's logits start near ±5 on 512 ReLU features: the loss starts
            # around 9 nats and the first steps undo the pretrained features (seen on real photos).
            torch.nn.init.normal_(model.classifier.weight, std=params.classifier_std)
            torch.nn.init.zeros_(model.classifier.bias)

    trainer = train_model(spec, params, lambda mean, std: SegmentationItems(str(index_dir), str(label_dir), params, mean, std),
                          segmentation_loss, out_path, work_dir, live_dir,
                          what=f"{spec.arch}/{spec.backbone} on pseudo labels", fingerprint_extra=(str(label_dir),),
                          prepare_model=start_classifier, extra={"labels": str(label_dir)})
    final, uniform = trainer.final_loss(), math.log(spec.num_classes)
    if final is not None and final >= uniform:
        log.warning("the segmenter did not learn: its final loss %.3f is no better than a uniform guess over %d "
                    "classes (ln %d = %.3f); check the labels, the learning rate and the budget",
                    final, spec.num_classes, spec.num_classes, uniform)
    return spec
