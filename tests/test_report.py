"""The run report: gallery selection, per-image IoU, and a partial run rendered without errors."""

import re

import numpy as np
import pytest

from wsss import io
from wsss.data.folder import index_folder
from wsss.report import gallery
from wsss.report.page import build_report


def test_image_miou_by_hand():
    gt = np.array([[0, 0, 1, 1]], np.uint8)
    pred = np.array([[0, 1, 1, 2]], np.uint8)
    # background 1/2, class 1 1/3, class 2 0/1 → mean 5/18
    assert gallery.image_miou(gt, pred, 3) == pytest.approx((1 / 2 + 1 / 3 + 0) / 3)


def test_selection_is_seeded_and_worst_excludes_the_sample():
    ids = [f"img{i}" for i in range(20)]
    scores = {i: float(k) for k, i in enumerate(ids)}
    sample, worst = gallery.select(ids, scores, 4, 3, seed=1)
    assert gallery.select(list(reversed(ids)), scores, 4, 3, seed=1)[0] == sample  # order does not matter
    assert len(sample) == 4 and not set(sample) & set(worst)
    rest = sorted((i for i in ids if i not in sample), key=scores.get)
    assert worst == rest[:3]
    assert gallery.select(ids, {}, 4, 3, seed=1)[1] == []  # no ground truth: no worst list


@pytest.fixture
def partial_run(tmp_path):
    rng = np.random.default_rng(0)
    lines = []
    for k in range(5):
        name = f"im{k}"
        io.write_jpeg(tmp_path / "src" / "img" / f"{name}.jpg", rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))
        mask = np.zeros((24, 32), np.uint8)
        mask[4:20, 4 + k : 20 + k] = 1 + k % 2
        io.write_label_png(tmp_path / "src" / "masks" / f"{name}.png", mask)
        lines.append(f"{name}.jpg,{'a' if k % 2 == 0 else 'b'},train")
        pred = mask.copy()
        pred[:, :8 * (k % 3)] = 0  # worse for some images
        io.write_label_png(io.label_map_path(tmp_path / "run" / "labels" / "rw", name), pred)
    io.write_text(tmp_path / "src" / "labels.csv", "image,labels,split\n" + "\n".join(lines) + "\n")
    io.write_text(tmp_path / "src" / "classes.txt", "a\nb\n")
    index_folder(tmp_path / "src" / "img", tmp_path / "src" / "labels.csv", tmp_path / "src" / "classes.txt",
                 tmp_path / "run" / "data" / "prepared", mask_dir=tmp_path / "src" / "masks")
    from wsss.data.dataset import Dataset

    fingerprint = Dataset(tmp_path / "run" / "data" / "prepared").fingerprint()
    io.write_json(tmp_path / "run" / "metrics" / "eval_rw.json", {"miou": 0.5, "mfp": 0.1, "mfn": 0.4, "data": fingerprint})
    return tmp_path / "run"


def test_partial_run_report(partial_run):
    path = build_report(partial_run, partial_run / "report", "seam", sample=2, worst=2)
    page = path.read_text()
    assert page.count("not run yet") == 5  # every SEAM stage but the random walk
    assert "50.0 %" in page and "Gallery: train" in page and "Confusion matrix: random walk on train" in page
    images = re.findall(r"src='(img/[^']+)'", page)
    assert images and all((path.parent / name).is_file() for name in images)
    assert (path.parent / "figures" / "confusion.png").is_file()
    # Nothing loads from the network: no scripts, no external sources or links (SVG namespaces only).
    assert "<script" not in page and not re.search(r"(src|href)=[\"']?https?:", page)


def test_scores_are_each_stages_miou_in_percent(partial_run):
    from wsss.errors import DataError
    from wsss.report.build import PIPELINES
    from wsss.report.scores import pipeline_scores

    with pytest.raises(DataError, match="eval_cam_cam.json: file not found"):
        pipeline_scores(partial_run, "seam")
    for stage in PIPELINES["seam"]:
        io.write_json(partial_run / stage.metrics, {"miou": 0.123456, "iou_a": 0.5})
    scores = pipeline_scores(partial_run, "seam")
    assert list(scores) == ["cam", "seam", "dcrf", "sal", "rw", "seg"] and set(scores.values()) == {12.35}


def test_metrics_of_other_data_are_marked_stale_not_shown(partial_run):
    """Committed demo metrics beside custom data: each is named stale, with both fingerprints, and
    no number of it appears; the facts name the data and the params fingerprint."""
    from wsss.data.dataset import Dataset

    fingerprint = Dataset(partial_run / "data" / "prepared").fingerprint()
    io.write_json(partial_run / "metrics" / "eval_cam_seam.json", {"miou": 0.777, "best_threshold": 0.3, "data": "0123456789ab"})
    io.write_json(partial_run / "metrics" / "eval_cam_cam.json", {"miou": 0.666, "best_threshold": 0.59})
    io.write_text(partial_run / "params.yaml", "engine: {seed: 0}\n")
    page = build_report(partial_run, partial_run / "report", "seam", sample=1, worst=1).read_text()
    assert f"stale: from other data (0123456789ab, this data {fingerprint})" in page
    assert "stale: no data fingerprint" in page and "77.7 %" not in page and "66.6 %" not in page
    assert f"fingerprint {fingerprint}" in page and "params fingerprint" in page
    assert "50.0 %" in page and "this working tree (not committed)" in page


def test_score_columns_are_unique_across_pipelines():
    """dvc exp show names a column by its key alone only when no other metrics file has it."""
    from wsss.report.build import PIPELINES

    keys = [stage.key for stages in PIPELINES.values() for stage in stages]
    assert len(keys) == len(set(keys))
