"""Assemble the report of one pipeline from its artifacts (metrics, curves, logs, labels, maps)."""

from __future__ import annotations

import json
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Stage:
    label: str
    metrics: str            # metrics JSON
    split: str
    key: str                # its column in the pipeline's scores (metrics/<pipeline>.json), unique over pipelines
    labels: str = ""        # label-map folder of the stage (galleries, confusion)
    cams: str = ""          # localisation-map folder (threshold = the metrics' best_threshold)


PIPELINES: dict[str, list[Stage]] = {
    "seam": [
        Stage("CAM seed", "metrics/eval_cam_cam.json", "train", "cam", cams="cams/cam"),
        Stage("SEAM seed (PCM)", "metrics/eval_cam_seam.json", "train", "seam", cams="cams/seam"),
        Stage("SEAM CAM + dCRF", "metrics/eval_cam_dcrf.json", "train", "dcrf", labels="labels/cam_dcrf"),
        Stage("saliency-guided labels", "metrics/eval_sal.json", "train", "sal", labels="labels/sal"),
        Stage("random walk", "metrics/eval_rw.json", "train", "rw", labels="labels/rw"),
        Stage("DeepLab (val)", "metrics/eval_seg_seam.json", "val", "seg", labels="labels/seg_seam"),
    ],
    "mcis": [
        Stage("MCIS maps", "metrics/eval_cam_mcis.json", "train", "mcis_maps", cams="cams/mcis"),
        Stage("MCIS labels", "metrics/eval_mcis_labels.json", "train", "mcis_labels", labels="labels/mcis"),
        Stage("DeepLab (val)", "metrics/eval_seg_mcis.json", "val", "mcis_seg", labels="labels/seg_mcis"),
    ],
    "getam": [
        Stage("GETAM maps", "metrics/eval_cam_getam.json", "train", "getam_maps", cams="cams/getam"),
        Stage("GETAM completed labels", "metrics/eval_getam_labels.json", "train", "getam_labels", labels="labels/getam"),
        Stage("GETAM end to end (val)", "metrics/eval_seg_getam.json", "val", "getam_e2e", labels="labels/seg_getam"),
        Stage("DeepLab on GETAM labels (val)", "metrics/eval_seg_getam_ms.json", "val", "getam_seg", labels="labels/seg_getam_ms"),
    ],
}
TRAINING_LOGS = {"seam": ["train_cls_cam", "train_cls_seam", "train_aff", "train_seg_seam"],
                 "mcis": ["train_mcis", "train_seg_mcis"], "getam": ["train_getam", "train_seg_getam_ms"]}
CURVES = {"seam": ["cam", "seam"], "mcis": ["mcis"], "getam": ["getam"]}


def read_metrics(root: Path, path: str, revision: str | None = None) -> dict | None:
    """A metrics JSON of the working tree, or of a git revision; None where it does not exist."""
    if revision is None:
        file = root / path
        return json.loads(file.read_text()) if file.is_file() else None
    result = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=root, capture_output=True, text=True)
    return json.loads(result.stdout) if result.returncode == 0 else None


def run_facts(root: Path) -> dict[str, str]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "not a git checkout"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return {"commit": commit, "device": _device(), "report written": time.strftime("%Y-%m-%d %H:%M:%S")}


def _device() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").is_file() else ""
    from wsss.progress import default_workers

    return f"CPU {model} ({default_workers()} cores)"


def stage_times(root: Path, stages: list[Stage]) -> list[tuple[str, str]]:
    """(stage, when its metrics were produced): the commit that recorded the file, or "this working
    tree" for metrics newer than the last commit (file times say when a clone was made, not a run)."""
    rows = []
    for stage in stages:
        if not (root / stage.metrics).is_file():
            continue
        changed = subprocess.run(["git", "status", "--porcelain", "--", stage.metrics], cwd=root,
                                 capture_output=True, text=True)
        logged = subprocess.run(["git", "log", "-1", "--format=%ci (commit %h)", "--", stage.metrics], cwd=root,
                                capture_output=True, text=True)
        if changed.returncode or logged.returncode or changed.stdout.strip() or not logged.stdout.strip():
            rows.append((stage.label, "this working tree (not committed)"))
        else:
            rows.append((stage.label, logged.stdout.strip()))
    return rows


def data_facts(root: Path, index_dir: str | Path) -> dict[str, str]:
    """The data source and fingerprint the report's images come from, and the params fingerprint."""
    import hashlib

    from wsss.data.dataset import Dataset

    facts = {}
    index = root / index_dir
    if (index / "dataset.json").is_file():
        dataset = Dataset(index)
        source = json.loads((index / "source.json").read_text()).get("source", "?") if (index / "source.json").is_file() else "?"
        facts["data"] = f"{dataset.spec.name} ({source} source), fingerprint {dataset.fingerprint()}"
    params = root / "params.yaml"
    if params.is_file():
        facts["params fingerprint"] = hashlib.sha256(params.read_bytes()).hexdigest()[:12]
    return facts


def stale_reason(metrics: dict | None, fingerprint: str | None) -> str | None:
    """Why metrics do not belong to the current data (None: they do, or there is no data to compare)."""
    if metrics is None or fingerprint is None:
        return None
    recorded = metrics.get("data")
    if recorded is None:
        return "stale: no data fingerprint (written by an older version); rerun with dvc repro"
    if recorded != fingerprint:
        return f"stale: from other data ({recorded}, this data {fingerprint}); rerun with dvc repro"
    return None


def training_curves(root: Path, runs: list[str]) -> list[dict]:
    rows = []
    for run in runs:
        folder = root / "logs" / run / "plots" / "metrics" / "train"
        for tsv in sorted(folder.glob("*.tsv")) if folder.is_dir() else []:
            if tsv.stem == "lr":
                continue
            for line in tsv.read_text().splitlines()[1:]:
                step, value = line.split("\t")[:2]
                rows.append({"step": int(step), "value": float(value), "series": f"{run}: {tsv.stem}"})
    return rows


def threshold_curves(root: Path, names: list[str]) -> list[dict]:
    rows = []
    for name in names:
        file = root / "plots" / f"cam_curve_{name}.csv"
        if file.is_file():
            lines = file.read_text().splitlines()
            header = lines[0].split(",")
            for line in lines[1:]:
                values = dict(zip(header, map(float, line.split(","))))
                rows.append({"threshold": values["threshold"], "mIoU": values["miou"], "series": name})
    return rows
