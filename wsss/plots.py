"""Offline rendering of DVC plots: DVC's HTML loads its chart library from a CDN, so render the
Vega-Lite specs that DVC fills with data to PNG, SVG or a self-contained HTML with vl-convert."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from wsss import io
from wsss.errors import WsssError, import_pipeline_package


def dvc_plot_specs(revisions: list[str] | None = None, targets: list[str] | None = None) -> dict[str, dict]:
    """{plot id: Vega-Lite spec with data} from ``dvc plots show/diff --json``."""
    command = ["dvc", "plots", "diff", *(revisions or []), "--json"] if revisions else ["dvc", "plots", "show", "--json"]
    command += targets or []
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise WsssError(f"{' '.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}")
    document = json.loads(result.stdout)
    document = document.get("data", document)  # DVC 3 wraps the plots in "data"
    specs = {}
    for plot_id, entries in document.items():
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if entry.get("type") == "vega" and isinstance(entry.get("content"), dict):
                specs[plot_id] = entry["content"]
    return specs


def render(specs: dict[str, dict], out_dir: str | Path, fmt: str = "png") -> list[Path]:
    vl_convert = import_pipeline_package("vl_convert", "rendering plots")

    out_dir = Path(out_dir)
    written = []
    if not specs:
        raise WsssError("no plots to render (run the pipeline first: dvc repro)")
    for plot_id, spec in specs.items():
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", plot_id).strip("_")
        path = out_dir / f"{name}.{fmt}"
        if fmt == "png":
            io.write_bytes(path, vl_convert.vegalite_to_png(spec, scale=2))
        elif fmt == "svg":
            io.write_text(path, vl_convert.vegalite_to_svg(spec))
        elif fmt == "html":
            io.write_text(path, vl_convert.vegalite_to_html(spec, bundle=True))
        else:
            raise WsssError(f"unknown plot format {fmt!r} (png, svg, html)")
        written.append(path)
    return written
