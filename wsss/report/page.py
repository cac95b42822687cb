"""The report page: sections of tables, charts and galleries, written into one folder."""

from __future__ import annotations

import html
import logging
from pathlib import Path

import numpy as np

from wsss import io, metrics
from wsss.data.dataset import Dataset
from wsss.errors import DataError
from wsss.progress import prefetched
from wsss.report import charts, gallery
from wsss.report.build import (
    CURVES,
    PIPELINES,
    TRAINING_LOGS,
    Stage,
    data_facts,
    read_metrics,
    run_facts,
    stage_times,
    stale_reason,
    threshold_curves,
    training_curves,
)
from wsss.report.params_table import params_changed

log = logging.getLogger(__name__)
STYLE = """body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}
figure{display:inline-block;margin:4px;text-align:center;font-size:12px}figure img{display:block}
.missing{color:#999}.better{color:#080}.worse{color:#b00}.row{white-space:nowrap;overflow-x:auto}"""


class StageView:
    """Reads one stage's per-image output: a label map, or a CAM turned into labels at its best threshold."""

    def __init__(self, root: Path, stage: Stage, scores: dict | None) -> None:
        self.stage = stage
        self.labels = root / stage.labels if stage.labels and (root / stage.labels).is_dir() else None
        self.cams = io.CamShardReader(root / stage.cams) if stage.cams and (root / stage.cams / "index.json").is_file() else None
        self.threshold = (scores or {}).get("best_threshold", 0.3)
        self._confusions: dict[tuple[str, str], dict[str, np.ndarray]] = {}

    @property
    def available(self) -> bool:
        return self.labels is not None or self.cams is not None

    def confusions(self, dataset: Dataset, split: str) -> dict[str, np.ndarray]:
        """Per-image confusion matrices against the ground truth (images without one are left out),
        computed once per view and split in decoding threads."""
        key = (str(dataset.root), split)
        if key not in self._confusions:
            def one(image_id: str):
                try:
                    gt = dataset.read_mask(image_id)
                except DataError:
                    return image_id, None
                return image_id, metrics.confusion_matrix(gt, self.predict(image_id, gt.shape)[0], dataset.num_classes)

            ids = dataset.ids(split)
            self._confusions[key] = {i: c for i, c in prefetched(one, ids) if c is not None}
        return self._confusions[key]

    def predict(self, image_id: str, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
        """(label map, heat map or None)."""
        if self.labels is not None:
            return io.read_label_png(io.find_label_map(self.labels, image_id)), None
        classes, maps = self.cams.read(image_id)
        heat = maps.max(0) if len(maps) else np.zeros(shape, np.float32)
        return metrics.cam_prediction(classes, maps, self.threshold, shape), heat


def build_report(root: str | Path, out_dir: str | Path, pipeline: str = "seam", revision: str | None = None,
                 sample: int = 6, worst: int = 6, seed: int = 0, index_dir: str | Path = "data/prepared") -> Path:
    root, out_dir = Path(root), Path(out_dir)
    stages = PIPELINES[pipeline]
    index = root / index_dir
    dataset = Dataset(index) if (index / "dataset.json").is_file() else None
    fingerprint = dataset.fingerprint() if dataset is not None else None
    scores, stale = {}, {}
    for stage in stages:
        metrics = read_metrics(root, stage.metrics)
        reason = stale_reason(metrics, fingerprint)
        scores[stage.label] = None if reason else metrics
        if reason:
            stale[stage.label] = reason
    sections = [f"<h1>wsss run report: {pipeline.upper()} pipeline</h1>", _facts_table(root, index_dir)]
    sections.append(_metrics_table(root, stages, scores, revision, stale))
    figures = out_dir / "figures"
    curves = threshold_curves(root, CURVES[pipeline])
    if curves:
        sections.append("<h2>Background-threshold curves</h2>" + charts.render(
            charts.line_chart(curves, "threshold", "mIoU", "series", "CAM mIoU vs constant background score"),
            figures / "threshold_curves.png"))
    training = training_curves(root, TRAINING_LOGS[pipeline])
    if training:
        sections.append("<h2>Training losses</h2>" + charts.render(
            charts.line_chart(training, "step", "value", "series", "training losses (DVCLive)"),
            figures / "training_losses.png"))
    views = [StageView(root, s, scores[s.label]) for s in stages]
    if dataset is not None:
        sections += _per_class_sections(dataset, [v for v in views if v.available], figures)
        for split in ("train", "val"):
            split_views = [v for v in views if v.stage.split == split and v.available]
            if split_views and split in dataset.splits():
                sections.append(_gallery(dataset, split, split_views, out_dir / "img", sample, worst, seed))
    else:
        sections.append('<p class="missing">No dataset index: run the prepare stage for per-class scores and galleries.</p>')
    sections.append(_params_table(root))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>wsss report: {pipeline}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(sections)}</body></html>")
    path = out_dir / "index.html"
    io.write_text(path, page)
    return path


