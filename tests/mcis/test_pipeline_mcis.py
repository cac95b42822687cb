"""A miniature MCIS run (pairs → co-attentive maps → saliency-guided labels) on CPU."""

import numpy as np
import pytest

from tests.pipeline_checks import check_maps_and_labels, tiny_demo
from wsss import io, metrics
from wsss.cams.coattention import localise_mcis
from wsss.config import McisLabelsParams, from_dict
from wsss.data.dataset import Dataset
from wsss.errors import CheckpointError
from wsss.evaluate import evaluate_cams, evaluate_label_maps
from wsss.models.coattention import KIND as MCIS
from wsss.models.zoo import load_model
from wsss.params.mcis import LocaliseMcisParams, TrainMcisParams
from wsss.refine.saliency_labels import run_saliency_labels
from wsss.train.mcis import train_mcis


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("mcis")
    tiny_demo(root / "data")
    params = from_dict(TrainMcisParams, {
        "size": 48, "width": 32, "head_std": 0.01, "contrastive_from_epoch": 1,
        "engine": {"epochs": 2, "batch_size": 4, "num_workers": 0, "checkpoint_every": 0, "log_every": 1,
                   "optim": {"lr": 1e-4, "momentum": 0.9, "nesterov": True, "schedule": "step", "step_epochs": [1]}},
    })
    train_mcis(root / "data", params, root / "mcis.pt", root / "work", root / "live")
    localise_mcis(root / "data", root / "mcis.pt", LocaliseMcisParams(related=2), 48, root / "cams")
    run_saliency_labels(root / "data", root / "cams", McisLabelsParams(workers=1), root / "labels")
    return root


def test_maps_and_labels_cover_every_image(run):
    check_maps_and_labels(run / "data", run / "cams", run / "labels")
    curve = evaluate_cams(run / "data", "train", run / "cams", workers=1)
    assert curve.shape[0] == 60
    assert 0 <= metrics.scores(evaluate_label_maps(run / "data", "train", run / "labels", workers=1))["miou"] <= 1
    assert (run / "live" / "plots" / "metrics" / "train" / "contrastive.tsv").is_file()


def test_localisation_is_reproducible(run, tmp_path):
    localise_mcis(run / "data", run / "mcis.pt", LocaliseMcisParams(related=2), 48, tmp_path / "again")
    image_id = Dataset(run / "data").ids("train")[0]
    a = io.CamShardReader(run / "cams").read(image_id)[1]
    b = io.CamShardReader(tmp_path / "again").read(image_id)[1]
    np.testing.assert_array_equal(a, b)


def test_wrong_checkpoint_kind(run, tmp_path):
    from wsss.models import checkpoint

    model, _ = load_model(run / "mcis.pt", [MCIS])
    checkpoint.save_model(tmp_path / "x.pt", model, "classifier", {})
    with pytest.raises(CheckpointError, match="expected 'mcis'"):
        load_model(tmp_path / "x.pt", [MCIS])
