"""What every inference loop opens before it runs: the device, the model of a kind it reads, the
dataset checked against the model's classes, this rank's share of the split, and the output writer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from wsss import io
from wsss.data.dataset import Dataset
from wsss.devices import inference_dtype, rank_share, resolve_device
from wsss.errors import DataError
from wsss.models.registry import ModelKind
from wsss.models.zoo import load_model


def check_class_names(trained: Sequence[str], dataset_names: Sequence[str], checkpoint: str | Path) -> None:
    if list(trained) != list(dataset_names):
        raise DataError(f"{checkpoint}: trained for classes {list(trained)}, dataset has {list(dataset_names)}")


@dataclass
class SplitShare:
    """A dataset split as this process sees it: its ids in shard order and the split's shard count."""

    dataset: Dataset
    ids: list[str]
    num_shards: int

    def cam_writer(self, out_dir: str | Path) -> io.CamShardWriter:
        return io.CamShardWriter(out_dir, self.num_shards)


def split_share(index_dir: str | Path, split: str, class_names: Sequence[str] | None = None,
                checkpoint: str | Path = "") -> SplitShare:
    """This rank's share of ``split``; with ``class_names`` (a model's), a dataset with other classes
    is refused naming ``checkpoint``."""
    dataset = Dataset(index_dir)
    if class_names is not None:
        check_class_names(class_names, dataset.class_names, checkpoint)
    ids, num_shards = rank_share(dataset.ids(split))
    return SplitShare(dataset, ids, num_shards)


@dataclass
class LoadedModel:
    model: nn.Module
    spec: object
    device: torch.device
    dtype: torch.dtype | None           # autocast dtype, None = fp32


def load_for_inference(checkpoint: str | Path, kinds: Sequence[ModelKind], device: str,
                       precision: str = "fp32") -> LoadedModel:
    """The model file's network (of one of ``kinds``) on the named device, with the autocast dtype of
    ``precision``."""
    resolved = resolve_device(device)
    model, spec = load_model(checkpoint, kinds, resolved)
    return LoadedModel(model, spec, resolved, inference_dtype(precision, resolved))


def open_inference(index_dir: str | Path, checkpoint: str | Path, kinds: Sequence[ModelKind], split: str, device: str,
                   precision: str = "fp32") -> tuple[LoadedModel, SplitShare]:
    """The loaded model and this rank's share of the split (checked against the model's classes when its
    spec names them)."""
    loaded = load_for_inference(checkpoint, kinds, device, precision)
    class_names = getattr(loaded.spec, "class_names", None)
    return loaded, split_share(index_dir, split, class_names, checkpoint)
