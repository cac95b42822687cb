"""Train an image classifier (CAM baseline or SEAM) on a dataset split with the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from wsss.data.dataset import Dataset
from wsss.data.transforms import classification_augment
from wsss.losses import TrainingLoss
from wsss.losses.seam import CamLoss, SeamLoss
from wsss.models.classifier import ClassifierSpec
from wsss.params.seam import TrainClsParams
from wsss.train.model_training import train_model


class ClassificationItems:
    """Picklable item maker for loader workers: augmented image + multi-hot label."""

    def __init__(self, index_dir: str, split: str, params: TrainClsParams, mean, std) -> None:
        self.index_dir, self.split, self.params, self.mean, self.std = index_dir, split, params, mean, std
        self._dataset: Dataset | None = None
        self.ids = Dataset(index_dir).ids(split)

    def __call__(self, index: int, rng: np.random.Generator) -> dict:
        if self._dataset is None:
            self._dataset = Dataset(self.index_dir)
        image_id = self.ids[index]
        p = self.params
        image = classification_augment(
            self._dataset.read_image(image_id), rng, resize_range=tuple(p.resize_long), crop=p.crop,
            jitter=tuple(p.color_jitter), mean=self.mean, std=self.std,
        )
        return {"image": image, "label": torch.from_numpy(self._dataset.labels(image_id)), "id": image_id}


def loss_function(params: TrainClsParams) -> TrainingLoss:
    if params.method == "seam":
        return SeamLoss(params.seam.scale, params.seam.ohem_ratio)
    if params.method == "cam":
        return CamLoss()
    raise ValueError(f"unknown method {params.method!r}")


def train_classifier(index_dir: str | Path, params: TrainClsParams, out_path: str | Path, work_dir: str | Path,
                     live_dir: str | Path | None = None) -> ClassifierSpec:
    dataset = Dataset(index_dir)
    spec = ClassifierSpec(params.method, params.backbone, dataset.num_classes - 1, params.output_stride,
                          tuple(dataset.class_names))
    train_model(spec, params, lambda mean, std: ClassificationItems(str(index_dir), params.split, params, mean, std),
                loss_function(params), out_path, work_dir, live_dir,
                what=f"{spec.method}/{spec.backbone}", fingerprint_extra=(dataset.class_names,))
    return spec
