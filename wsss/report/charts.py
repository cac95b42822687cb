"""Vega-Lite charts rendered offline (vl-convert): inline SVG for the page, PNG files beside it."""

from __future__ import annotations

from pathlib import Path

from wsss import io
from wsss.errors import import_pipeline_package


def line_chart(rows: list[dict], x: str, y: str, series: str, title: str, x_title: str = "", y_title: str = "") -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": title, "width": 360, "height": 200,
        "data": {"values": rows}, "mark": {"type": "line", "point": len(rows) < 60},
        "encoding": {"x": {"field": x, "type": "quantitative", "title": x_title or x},
                     "y": {"field": y, "type": "quantitative", "title": y_title or y},
                     "color": {"field": series, "type": "nominal", "title": None}},
    }


def grouped_bars(rows: list[dict], category: str, value: str, group: str, title: str) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": title, "height": 200,
        "data": {"values": rows}, "mark": "bar",
        "encoding": {"x": {"field": category, "type": "nominal", "sort": None, "title": None},
                     "xOffset": {"field": group}, "y": {"field": value, "type": "quantitative",
                                                           "scale": {"domain": [0, 1]}},
                     "color": {"field": group, "type": "nominal", "title": None}},
    }


def heatmap(rows: list[dict], title: str) -> dict:
    """rows: {"truth", "predicted", "share"} — each truth row sums to 1."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": title, "width": 360, "height": 360,
        "data": {"values": rows},
        "encoding": {"x": {"field": "predicted", "type": "nominal", "sort": None},
                     "y": {"field": "truth", "type": "nominal", "sort": None}},
        "layer": [
            {"mark": "rect", "encoding": {"color": {"field": "share", "type": "quantitative",
                                                    "scale": {"scheme": "blues", "domain": [0, 1]}}}},
            {"mark": {"type": "text", "fontSize": 8},
             "encoding": {"text": {"field": "label"},
                          "color": {"condition": {"test": "datum.share > 0.5", "value": "white"}, "value": "black"}}},
        ],
    }


def render(spec: dict, png_path: str | Path) -> str:
    """Write the chart as PNG; return it as SVG markup for the page."""
    vl_convert = import_pipeline_package("vl_convert", "the report's charts")

    io.write_bytes(png_path, vl_convert.vegalite_to_png(spec, scale=2))
    return vl_convert.vegalite_to_svg(spec)
