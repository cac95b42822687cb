"""A miniature GETAM run on CPU: two-phase training → maps → completed labels → end-to-end
segmentation with the GETAM test recipe (square sizes, averaged logits, dense CRF)."""

import pytest
import torch

from tests.pipeline_checks import check_maps_and_labels, tiny_demo
from wsss import io, metrics
from wsss.cams.getam import localise_getam
from wsss.config import InferSegParams, from_dict
from wsss.data.dataset import Dataset
from wsss.errors import CheckpointError, ConfigError
from wsss.evaluate import evaluate_cams, evaluate_label_maps
from wsss.losses.getam import GetamLoss, saliency_target, split_cross_entropy
from wsss.models.getam import KIND as GETAM
from wsss.models.zoo import load_model
from wsss.params.getam import (
    CompletionParams,
    GetamLabelsParams,
    GetamMapParams,
    LocaliseGetamParams,
    TrainGetamParams,
)
from wsss.refine.label_completion import run_getam_labels
from wsss.segment import infer_segmentation
from wsss.train.getam import train_getam

MAPS = {"start_block": 1, "pamr_dilations": [1, 2, 4], "pamr_iterations": 3}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("getam")
    tiny_demo(root / "data")
    params = from_dict(TrainGetamParams, {
        "encoder": "lite0_vit_tiny", "weights": "packaged", "depth": 2, "features": 8, "resize_long": [64, 96],
        "crop": 64, "cls_epochs": 1,
        "engine": {"epochs": 2, "batch_size": 4, "num_workers": 0, "checkpoint_every": 0, "log_every": 1,
                   "optim": {"lr": 0.04, "momentum": 0.0005, "weight_decay": 0.0, "lr_mult": [1, 1, 1, 1]}},
    })
    train_getam(root / "data", params, from_dict(GetamMapParams, MAPS), CompletionParams(opening=3), root / "getam.pt", root / "work", root / "live")
    localise_getam(root / "data", root / "getam.pt", from_dict(LocaliseGetamParams, {"maps": MAPS}), root / "cams")
    run_getam_labels(root / "data", root / "cams", GetamLabelsParams(completion=CompletionParams(opening=3), workers=1),
                     root / "labels")
    infer = InferSegParams(split="val", sizes=[64, 96], flip=False, average="logits", crf="getam", crf_workers=1)
    infer_segmentation(root / "data", root / "getam.pt", infer, root / "seg", kinds=[GETAM])
    return root


def read_tsv(path):
    rows = [line.split("\t") for line in path.read_text().splitlines()[1:]]
    return {int(step): float(value) for step, value in rows}


def test_two_phases_and_their_learning_rates(run):
    train = run / "live" / "plots" / "metrics" / "train"
    assert set(read_tsv(train / "cls.tsv")) == {1, 2, 3, 4}
    assert set(read_tsv(train / "ce_fg.tsv")) == {3, 4}          # phase 2 only: steps 3 and 4 of 4
    lr = read_tsv(train / "lr.tsv")
    for step, factor in ((1, 1.0), (2, 1.0), (3, 0.1), (4, 0.1)):  # logged after step t (counted from 1)
        assert lr[step] == pytest.approx(0.04 * (1 - (step - 1) / 4) ** 0.9 * factor)


def test_maps_labels_and_segmentation_cover_every_image(run):
    check_maps_and_labels(run / "data", run / "cams", run / "labels")
    assert evaluate_cams(run / "data", "train", run / "cams", workers=1).shape[0] == 60
    for folder, split in (("labels", "train"), ("seg", "val")):
        assert 0 <= metrics.scores(evaluate_label_maps(run / "data", split, run / folder, workers=1))["miou"] <= 1


def test_checkpoint_round_trip_and_kind(run, tmp_path):
    from wsss.models import checkpoint

    model, spec = load_model(run / "getam.pt", [GETAM])
    assert spec.encoder == "lite0_vit_tiny" and spec.class_names == tuple(Dataset(run / "data").class_names)
    x = torch.randn(1, 3, 40, 56)
    assert model(x).shape == (1, spec.num_classes, 40, 56)   # any size: padded to 16 inside
    checkpoint.save_model(tmp_path / "x.pt", model, "mcis", {})
    with pytest.raises(CheckpointError, match="expected 'getam'"):
        load_model(tmp_path / "x.pt", [GETAM])


