"""Build, save and load the image classifiers (``cam`` baseline, ``seam``) with their metadata."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from wsss import io
from wsss.errors import CheckpointError
from wsss.models.backbones import build_backbone
from wsss.models.cam import CamNet
from wsss.models.registry import CLASSIFIERS
from wsss.models.seam import SeamNet

MODEL_FORMAT = "wsss-model-v1"

CLASSIFIERS.register("cam")(CamNet)
CLASSIFIERS.register("seam")(SeamNet)


@dataclass(frozen=True)
class ClassifierSpec:
    """Everything needed to rebuild a classifier's architecture (stored in its checkpoint)."""

    method: str
    backbone: str
    num_foreground: int
    output_stride: int = 8
    class_names: tuple[str, ...] = ()


def build_classifier(spec: ClassifierSpec, weights: str | None = None) -> nn.Module:
    """A classifier with an (optionally pretrained) backbone and fresh heads."""
    backbone = build_backbone(spec.backbone, weights, spec.output_stride)
    return CLASSIFIERS.get(spec.method)(backbone, spec.num_foreground)


def save_model(path: str | Path, model: nn.Module, spec: ClassifierSpec, extra: dict | None = None) -> None:
    state = {"format": MODEL_FORMAT, "kind": "classifier", "spec": asdict(spec), "extra": extra or {},
             "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    with io.atomic_path(path) as tmp:
        torch.save(state, tmp)


def read_checkpoint(path: str | Path, kind: str) -> dict:
    """A wsss checkpoint of the given kind; anything else raises CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # noqa: BLE001 - torch raises many types for corrupt files
        raise CheckpointError(f"{path}: cannot read checkpoint ({error})") from error
    if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
        raise CheckpointError(f"{path}: not a wsss model checkpoint (use the import commands for original weights)")
    if state.get("kind") != kind:
        raise CheckpointError(f"{path}: holds a {state.get('kind')!r} model, expected {kind!r}")
    return state


def load_classifier(path: str | Path, device: torch.device | str = "cpu") -> tuple[nn.Module, ClassifierSpec]:
    state = read_checkpoint(path, "classifier")
    spec = ClassifierSpec(**{**state["spec"], "class_names": tuple(state["spec"]["class_names"])})
    model = build_classifier(spec, weights=None)
    try:
        model.load_state_dict(state["state_dict"], strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{path}: weights do not fit a {spec.method}/{spec.backbone} model ({error})") from error
    return model.to(device).eval(), spec


def import_original_seam_checkpoint(path: str | Path, out: str | Path, class_names: list[str]) -> ClassifierSpec:
    """Convert a state dict saved by the original SEAM code into a wsss classifier checkpoint."""
    from wsss.models.weights import import_original_seam

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        original = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001
        raise CheckpointError(f"{path}: cannot read checkpoint ({error})") from error
    spec = ClassifierSpec("seam", "resnet38", len(class_names) - 1, 8, tuple(class_names))
    model = build_classifier(spec, weights=None)
    state = import_original_seam(original)
    fc8 = state.get("fc8.weight")
    if fc8 is None or fc8.shape[0] != len(class_names):
        found = None if fc8 is None else fc8.shape[0]
        raise CheckpointError(f"{path}: fc8 has {found} outputs, the dataset has {len(class_names)} classes")
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise CheckpointError(f"{path}: not a SEAM ResNet-38 state dict (missing {missing[:3]}, unexpected {unexpected[:3]})")
    save_model(out, model, spec, {"imported_from": str(path)})
    return spec
