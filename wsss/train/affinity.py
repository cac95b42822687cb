"""Train AffinityNet on labels derived from the low/high-α CRF outputs (psa ``train_aff``), or from a
pseudo-label map folder (e.g. the saliency-guided labels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from wsss import io
from wsss.data.dataset import Dataset
from wsss.data.transforms import color_jitter, normalize, random_crop
from wsss.errors import DataError
from wsss.losses.affinity import AffinityLoss
from wsss.models.affinity import AffinitySpec
from wsss.ops.pairs import effective_radius, pair_labels
from wsss.params.seam import TrainAffParams
from wsss.refine.affinity_labels import IGNORE, affinity_label_grid, label_map_grid
from wsss.train.model_training import train_model


class AffinityItems:
    """Image jittered, jointly cropped (zero padding: black image, no scores) and flipped with its
    la/ha CRF probabilities, or with its pseudo-label map (``label_dir``); labels pooled to the feature
    grid and turned into pair labels."""

    def __init__(self, index_dir: str, la_dir: str, ha_dir: str, params: TrainAffParams, mean, std,
                 label_dir: str | None = None) -> None:
        self.index_dir, self.la_dir, self.ha_dir, self.params = index_dir, la_dir, ha_dir, params
        self.label_dir = label_dir
        self.mean, self.std = mean, std
        self.ids = Dataset(index_dir).ids(params.split)
        self._open = None

    def _targets(self, image_id: str, shape: tuple[int, int]) -> np.ndarray:
        """H×W×C float channels cropped with the image: la then ha probabilities, or the label + 1
        (so the crop's zero padding reads as label −1, i.e. ignored)."""
        dataset, la_reader, ha_reader = self._open
        if self.label_dir is not None:
            path = io.find_label_map(self.label_dir, image_id)
            label = io.read_label_png(path, dataset.num_classes)
            if label.shape != shape:
                raise DataError(f"{path}: size {label.shape} differs from its image's {shape}")
            return label[..., None].astype(np.float32) + 1
        la_classes, la = la_reader.read(image_id)
        ha_classes, ha = ha_reader.read(image_id)
        if not np.array_equal(la_classes, ha_classes):
            raise DataError(f"{self.la_dir} and {self.ha_dir} disagree on the classes of {image_id!r}")
        return np.concatenate([la.transpose(1, 2, 0), ha.transpose(1, 2, 0)], axis=2)

    def _grid(self, targets: np.ndarray) -> np.ndarray:
        stride = self.params.output_stride
        if self.label_dir is not None:
            label = targets[..., 0] - 1
            return label_map_grid(np.where(label < 0, IGNORE, label).astype(np.uint8), stride)
        k = targets.shape[2] // 2
        return affinity_label_grid(targets[..., :k].transpose(2, 0, 1), targets[..., k:].transpose(2, 0, 1), stride)

    def __call__(self, index: int, rng: np.random.Generator) -> dict:
        if self._open is None:
            readers = (None, None) if self.label_dir is not None else (io.CamShardReader(self.la_dir), io.CamShardReader(self.ha_dir))
            self._open = (Dataset(self.index_dir), *readers)
        dataset = self._open[0]
        image_id = self.ids[index]
        p = self.params
        image = np.asarray(color_jitter(Image.fromarray(dataset.read_image(image_id)), rng, *p.color_jitter))
        targets = self._targets(image_id, image.shape[:2])
        stacked = np.concatenate([image.astype(np.float32), targets], axis=2)
        stacked = random_crop(stacked, p.crop, rng)
        if rng.random() < 0.5:
            stacked = stacked[:, ::-1]
        # Normalised after padding, as psa does: the padding is black, not the mean colour.
        crop_image = normalize(stacked[..., :3], self.mean, self.std)
        grid = self._grid(stacked[..., 3:])
        radius = effective_radius(p.radius, *grid.shape)
        bg, fg, neg = pair_labels(grid, radius)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(crop_image.transpose(2, 0, 1))),
            "bg": torch.from_numpy(bg), "fg": torch.from_numpy(fg), "neg": torch.from_numpy(neg), "id": image_id,
        }


def check_crf_outputs(index_dir: str | Path, folders, split: str) -> None:
    """Before training: each CRF folder holds probabilities for every training image (otherwise the
    first batch would fail inside a loader worker)."""
    ids = Dataset(index_dir).ids(split)
    for folder in folders:
        absent = io.CamShardReader(folder).missing(ids)
        if absent:
            raise DataError(f"{folder}: no CRF probabilities for {len(absent)} of the {len(ids)} {split} images "
                            f"(first: {absent[0]!r}); rerun the crf stage")


def check_label_maps(index_dir: str | Path, label_dir: str | Path, split: str) -> None:
    """Before training: the pseudo-label folder holds a map for every training image."""
    ids = Dataset(index_dir).ids(split)
    if not Path(label_dir).is_dir():
        raise DataError(f"{label_dir}: label-map folder not found (train_aff.labels)")
    for image_id in ids:
        io.find_label_map(label_dir, image_id)


def train_affinity(index_dir: str | Path, la_dir: str | Path, ha_dir: str | Path, params: TrainAffParams,
                   out_path: str | Path, work_dir: str | Path, live_dir: str | Path | None = None,
                   label_dir: str | Path | None = None) -> AffinitySpec:
    """Train AffinityNet; its confident pairs come from the la/ha CRF folders, or from the pseudo-label
    maps in ``label_dir`` when given (cells of one label; borders and ignored pixels are unknown)."""
    if params.crop % params.output_stride:
        raise ValueError(f"crop {params.crop} must be a multiple of the output stride {params.output_stride}")
    if label_dir is None:
        check_crf_outputs(index_dir, (la_dir, ha_dir), params.split)
    else:
        check_label_maps(index_dir, label_dir, params.split)
    spec = AffinitySpec(params.backbone, params.output_stride, params.radius)

    def items(mean, std):
        return AffinityItems(str(index_dir), str(la_dir), str(ha_dir), params, mean, std,
                             None if label_dir is None else str(label_dir))

    train_model(spec, params, items, AffinityLoss(), out_path, work_dir, live_dir,
                what=f"AffinityNet/{spec.backbone}")
    return spec
