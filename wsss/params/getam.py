"""GETAM's params sections: its maps, label completion, dense-energy loss, end-to-end training,
localisation and labels.

Own module, so that only the stages of this method depend on it.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from wsss.config import EngineConfig, OptimConfig, Precision, params_class, ranged


def _getam_optim() -> OptimConfig:
    # GETAM's PolyOptimizer: one group at lr 0.04; weight decay lands in SGD's momentum slot, so the
    # effective optimiser is momentum 5e-4 and no weight decay; poly 0.9 over the whole run.
    return OptimConfig(lr=0.04, momentum=5e-4, weight_decay=0.0, lr_mult=[1.0, 1.0, 1.0, 1.0])


@params_class
class GetamMapParams:
    start_block: int = ranged(6, ">=0")  # maps sum blocks start_block … last (GETAM: 6–11 of 12)
    pamr_dilations: list[int] = ranged([1, 2, 4, 8, 12, 24], ">=1")
    pamr_iterations: int = ranged(10, ">=0")  # 0 = no PAMR
    peak_eps: float = ranged(1e-5, ">0")  # maps / (peak + peak_eps) (GETAM: 1e-5)


@params_class
class CompletionParams:
    gamma: float = ranged(32.0, ">=0")  # background score (1 − max)^γ
    percentile: float = ranged(0.9, "[0,1]")  # completion mines activations above this percentile
    opening: int = ranged(10, ">=0")  # side of the square opening that removes small regions
    saliency_threshold: float = ranged(0.0, ">=0")  # saliency > this is salient (GETAM: PNG > 0)


@params_class
class DenseEnergyParams:
    weight: float = ranged(1e-7, ">=0")  # 0 = off (GETAM: 1e-7, as RRM)
    sigma_rgb: float = ranged(15.0, ">0")
    sigma_xy: float = ranged(100.0, ">0")
    scale: float = ranged(0.5, "(0,1]")  # the loss runs at this fraction of the crop


@params_class
class TrainGetamParams:
    encoder: str = "vit_b_r50"          # vit_b16 | deit_b16 | deit_b16_distilled | vit_b_r50 | lite0_vit_tiny
    weights: str = ""                   # local timm weight file (demo encoder: Lite0 stem, "packaged")
    depth: int = ranged(6, ">=1")  # transformer blocks of lite0_vit_tiny only
    features: int = ranged(256, ">=1")  # DPT decoder width
    split: str = "train"
    resize_long: list[int] = ranged([230, 292], ">=16")
    crop: int = ranged(256, ">=16")
    cls_epochs: int = ranged(10, ">=0")  # phase 1 (classification only); the rest is phase 2
    seg_lr_scale: float = ranged(0.1, ">0")  # phase-2 LR factor
    saliency_loss: Literal["intent", "as_written", "off"] = "intent"   # intent: target 1 − saliency
    dense_energy: DenseEnergyParams = field(default_factory=DenseEnergyParams)
    # Online pseudo labels use localise_getam.maps and getam_labels.completion (one source for both variants).
    engine: EngineConfig = field(default_factory=lambda: EngineConfig(epochs=20, batch_size=4, optim=_getam_optim()))


@params_class
class LocaliseGetamParams:
    split: str = "train"
    maps: GetamMapParams = field(default_factory=GetamMapParams)
    device: str = "auto"
    precision: Precision = "auto"


@params_class
class GetamLabelsParams:
    split: str = "train"
    completion: CompletionParams = field(default_factory=CompletionParams)
    workers: int = 0
