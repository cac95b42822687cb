"""Train AffinityNet on labels derived from the low/high-α CRF outputs (psa ``train_aff``)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from wsss import io
from wsss.config import TrainAffParams
from wsss.data.dataset import Dataset
from wsss.data.transforms import color_jitter, normalize, random_crop
from wsss.errors import DataError
from wsss.losses.affinity import affinity_loss
from wsss.models import checkpoint
from wsss.models.affinity import AffinityNet
from wsss.models.backbones import build_backbone
from wsss.refine.affinity_labels import affinity_label_grid
from wsss.refine.pairs import effective_radius, pair_labels
from wsss.train.engine import Trainer, seed_everything

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AffinitySpec:
    backbone: str
    output_stride: int
    radius: int


def build_affinity(spec: AffinitySpec, weights: str | None = None) -> AffinityNet:
    return AffinityNet(build_backbone(spec.backbone, weights, spec.output_stride), spec.radius)


def load_affinity(path: str | Path, device="cpu") -> tuple[AffinityNet, AffinitySpec]:
    state = checkpoint.read_checkpoint(path, "affinity")
    spec = checkpoint.read_spec(path, state, AffinitySpec)
    model = build_affinity(spec)
    checkpoint.load_weights(path, model, state)
    return model.to(device).eval(), spec


class AffinityItems:
    """Image jittered, jointly cropped (zero padding: black image, no scores) and flipped with its
    la/ha CRF probabilities; labels pooled to the feature grid and turned into pair labels."""

    def __init__(self, index_dir: str, la_dir: str, ha_dir: str, params: TrainAffParams, mean, std) -> None:
        self.index_dir, self.la_dir, self.ha_dir, self.params = index_dir, la_dir, ha_dir, params
        self.mean, self.std = mean, std
        self.ids = Dataset(index_dir).ids(params.split)
        self._open = None

    def __call__(self, index: int, rng: np.random.Generator) -> dict:
        if self._open is None:
            self._open = (Dataset(self.index_dir), io.CamShardReader(self.la_dir), io.CamShardReader(self.ha_dir))
        dataset, la_reader, ha_reader = self._open
        image_id = self.ids[index]
        p = self.params
        image = np.asarray(color_jitter(Image.fromarray(dataset.read_image(image_id)), rng, *p.color_jitter))
        la_classes, la = la_reader.read(image_id)
        ha_classes, ha = ha_reader.read(image_id)
        if not np.array_equal(la_classes, ha_classes):
            raise DataError(f"{self.la_dir} and {self.ha_dir} disagree on the classes of {image_id!r}")
        k = la.shape[0]
        stacked = np.concatenate([image.astype(np.float32), la.transpose(1, 2, 0), ha.transpose(1, 2, 0)], axis=2)
        stacked = random_crop(stacked, p.crop, rng)
        if rng.random() < 0.5:
            stacked = stacked[:, ::-1]
        # Normalised after padding, as psa does: the padding is black, not the mean colour.
        crop_image = normalize(stacked[..., :3], self.mean, self.std)
        la_crop = stacked[..., 3 : 3 + k].transpose(2, 0, 1)
        ha_crop = stacked[..., 3 + k :].transpose(2, 0, 1)
        stride = p.output_stride
        grid = affinity_label_grid(la_crop, ha_crop, stride)
        radius = effective_radius(p.radius, *grid.shape)
        bg, fg, neg = pair_labels(grid, radius)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(crop_image.transpose(2, 0, 1))),
            "bg": torch.from_numpy(bg), "fg": torch.from_numpy(fg), "neg": torch.from_numpy(neg), "id": image_id,
        }


def train_affinity(index_dir: str | Path, la_dir: str | Path, ha_dir: str | Path, params: TrainAffParams,
                   out_path: str | Path, work_dir: str | Path, live_dir: str | Path | None = None) -> None:
    if params.crop % params.output_stride:
        raise ValueError(f"crop {params.crop} must be a multiple of the output stride {params.output_stride}")
    spec = AffinitySpec(params.backbone, params.output_stride, params.radius)
    seed_everything(params.engine.seed)  # head initialisation is part of the seeded run
    model = build_affinity(spec, params.weights or None)
    items = AffinityItems(str(index_dir), str(la_dir), str(ha_dir), params, model.backbone.mean, model.backbone.std)

    def loss_fn(net, batch):
        return affinity_loss(net(batch["image"]), batch["bg"], batch["fg"], batch["neg"])

    fingerprint = hashlib.sha256(repr((asdict(params), items.ids)).encode()).hexdigest()
    trainer = Trainer(model, loss_fn, items, len(items.ids), params.engine, work_dir, live_dir, fingerprint=fingerprint)
    log.info("training AffinityNet/%s on %d images for %d steps", spec.backbone, trainer.num_items, trainer.max_steps)
    model = trainer.fit(resume=True)
    if trainer.dist.is_main:
        checkpoint.save_model(out_path, model, "affinity", asdict(spec), {"steps": trainer.max_steps})
