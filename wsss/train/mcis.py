"""Train the MCIS co-attention classifier on pairs of images that share a class."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from wsss.config import TrainMcisParams
from wsss.data.dataset import Dataset
from wsss.data.transforms import color_jitter, to_tensor
from wsss.errors import DataError
from wsss.models import checkpoint
from wsss.models.backbones import build_backbone
from wsss.models.coattention import CoAttentionNet, mcis_losses
from wsss.train.engine import Trainer, seed_everything

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class McisSpec:
    backbone: str
    num_foreground: int
    output_stride: int
    width: int
    class_names: tuple[str, ...]
    head_std: float = 0.0


def build_mcis(spec: McisSpec, weights: str | None = None) -> CoAttentionNet:
    backbone = build_backbone(spec.backbone, weights, spec.output_stride)
    return CoAttentionNet(backbone, spec.num_foreground, spec.width, spec.head_std)


def load_mcis(path: str | Path, device="cpu") -> tuple[CoAttentionNet, McisSpec]:
    state = checkpoint.read_checkpoint(path, "mcis")
    spec = checkpoint.read_spec(path, state, McisSpec)
    model = build_mcis(spec)
    checkpoint.load_weights(path, model, state)
    return model.to(device).eval(), spec


class ClassIndex:
    """Image ids of a split grouped by foreground class, to draw partners that share a class."""

    def __init__(self, dataset: Dataset, ids: list[str]) -> None:
        self.ids = ids
        self.labels = np.stack([dataset.labels(i) for i in ids]) if ids else np.zeros((0, dataset.num_classes - 1))
        self.members = [np.flatnonzero(self.labels[:, c]) for c in range(self.labels.shape[1])]

    def partner(self, index: int, rng: np.random.Generator) -> int:
        """A uniformly random image containing a uniformly chosen class of image ``index`` (maybe itself)."""
        classes = np.flatnonzero(self.labels[index])
        if len(classes) == 0:
            raise DataError(f"image {self.ids[index]!r} has no foreground label; MCIS cannot pair it")
        members = self.members[int(rng.choice(classes))]
        return int(members[rng.integers(len(members))])

    def related(self, cls: int, count: int, rng: np.random.Generator) -> list[int]:
        members = self.members[cls]
        return [int(m) for m in members[rng.integers(len(members), size=count)]]


def square(image: np.ndarray, size: int) -> Image.Image:
    return Image.fromarray(image).resize((size, size), Image.BILINEAR)


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
    seed_everything(params.engine.seed)
    model = build_mcis(spec, params.weights or None)
    items = PairItems(str(index_dir), params, model.backbone.mean, model.backbone.std)

    def loss_fn(net, batch):
        return mcis_losses(net, batch, params.contrastive_from_epoch)

    fingerprint = hashlib.sha256(repr((asdict(params), items.ids)).encode()).hexdigest()
    trainer = Trainer(model, loss_fn, items, len(items.ids), params.engine, work_dir, live_dir, fingerprint=fingerprint)
    log.info("training MCIS/%s on %d images (pairs) for %d steps", spec.backbone, trainer.num_items, trainer.max_steps)
    model = trainer.fit(resume=True)
    if trainer.dist.is_main:
        checkpoint.save_model(out_path, model, "mcis", asdict(spec), {"steps": trainer.max_steps})
    return spec
