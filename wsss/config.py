"""Typed parameter sections: dataclasses built strictly from plain dicts (unknown keys are errors),
with each numeric field's allowed range declared beside its default (`ranged`) and checked on construction.

Pure data (no torch import), so light stages start fast.

The stages load ``params.yaml`` sections through :func:`from_dict`; the CLI builds the same dataclasses
from its options, so defaults live only here.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Literal

from wsss.errors import ConfigError

T = typing.TypeVar("T")
Precision = Literal["auto", "fp32", "bf16"]
CrfBackend = Literal["pydensecrf", "torch"]   # the same CRF: C++ on CPU | torch on CPU or CUDA
DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


class RangeError(ConfigError):
    """A value outside its field's allowed range; ``key`` names the field (``scales[0]``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key, self.message = key, message


_RULE = re.compile(r"(>=|>|<=|<)(-?[\d.e-]+)|([\[(])(-?[\d.e-]+),(-?[\d.e-]+)([\])])")


def _in_range(value, rule: str) -> bool:
    match = _RULE.fullmatch(rule.replace(" ", ""))
    if match is None:
        raise ValueError(f"bad range rule {rule!r}")
    op, bound, left, low, high, right = match.groups()
    if op:
        bound = float(bound)
        return {">=": value >= bound, ">": value > bound, "<=": value <= bound, "<": value < bound}[op]
    low, high = float(low), float(high)
    return (value >= low if left == "[" else value > low) and (value <= high if right == "]" else value < high)


def ranged(default, rule: str):
    """A dataclass field whose value (each item, for a list) must satisfy ``rule``: ``'>0'``, ``'>=1'``,
    ``'[0,1]'``, ``'(0,1]'`` …; checked whenever the params are built, from params.yaml or from code."""
    _in_range(0, rule)   # a malformed rule fails at import
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"range": rule})
    return field(default=default, metadata={"range": rule})


def check_ranges(params) -> None:
    """Raise RangeError for the first field of ``params`` outside its declared range."""
    for f in dataclasses.fields(params):
        rule = f.metadata.get("range")
        if rule is None:
            continue
        value = getattr(params, f.name)
        items = enumerate(value) if isinstance(value, (list, tuple)) else [(None, value)]
        for i, item in items:
            if not _in_range(item, rule):
                key = f.name if i is None else f"{f.name}[{i}]"
                raise RangeError(key, f"{item!r} is out of range (allowed: {_describe(rule)})")


def _describe(rule: str) -> str:
    op, bound, left, low, high, right = _RULE.fullmatch(rule.replace(" ", "")).groups()
    return f"{op} {bound}" if op else f"{left}{low}, {high}{right}"


def params_class(cls: type[T]) -> type[T]:
    """A frozen dataclass whose ranged fields are checked on construction."""
    cls.__post_init__ = check_ranges
    return dataclass(frozen=True)(cls)


def from_dict(cls: type[T], data: dict | None, where: str = "params") -> T:
    """Build dataclass ``cls`` from ``data``; reject unknown keys and values of the wrong type."""
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; allowed: {sorted(names)}")
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _coerce(hints[f.name], data[f.name], f"{where}.{f.name}")
            if f.name == "device" and not DEVICE_PATTERN.fullmatch(str(values[f.name])):
                raise ConfigError(f"{where}.device: {values[f.name]!r} is not one of auto, cpu, cuda, cuda:N")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: missing key {f.name!r}")
    try:
        return cls(**values)
    except RangeError as error:
        raise ConfigError(f"{where}.{error.key}: {error.message}") from None


