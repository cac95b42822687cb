"""GETAM end-to-end training (GETAM §6.4) with the project's engine.

Phase 1 (epochs < ``cls_epochs``) trains the classifier alone. Phase 2 makes pseudo labels online
from the current network's GETAM maps (PAMR-refined, completed with saliency) and adds the
segmentation losses: background and foreground cross-entropy, the saliency loss, the dense-CRF
energy (weight 1e-7) and the classification loss; the LR is multiplied by ``seg_lr_scale``. The poly schedule spans both phases.

Saliency-loss target (BCE on the background probability): ``intent`` = 1 − binary saliency (default:
background where saliency says background); ``as_written`` = the reference code's target, which after
its in-place binarisation is 1 everywhere except at completed pixels (it pushes salient objects
towards background, against the cross-entropy); ``off`` drops the term.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from PIL import Image

from wsss.cams.getam import refined_getam_maps
from wsss.config import CompletionParams, TrainGetamParams
from wsss.data.dataset import Dataset
from wsss.data.palette import IGNORE_INDEX
from wsss.data.transforms import apply_crop, crop_window, normalize, resize_long
from wsss.errors import ConfigError, DataError
from wsss.losses.dense_energy import dense_energy_loss
from wsss.models.getam import GetamSpec, build_getam, save_getam
from wsss.refine.label_completion import complete_labels
from wsss.train.engine import Trainer, seed_everything

log = logging.getLogger(__name__)
SALIENCY_LOSSES = ("intent", "as_written", "off")


class GetamItems:
    """Picklable item maker: GETAM's crop (random long side, flip, normalise, zero-padded crop) of an
    image and its saliency map, plus the multi-hot label."""

    def __init__(self, index_dir: str, params: TrainGetamParams, mean, std) -> None:
        self.index_dir, self.params, self.mean, self.std = index_dir, params, mean, std
        self._dataset: Dataset | None = None
        dataset = Dataset(index_dir)
        if dataset.spec.saliency_dir is None:
            raise DataError(f"{index_dir}: the dataset has no saliency maps (prepare.*.saliency); GETAM needs them")
        self.ids = dataset.ids(params.split)
        for image_id in self.ids[:1] + self.ids[-1:]:  # fail before training, not in a loader worker
            if not dataset.saliency_path(image_id).is_file():
                raise DataError(f"{dataset.saliency_path(image_id)}: saliency map missing")

    def __call__(self, index: int, rng: np.random.Generator) -> dict:
        if self._dataset is None:
            self._dataset = Dataset(self.index_dir)
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


def completed_batch(maps: torch.Tensor, labels: torch.Tensor, saliency: torch.Tensor,
                    params: CompletionParams) -> tuple[torch.Tensor, torch.Tensor]:
    """Label completion per image of a batch → (B×H×W label ids, B×H×W completed mask) on the maps' device."""
    maps_np, labels_np = maps.float().cpu().numpy(), labels.cpu().numpy() > 0
    salient = (saliency > params.saliency_threshold).cpu().numpy()
    out, completed = [], []
    for m, present, s in zip(maps_np, labels_np, salient):
        classes = np.flatnonzero(present)
        label, added = complete_labels(m[classes], classes, s, params.gamma, params.percentile, params.opening)
        out.append(label)
        completed.append(added)
    device = maps.device
    return (torch.from_numpy(np.stack(out).astype(np.int64)).to(device),
            torch.from_numpy(np.stack(completed)).to(device))


def split_cross_entropy(logits: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """GETAM's CE(background pixels) and CE(foreground pixels), each a mean over its labelled pixels
    (zero, not NaN, when a batch has none)."""
    def mean_ce(target: torch.Tensor) -> torch.Tensor:
        total = F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX, reduction="sum")
        return total / (target != IGNORE_INDEX).sum().clamp_min(1)

    background = torch.where(label == 0, label, torch.full_like(label, IGNORE_INDEX))
    foreground = torch.where((label > 0) & (label != IGNORE_INDEX), label, torch.full_like(label, IGNORE_INDEX))
    return mean_ce(background), mean_ce(foreground)


def saliency_target(salient: torch.Tensor, completed: torch.Tensor, mode: str) -> torch.Tensor:
    """Background-probability target of the saliency loss (see the module docstring)."""
    if mode == "intent":
        return (~salient).float()
    if mode == "as_written":
        return (~completed).float()
    raise ConfigError(f"saliency_loss {mode!r} is not one of {SALIENCY_LOSSES}")


