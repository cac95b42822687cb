"""The image classifiers (``cam`` baseline, ``seam``): their spec, builder and model kind, and the
import of the original SEAM weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from wsss.errors import CheckpointError
from wsss.models.backbones import build_backbone
from wsss.models.cam import CamNet
from wsss.models.checkpoint import load_plain
from wsss.models.registry import CLASSIFIERS, ModelKind
from wsss.models.seam import SeamNet

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


KIND = ModelKind("classifier", ClassifierSpec, build_classifier)


def import_original_seam_checkpoint(path: str | Path, out: str | Path, class_names: list[str]) -> ClassifierSpec:
    """Convert a state dict saved by the original SEAM code into a wsss classifier checkpoint."""
    from wsss.models.weights import import_original_seam
    from wsss.models.zoo import save_model

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    original = load_plain(path, "checkpoint")
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
