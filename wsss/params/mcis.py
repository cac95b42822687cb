"""MCIS's params sections: the co-attention classifier's training and its localisation maps.

Own module, so that only the stages of this method depend on it.
"""

from __future__ import annotations

from dataclasses import field

from wsss.config import EngineConfig, OptimConfig, Precision, params_class, ranged


def _mcis_optim() -> OptimConfig:
    # MCIS: SGD nesterov, momentum 0.9, wd 5e-4 on every group, lr 1e-3, ×0.1 at epochs 5 and 10.
    return OptimConfig(lr=1e-3, momentum=0.9, nesterov=True, decay_biases=True, schedule="step",
                       step_epochs=[5, 10], step_gamma=0.1)


@params_class
class TrainMcisParams:
    backbone: str = "efficientnet_lite0"    # paper: vgg16 (weights: a local torchvision vgg16 .pth)
    weights: str = "packaged"
    output_stride: int = ranged(16, ">=1")  # vgg16: 8
    split: str = "train"
    size: int = ranged(256, ">=16")  # images are resized to size × size (aspect ignored, as MCIS)
    color_jitter: list[float] = ranged([0.3, 0.3, 0.3, 0.1], ">=0")
    width: int = ranged(512, ">=1")  # channels of the three extra convs
    head_std: float = ranged(0.0, ">=0")  # 0: MCIS's He init of the 1×1 heads; > 0: normal(0, head_std)
    contrastive_from_epoch: int = ranged(2, ">=0")  # 0-based epoch where the exclusive-label loss starts
    engine: EngineConfig = field(default_factory=lambda: EngineConfig(epochs=15, batch_size=5, optim=_mcis_optim()))


@params_class
class LocaliseMcisParams:
    split: str = "train"            # images are resized to train_mcis.size, the size the network learnt
    related: int = ranged(3, ">=1")  # related images drawn per present class (with replacement)
    gate: float = ranged(0.1, "[0,1]")  # a map joins the average only if sigmoid(its mean) > gate
    seed: int = ranged(0, ">=0")
    device: str = "auto"
    precision: Precision = "auto"