class GetamLoss:
    def __init__(self, params: TrainGetamParams, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)) -> None:
        """``mean``/``std``: the encoder's normalisation, undone for the dense energy's colour kernel."""
        if params.saliency_loss not in SALIENCY_LOSSES:
            raise ConfigError(f"saliency_loss {params.saliency_loss!r} is not one of {SALIENCY_LOSSES}")
        self.params = params
        self.mean = torch.tensor(mean, dtype=torch.float32)[:, None, None]
        self.std = torch.tensor(std, dtype=torch.float32)[:, None, None]

    def __call__(self, model, batch: dict) -> dict:
        images, labels = batch["image"], batch["label"]
        if batch["epoch"] < self.params.cls_epochs:
            return self.classification_phase(model, images, labels)
        net = getattr(model, "module", model)  # maps bypass DDP: they never touch parameter gradients
        m = self.params.maps
        maps = refined_getam_maps(net, images, labels, m.start_block, m.pamr_dilations, m.pamr_iterations, m.peak_eps)
        pseudo, completed = completed_batch(maps, labels, batch["saliency"], self.params.completion)
        scores, seg = model(images, output="both")
        seg = seg.float()
        if seg.shape[-2:] != pseudo.shape[-2:]:
            seg = F.interpolate(seg, pseudo.shape[-2:], mode="bilinear", align_corners=False)
        # The losses run in fp32 outside autocast: CUDA autocast refuses binary_cross_entropy, and the
        # dense energy's kernel distances need fp32.
        with torch.autocast(seg.device.type, enabled=False):
            ce_bg, ce_fg = split_cross_entropy(seg, pseudo)
            cls = F.multilabel_soft_margin_loss(scores.float(), labels)
            losses = {"cls": cls, "ce_bg": ce_bg, "ce_fg": ce_fg}
            if self.params.saliency_loss != "off":
                salient = batch["saliency"] > self.params.completion.saliency_threshold
                target = saliency_target(salient, completed, self.params.saliency_loss)
                losses["saliency"] = F.binary_cross_entropy(seg.softmax(1)[:, 0].clamp(1e-6, 1 - 1e-6), target)
            energy = self.params.dense_energy
            if energy.weight > 0:
                rgb = (images.float() * self.std.to(images.device) + self.mean.to(images.device)) * 255.0
                losses["dense_energy"] = energy.weight * dense_energy_loss(
                    rgb, seg.softmax(1), pseudo, batch["crop"], energy.sigma_rgb, energy.sigma_xy, energy.scale)
        losses["loss"] = sum(losses.values())
        return losses

    @staticmethod
    def classification_phase(model, images: torch.Tensor, labels: torch.Tensor) -> dict:
        if dist.is_available() and dist.is_initialized():
            # DDP's static graph needs every parameter used in every step: the decoder joins at weight 0.
            scores, seg = model(images, output="both")
            unused = 0.0 * seg.float().mean()
        else:
            scores, unused = model(images, output="cls"), 0.0
        cls = F.multilabel_soft_margin_loss(scores.float(), labels)
        return {"loss": cls + unused, "cls": cls}


class GetamTrainer(Trainer):
    """The engine with GETAM's phase-2 LR factor on top of the poly schedule."""

    def __init__(self, *args, cls_epochs: int, seg_lr_scale: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cls_epochs, self.seg_lr_scale = cls_epochs, seg_lr_scale
        self._base_lr = [group["initial_lr"] for group in self.optimizer.param_groups]

    def _train_step(self, batch: dict) -> dict[str, torch.Tensor]:
        factor = self.seg_lr_scale if batch["epoch"] >= self.cls_epochs else 1.0
        for group, base in zip(self.optimizer.param_groups, self._base_lr):
            group["initial_lr"] = base * factor  # the schedule reads it before this step's update
        return super()._train_step(batch)


def make_getam_trainer(index_dir: str | Path, params: TrainGetamParams, work_dir: str | Path,
                       live_dir: str | Path | None = None) -> tuple[GetamTrainer, GetamSpec]:
    dataset = Dataset(index_dir)
    spec = GetamSpec(params.encoder, tuple(dataset.class_names), params.features, params.depth)
    seed_everything(params.engine.seed)  # decoder and transformer initialisation are part of the seeded run
    model = build_getam(spec, params.weights or None)
    items = GetamItems(str(index_dir), params, model.encoder.mean, model.encoder.std)
    fingerprint = hashlib.sha256(repr((asdict(params), items.ids, dataset.class_names)).encode()).hexdigest()
    trainer = GetamTrainer(model, GetamLoss(params, model.encoder.mean, model.encoder.std), items, len(items.ids), params.engine, work_dir, live_dir,
                           fingerprint=fingerprint, cls_epochs=params.cls_epochs, seg_lr_scale=params.seg_lr_scale)
    return trainer, spec


def train_getam(index_dir: str | Path, params: TrainGetamParams, out_path: str | Path, work_dir: str | Path,
                live_dir: str | Path | None = None) -> GetamSpec:
    trainer, spec = make_getam_trainer(index_dir, params, work_dir, live_dir)
    log.info("training GETAM (%s) on %d images for %d steps, classification only for %d epochs (device %s)",
             spec.encoder, trainer.num_items, trainer.max_steps, params.cls_epochs, trainer.device)
    model = trainer.fit(resume=True)
    if trainer.dist.is_main:
        save_getam(out_path, model, spec, {"steps": trainer.max_steps})
    return spec