def _coerce(hint, value, where: str):
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        options = typing.get_args(hint)
        if value not in options or isinstance(value, bool) != any(isinstance(o, bool) for o in options):
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, options))}")
        return value
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not match {hint}")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(hint)[:1] or (typing.Any,)
        items = [_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict or hint is typing.Any:
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported type {hint}")


@params_class
class DemoConfig:
    """The embedded synthetic dataset's generator settings (wsss.data.demo)."""

    seed: int = 0
    num_train: int = ranged(320, ">=1")
    num_val: int = ranged(120, ">=1")
    min_size: int = ranged(160, ">=32")
    max_size: int = ranged(256, ">=32")
    max_objects: int = ranged(3, ">=1")
    boundary_width: int = ranged(3, ">=0")
    jpeg_quality: int = ranged(95, "[1,100]")
    body_cue: float = ranged(0.3, "[0,1]")  # tint of a body towards its part's colour (0: bodies carry no class cue)


@params_class
class VocSource:
    root: str = ""
    sbd_lists: str = ""
    labels_from: Literal["auto", "xml", "masks"] = "auto"
    saliency_dir: str = ""
    holdout: float = ranged(0.0, "[0,1)")  # without ImageSets/Segmentation/val.txt: this fraction of train becomes val


@params_class
class FolderSource:
    images: str = ""
    labels_csv: str = ""
    classes: str = ""
    masks: str = ""
    saliency: str = ""


@params_class
class PrepareParams:
    source: Literal["demo", "voc", "folder"] = "demo"
    empty_labels: Literal["drop", "error", "keep"] = "drop"
    bad_images: Literal["error", "skip"] = "error"   # undecodable / inconsistent files: refuse, or drop and list
    check_workers: int = ranged(0, ">=0")  # processes decoding every file up front (0 = all cores)
    demo: DemoConfig = field(default_factory=DemoConfig)
    voc: VocSource = field(default_factory=VocSource)
    folder: FolderSource = field(default_factory=FolderSource)


@params_class
class SaliencyParams:
    model: Literal["u2netp", "u2net", "geodesic", "dataset"] = "dataset"   # dataset: the maps the data came with
    weights: str = "packaged"       # U^2-Net ONNX file; packaged = found in the installed package
    size: int = ranged(320, ">=32")  # U^2-Net input side (the released models' training size)
    batch_size: int = ranged(8, ">=1")
    device: str = "auto"
    precision: Precision = "fp32"   # auto = bf16 on CUDA


@params_class
class SalientCamLabelsParams:
    """Saliency-guided pseudo labels from any method's maps (see wsss.refine.saliency_labels)."""
    # the maps: cams/<name> of each (seam | cam); several are min-max normalised and averaged
    cams: list[Literal["seam", "cam"]] = field(default_factory=lambda: ["seam"])
    split: str = "train"
    workers: int = ranged(0, ">=0")
    foreground: float = ranged(0.5, "[0,1]")  # saliency ≥ this: an object, its class from the maps
    background: float = ranged(0.1, "[0,1]")  # saliency ≤ this: background (unless a map is confident)
    confident_map: float = ranged(0.9, ">=0")  # a map ≥ this labels its pixel whatever saliency says (> 1: never)
    min_map: float = ranged(0.05, "[0,1]")  # a salient pixel that no present class's map reaches is ignored


@params_class
class OptimConfig:
    lr: float = ranged(0.01, ">0")
    weight_decay: float = ranged(5e-4, ">=0")
    decay_biases: bool = False      # psa/SEAM: weight decay on weights only; MCIS: on every group
    momentum: float = ranged(5e-4, "[0,1)")
    nesterov: bool = False
    schedule: Literal["poly", "step"] = "poly"          # poly: (1 − t/T)^poly_power per step | step: × step_gamma at step_epochs
    poly_power: float = ranged(0.9, ">=0")
    step_epochs: list[int] = ranged([5, 10], ">=0")
    step_gamma: float = ranged(0.1, ">0")
    # LR multipliers of [pretrained weights, pretrained biases, new weights, new biases].
    lr_mult: list[float] = ranged([1.0, 2.0, 10.0, 20.0], ">=0")


@params_class
class EngineConfig:
    device: str = "auto"            # auto | cpu | cuda | cuda:N
    epochs: int = ranged(8, ">=1")
    batch_size: int = ranged(8, ">=1")  # global batch over all DDP ranks
    seed: int = ranged(0, ">=0")
    num_workers: int = ranged(2, ">=0")
    precision: Precision = "auto"   # auto (bf16 on CUDA, fp32 on CPU) | fp32 | bf16
    channels_last: bool = True      # CUDA only
    compile: bool = False
    checkpoint_every: int = ranged(100, ">=0")  # steps; 0 = only at the end
    log_every: int = ranged(10, ">=1")
    optim: OptimConfig = field(default_factory=OptimConfig)


@params_class
class EvalCamParams:
    split: str = "train"
    workers: int = ranged(0, ">=0")
    last_threshold: float = ranged(0.59, "(0,1)")   # the sweep's last background score (SEAM: 0.59)


@params_class
class CrfParams:
    """Dense-CRF kernel settings (named sets in wsss.refine.crf.CRF_PRESETS)."""

    iterations: int = ranged(10, ">=0")
    gaussian_sxy: float = ranged(3, ">0")
    gaussian_compat: float = ranged(3, ">=0")
    bilateral_sxy: float = ranged(80, ">0")
    bilateral_srgb: float = ranged(13, ">0")
    bilateral_compat: float = ranged(10, ">=0")


@params_class
class EvalLabelsParams:
    split: str = "train"
    workers: int = ranged(0, ">=0")


def _segmentation_optim() -> OptimConfig:
    # SEAM's retrain: SGD lr 1e-3, momentum 0.9, wd 5e-4, poly 0.9, new layers 10× (biases 20×).
    return OptimConfig(lr=1e-3, momentum=0.9)


@params_class
class TrainSegParams:
    arch: Literal["largefov", "aspp"] = "largefov"   # DeepLab-v1 (SEAM) | DeepLab-v2
    labels: str = "labels/rw"               # pseudo labels of train_seg@seam (MCIS/GETAM pass their own)
    classifier_std: float = ranged(0.0, ">=0")  # > 0: LargeFOV's last 1×1 starts normal(0, std) (0: He init)
    backbone: str = "efficientnet_lite0"    # paper: resnet38 (largefov) or resnet101 (aspp)
    weights: str = "packaged"
    output_stride: int = ranged(8, ">=1")
    split: str = "train"                    # images whose pseudo labels train the network
    scale_range: list[float] = ranged([0.5, 2.0], ">0")
    crop: int = ranged(321, ">=16")
    color_jitter: list[float] = ranged([0.3, 0.3, 0.3, 0.1], ">=0")
    # > 0: repeat-factor sampling by the image labels (a class in fewer than this fraction of the images
    # has its images repeated, LVIS); 0: each image once per epoch (SEAM)
    repeat_threshold: float = ranged(0.0, "[0,1]")
    engine: EngineConfig = field(default_factory=lambda: EngineConfig(batch_size=10, optim=_segmentation_optim()))


@params_class
class InferSegParams:
    split: str = "val"
    scales: list[float] = ranged([0.5, 0.75, 1.0, 1.25, 1.5, 1.75], ">0")
    sizes: list[int] = ranged([], ">=16")  # if set: views resized to size × size instead (GETAM)
    flip: bool = True
    average: Literal["probs", "logits"] = "probs"   # softmax per view, then mean | mean, then softmax
    crf: Literal["none", "seam", "irn", "getam", "mcis"] = "none"   # a dense-CRF preset
    crf_workers: int = ranged(0, ">=0")  # CRF processes (0 = all cores)
    crf_backend: CrfBackend = "pydensecrf"   # torch on a CUDA device runs the CRF there, in this process
    device: str = "auto"
    precision: Precision = "auto"         # auto (bf16 on CUDA) | fp32 | bf16
    class_threshold: float = ranged(0.0, "[0,1]")  # > 0: classes the stage's classifier scores below this are not predicted
    max_side: int = ranged(0, ">=0")  # > 0: longer images are segmented shrunk to this side, labels upsampled


@params_class
class McisLabelsParams:
    split: str = "train"
    fg_threshold: float = ranged(0.3, "[0,1]")  # channels below this are zeroed
    att_threshold: float = ranged(0.95, "[0,1]")  # localisation above this counts as salient
    conflict_threshold: float = ranged(0.99, "[0,1]")  # pixels where two channels exceed this are ignored
    bg_saliency: int = ranged(32, "[0,255]")  # background pixels with saliency ≥ this are ignored
    min_foreground: float = ranged(0.01, "[0,1]")  # images with less labelled foreground are ignored entirely
    workers: int = ranged(0, ">=0")


@params_class
class LaunchParams:
    """Processes per training and inference stage: > 1 makes such a stage start itself under torchrun
    (one process per GPU, or gloo processes on a CPU); a run already under torchrun is left as it is."""

    processes: int = ranged(1, ">=1")


def with_shared_engine(section, shared) -> dict:
    """A training section whose ``engine`` keys fall back to the top-level ``engine`` section's."""
    if not isinstance(section, dict) or not isinstance(shared, dict):
        return section
    own = section.get("engine") or {}
    return {**section, "engine": {**shared, **own} if isinstance(own, dict) else own}