def _facts_table(root: Path, index_dir: str | Path) -> str:
    facts = {**run_facts(root), **data_facts(root, index_dir)}
    rows = "".join(f"<tr><th class='l'>{k}</th><td class='l'>{html.escape(v)}</td></tr>" for k, v in facts.items())
    return f"<table>{rows}</table>"


def _metrics_table(root: Path, stages: list[Stage], scores: dict, revision: str | None, stale: dict) -> str:
    head = "<tr><th class='l'>stage</th><th>split</th><th>mIoU</th><th>mFP</th><th>mFN</th><th>bg threshold</th>"
    head += f"<th>mIoU at {html.escape(revision)}</th><th>change</th></tr>" if revision else "</tr>"
    rows = []
    for stage in stages:
        s = scores[stage.label]
        if s is None:
            why = html.escape(stale.get(stage.label, "not run yet"))
            rows.append(f"<tr><td class='l'>{stage.label}</td><td>{stage.split}</td>"
                        f"<td class='missing' colspan='{6 if revision else 4}'>{why}</td></tr>")
            continue
        cells = [f"{100 * s['miou']:.1f} %", _pct(s.get("mfp")), _pct(s.get("mfn")),
                 (f"{s['best_threshold']:.2f}" + (" (sweep's end: mIoU understated)" if s.get("best_at_sweep_end") else ""))
                 if "best_threshold" in s else ""]
        if revision:
            other = read_metrics(root, stage.metrics, revision)
            if other is None:
                cells += ["<span class='missing'>—</span>", ""]
            else:
                delta = 100 * (s["miou"] - other["miou"])
                css = "better" if delta > 0 else "worse" if delta < 0 else ""
                cells += [f"{100 * other['miou']:.1f} %", f"<span class='{css}'>{delta:+.1f}</span>"]
        rows.append(f"<tr><td class='l'>{stage.label}</td><td>{stage.split}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    times = "".join(f"<tr><td class='l'>{label}</td><td>{when}</td></tr>" for label, when in stage_times(root, stages))
    return (f"<h2>Metrics per stage</h2><table>{head}{''.join(rows)}</table>"
            f"<details><summary>when each stage's metrics were produced</summary><table>{times}</table></details>")


def _pct(value) -> str:
    return "" if value is None else f"{100 * value:.1f} %"


def _per_class_sections(dataset: Dataset, views: list[StageView], figures: Path) -> list[str]:
    """Per-class IoU/FP/FN bars and the confusion matrix of the last stage that has outputs."""
    if not views or not dataset.spec.mask_dirs:
        return []
    final = views[-1]
    confusion = sum(final.confusions(dataset, final.stage.split).values(), np.zeros((dataset.num_classes,) * 2, np.int64))
    scores = metrics.per_class(confusion)
    names = dataset.class_names
    present = [c for c in range(len(names)) if confusion[c].sum() > 0]
    bars = [{"class": names[c], "score": float(scores[k][c]), "kind": k.upper() if k != "iou" else "IoU"}
            for c in present for k in ("iou", "fp", "fn")]
    totals = confusion.sum(1, keepdims=True).clip(min=1)
    cells = [{"truth": names[t], "predicted": names[p], "share": float(confusion[t, p] / totals[t, 0]),
              "label": f"{confusion[t, p] / totals[t, 0]:.2f}" if confusion[t, p] else ""}
             for t in present for p in present]
    title = f"{final.stage.label} on {final.stage.split}"
    return [f"<h2>Per class: {title}</h2>" + charts.render(charts.grouped_bars(bars, "class", "score", "kind", title),
                                                            figures / "per_class.png"),
            f"<h2>Confusion matrix: {title}</h2><p>Rows: ground truth; columns: predicted; each row sums to 1.</p>"
            + charts.render(charts.heatmap(cells, title), figures / "confusion.png")]


def _gallery(dataset: Dataset, split: str, views: list[StageView], img_dir: Path, sample: int, worst: int,
             seed: int) -> str:
    ids = dataset.ids(split)
    has_gt = bool(dataset.spec.mask_dirs)
    judged = views[-1]
    per_image: dict[str, float] = {}
    if has_gt:
        per_image = {i: gallery.confusion_miou(c) for i, c in judged.confusions(dataset, split).items()}
    sampled, worst_ids = gallery.select(ids, per_image, sample, worst if has_gt else 0, seed)
    parts = [f"<h2>Gallery: {split}</h2>",
             f"<p>IoU per image = mean over the classes in its ground truth or prediction; "
             f"worst images are ranked by <b>{judged.stage.label}</b>.</p>"]
    for title, chosen in (("seeded sample", sampled), ("worst images", worst_ids)):
        if chosen:
            parts.append(f"<h3>{title}</h3>" + "".join(_gallery_row(dataset, i, views, img_dir, has_gt) for i in chosen))
    return "".join(parts)


def _gallery_row(dataset: Dataset, image_id: str, views: list[StageView], img_dir: Path, has_gt: bool) -> str:
    image = dataset.read_image(image_id)
    tiles = [("photo", image, "")]
    gt = None
    if has_gt:
        try:
            gt = dataset.read_mask(image_id)
            tiles.append(("ground truth", gallery.label_tile(image, gt), ""))
        except DataError:
            gt = None
    for view in views:
        label, heat = view.predict(image_id, image.shape[:2])
        caption = f"IoU {gallery.image_miou(gt, label, dataset.num_classes):.2f}" if gt is not None else ""
        if heat is not None:
            tiles.append((f"{view.stage.label}: map", gallery.heat_overlay(image, heat), ""))
        tiles.append((view.stage.label, gallery.label_tile(image, label), caption))
    figures = []
    for k, (title, array, caption) in enumerate(tiles):
        name = f"{image_id}_{k}.jpg"
        gallery.write_tile(array, img_dir / name)
        figures.append(f"<figure><img src='img/{name}' alt='{html.escape(title)}'>"
                       f"{html.escape(title)}<br>{caption}</figure>")
    return f"<div class='row'><b>{html.escape(image_id)}</b><br>{''.join(figures)}</div>"


def _params_table(root: Path) -> str:
    changed = params_changed(root)
    if not changed:
        return "<h2>Params</h2><p>Every value is the library default.</p>"
    rows = "".join(f"<tr><td class='l'>{html.escape(k)}</td><td class='l'>{html.escape(str(v))}</td>"
                   f"<td class='l'>{html.escape(str(d))}</td></tr>" for k, v, d in changed)
    return f"<h2>Params that differ from the defaults</h2><table><tr><th class='l'>key</th><th class='l'>value</th><th class='l'>default</th></tr>{rows}</table>"
