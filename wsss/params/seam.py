"""SEAM's params sections (and the CAM baseline's, which trains the same classifier): classifier
training, CAM inference, the dCRF stage, AffinityNet and its random walk.

Own module, so that only the stages of this method depend on it.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from wsss.config import (
    CrfBackend,
    CrfParams,
    EngineConfig,
    Precision,
    params_class,
    ranged,
)


@params_class
class SeamLossParams:
    scale: float = ranged(0.3, "(0,1)")  # the equivariant transform: downscale by this factor
    ohem_ratio: float = ranged(0.2, "(0,1]")  # ECR keeps the top 20 % of C·h·w errors per image


@params_class
class TrainClsParams:
    method: Literal["seam", "cam"] = "seam"
    backbone: str = "efficientnet_lite0"    # any registered backbone
    weights: str = "packaged"               # pretrained backbone file ("packaged" = the embedded Lite0)
    output_stride: int = ranged(16, ">=1")
    split: str = "train"
    resize_long: list[int] = ranged([160, 256], ">=16")
    crop: int = ranged(160, ">=16")
    color_jitter: list[float] = ranged([0.3, 0.3, 0.3, 0.1], ">=0")
    seam: SeamLossParams = field(default_factory=SeamLossParams)
    engine: EngineConfig = field(default_factory=EngineConfig)


@params_class
class InferCamParams:
    split: str = "train"
    scales: list[float] = ranged([0.5, 1.0, 1.5, 2.0], ">0")
    flip: bool = True
    normalisation: Literal["auto", "minmax", "max"] = "auto"   # auto: seam min-max, cam max
    maps: Literal["native", "gradcam", "gradcampp"] = "native"   # native: CAM / SEAM PCM
    device: str = "auto"
    precision: Precision = "auto"         # auto (bf16 on CUDA) | fp32 | bf16
    batch_images: int = ranged(0, ">=0")  # images of one size per batch; 0 = 4 on CUDA, 1 on CPU


@params_class
class CrfStageParams:
    split: str = "train"
    low_alpha: float = 4.0          # la: confident foreground (SEAM 4); <= 0: auto (crf_alpha.bracketing_alphas)
    high_alpha: float = 24.0        # ha: confident background (SEAM 24, psa 32); <= 0: auto
    cam_background: float = -1.0    # bg score of the "CAM + dCRF" labels; < 0: the best threshold of eval_cam
    crf: CrfParams = field(default_factory=CrfParams)
    backend: CrfBackend = "pydensecrf"
    device: str = "auto"            # the torch backend's device (CUDA: one process, images in turn)
    workers: int = ranged(0, ">=0")


@params_class
class TrainAffParams:
    labels: str = "crf"             # crf: the la/ha CRF folders (SEAM) | a pseudo-label folder (labels/sal)
    backbone: str = "efficientnet_lite0"
    weights: str = "packaged"
    output_stride: int = ranged(8, ">=1")
    split: str = "train"
    crop: int = ranged(160, ">=16")
    color_jitter: list[float] = ranged([0.3, 0.3, 0.3, 0.1], ">=0")
    radius: int = ranged(5, ">=1")
    engine: EngineConfig = field(default_factory=EngineConfig)


@params_class
class RandomWalkParams:
    split: str = "train"
    alpha: float = 6.0              # background (1 − max)^α of the start scores (SEAM 6, psa 16); <= 0: auto
    beta: float = ranged(8.0, ">0")  # A^β
    logt: int = ranged(6, "[0,16]")  # t = 2^logt steps (SEAM 6, psa 8)
    batch: int = ranged(8, ">=1")  # images walked together (block-diagonal)
    device: str = "auto"