def test_split_cross_entropy_hand_case():
    logits = torch.tensor([[[[2.0, 0.0, 1.0]], [[0.0, 1.0, 0.0]], [[0.0, 3.0, 5.0]]]])   # 1×3×1×3
    label = torch.tensor([[[0, 2, 255]]])
    bg, fg = split_cross_entropy(logits, label)
    torch.testing.assert_close(bg, -torch.log_softmax(logits[0, :, 0, 0], 0)[0])
    torch.testing.assert_close(fg, -torch.log_softmax(logits[0, :, 0, 1], 0)[2])
    bg, fg = split_cross_entropy(logits, torch.full((1, 1, 3), 255))
    assert bg == 0 and fg == 0                                   # no NaN for an all-ignored batch


def test_saliency_targets():
    salient = torch.tensor([True, False, True, False])
    completed = torch.tensor([False, True, False, False])
    torch.testing.assert_close(saliency_target(salient, completed, "intent"), torch.tensor([0.0, 1, 0, 1]))
    torch.testing.assert_close(saliency_target(salient, completed, "as_written"), torch.tensor([1.0, 0, 1, 1]))
    with pytest.raises(ConfigError):
        GetamLoss(TrainGetamParams(saliency_loss="sometimes"), GetamMapParams(), CompletionParams())


def test_predict_cli_takes_a_getam_checkpoint(run, tmp_path):
    from typer.testing import CliRunner

    from wsss.cli import app

    dataset = Dataset(run / "data")
    image = dataset.image_path(dataset.ids("val")[0])
    result = CliRunner().invoke(app, ["predict", str(run / "getam.pt"), str(image), "-o", str(tmp_path),
                                      "--sizes", "64,96", "--average", "logits", "--no-flip", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    label = io.read_label_png(tmp_path / f"{image.stem}.png")
    assert label.shape == dataset.read_image(dataset.ids("val")[0]).shape[:2]


def test_phase_two_losses_run_outside_autocast(run, monkeypatch):
    """CUDA autocast refuses binary_cross_entropy and would run the energy kernel in bf16: both must
    be computed with autocast off (checked here on CPU autocast, which would allow them)."""
    import wsss.losses.getam as getam_training

    seen = []

    def guarded(fn):
        def call(*args, **kwargs):
            seen.append(torch.is_autocast_enabled("cpu"))
            return fn(*args, **kwargs)
        return call

    monkeypatch.setattr(getam_training.F, "binary_cross_entropy", guarded(torch.nn.functional.binary_cross_entropy))
    monkeypatch.setattr(getam_training, "dense_energy_loss", guarded(getam_training.dense_energy_loss))
    model, _ = load_model(run / "getam.pt", [GETAM])
    model.train()
    params = TrainGetamParams(cls_epochs=0)
    maps = from_dict(GetamMapParams, MAPS)
    saliency = torch.zeros(2, 64, 64)
    saliency[:, 16:48, 16:48] = 1
    batch = {"image": torch.randn(2, 3, 64, 64), "label": torch.tensor([[1.0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]]),
             "saliency": saliency, "crop": torch.ones(2, 64, 64)}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        losses = GetamLoss(params, maps, CompletionParams())(model, batch, 0)
    assert seen == [False, False]
    assert {"cls", "ce_bg", "ce_fg", "saliency", "dense_energy", "loss"} <= set(losses)
    assert all(torch.isfinite(v) and v.dtype == torch.float32 for v in losses.values())


def test_the_phase_is_decided_in_one_place_for_the_loss_and_the_lr():
    from wsss.losses.getam import lr_scale, segmentation_phase

    params = TrainGetamParams(cls_epochs=2, seg_lr_scale=0.25)
    assert [segmentation_phase(e, params) for e in range(4)] == [False, False, True, True]
    assert [lr_scale(e, params) for e in range(4)] == [1.0, 1.0, 0.25, 0.25]
