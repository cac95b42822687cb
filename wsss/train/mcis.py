"""Train the MCIS co-attention classifier on pairs of images that share a class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from wsss.data.class_index import ClassIndex
from wsss.data.dataset import Dataset
from wsss.data.transforms import color_jitter, square, to_tensor
from wsss.losses.mcis import McisLoss
from wsss.models.coattention import McisSpec
from wsss.params.mcis import TrainMcisParams
from wsss.train.model_training import train_model


class PairItems:
    """Image a and a partner b (jittered, size×size) plus a's flipped, 0.75× and 2× views (not jittered)."""

    def __init__(self, index_dir: str, params: TrainMcisParams, mean, std) -> None:
        self.index_dir, self.params, self.mean, self.std = index_dir, params, mean, std
        dataset = Dataset(index_dir)
        self.ids = dataset.ids(params.split)
        self.classes = ClassIndex(dataset, self.ids)
        self._dataset: Dataset | None = None

    def __call__(self, index: int, rng: np.random.Generator) -> dict:
        if self._dataset is None:
            self._dataset = Dataset(self.index_dir)
        p, d = self.params, self._dataset
        other = self.classes.partner(index, rng)
        raw_a = d.read_image(self.ids[index])
        raw_b = d.read_image(self.ids[other])
        jitter = tuple(p.color_jitter)
        a = np.asarray(color_jitter(square(raw_a, p.size), rng, *jitter))
        b = np.asarray(color_jitter(square(raw_b, p.size), rng, *jitter))
        plain = np.asarray(square(raw_a, p.size))
        return {
            "image_a": to_tensor(a, self.mean, self.std), "image_b": to_tensor(b, self.mean, self.std),
            "image_flip": to_tensor(np.ascontiguousarray(plain[:, ::-1]), self.mean, self.std),
            "image_small": to_tensor(np.asarray(square(raw_a, round(0.75 * p.size))), self.mean, self.std),
            "image_large": to_tensor(np.asarray(square(raw_a, 2 * p.size)), self.mean, self.std),
            "label_a": torch.from_numpy(self.classes.labels[index].astype(np.float32)),
            "label_b": torch.from_numpy(self.classes.labels[other].astype(np.float32)),
            "id": self.ids[index],
        }


def train_mcis(index_dir: str | Path, params: TrainMcisParams, out_path: str | Path, work_dir: str | Path,
               live_dir: str | Path | None = None) -> McisSpec:
    dataset = Dataset(index_dir)
    spec = McisSpec(params.backbone, dataset.num_classes - 1, params.output_stride, params.width,
                    tuple(dataset.class_names), params.head_std)

    train_model(spec, params, lambda mean, std: PairItems(str(index_dir), params, mean, std), McisLoss(params.contrastive_from_epoch),
                out_path, work_dir, live_dir, what=f"MCIS/{spec.backbone} (pairs)")
    return spec
