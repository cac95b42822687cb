from wsss.plots import render


def test_render_offline_png_svg_html(tmp_path):
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": [{"threshold": t / 100, "miou": 0.3 + t / 200} for t in range(10)]},
        "mark": "line",
        "encoding": {"x": {"field": "threshold", "type": "quantitative"}, "y": {"field": "miou", "type": "quantitative"}},
    }
    written = render({"plots/cam curve.csv": spec}, tmp_path, "png")
    assert written[0].name == "plots_cam_curve.csv.png"
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = render({"curve": spec}, tmp_path, "svg")[0].read_text()
    assert svg.lstrip().startswith("<svg")
    html = render({"curve": spec}, tmp_path, "html")[0].read_text()
    # Self-contained: the chart library is inlined, nothing is fetched from a CDN.
    assert "<script" in html and "cdn.jsdelivr" not in html
