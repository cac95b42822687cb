"""The few numbers a user compares between runs: each stage's mIoU (in %) of one pipeline, in one flat
JSON (``metrics/<pipeline>.json``), so ``dvc exp show`` and ``dvc metrics diff`` fit a terminal. The
per-class and error details stay in each evaluation's own JSON."""

from __future__ import annotations

from pathlib import Path

from wsss import io
from wsss.errors import DataError
from wsss.report.build import PIPELINES


def pipeline_scores(root: Path, pipeline: str) -> dict[str, float]:
    """{stage key: mIoU in %, 2 decimals} for every evaluation of ``pipeline``, in pipeline order."""
    if pipeline not in PIPELINES:
        raise DataError(f"unknown pipeline {pipeline!r}; one of {', '.join(PIPELINES)}")
    scores = {}
    for stage in PIPELINES[pipeline]:
        metrics = io.read_json(Path(root) / stage.metrics)
        if not isinstance(metrics, dict) or not isinstance(metrics.get("miou"), (int, float)):
            raise DataError(f"{stage.metrics}: no 'miou' value")
        scores[stage.key] = round(100 * metrics["miou"], 2)
    return scores
