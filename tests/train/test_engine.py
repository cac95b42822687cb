import numpy as np
import pytest
import torch
from torch import nn

from wsss.config import EngineConfig, OptimConfig
from wsss.train.data import EpochBatches
from wsss.train.engine import Trainer, TrainingError


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, 3, padding=1)
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.drop(self.backbone(x).mean((2, 3))))

    def parameter_groups(self):
        return [[self.backbone.weight], [self.backbone.bias], [self.head.weight], [self.head.bias]]


def make_item(index: int, rng: np.random.Generator) -> dict:
    x = torch.from_numpy(rng.normal(size=(3, 8, 8)).astype(np.float32)) + index * 0.01
    return {"image": x, "label": torch.tensor([float(index % 2), 1.0]), "id": f"img{index}"}


def loss_fn(model, batch, epoch):
    loss = nn.functional.binary_cross_entropy_with_logits(model(batch["image"]), batch["label"])
    return {"loss": loss}


CONFIG = EngineConfig(epochs=3, batch_size=4, seed=3, num_workers=0, checkpoint_every=0, log_every=2,
                      optim=OptimConfig(lr=0.1, momentum=0.9))


def train(tmp, stop_after=None, resume=True, config=CONFIG):
    torch.manual_seed(123)  # model init
    trainer = Trainer(TinyNet(), loss_fn, make_item, 10, config, tmp / "work", tmp / "live", fingerprint="x")
    return trainer, trainer.fit(resume=resume, stop_after=stop_after)


def test_resume_is_bit_identical(tmp_path):
    _, straight = train(tmp_path / "a")
    trainer, _ = train(tmp_path / "b", stop_after=4)  # stops mid-epoch 1 (2 steps per epoch)
    assert trainer.step == 4
    resumed_trainer, resumed = train(tmp_path / "b")
    assert resumed_trainer.step == resumed_trainer.max_steps == 6
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name


def fit_recording_lrs(trainer: Trainer) -> list[list[float]]:
    """Train to the end; every step's group LRs as the update used them."""
    lrs = []
    original = trainer._train_step

    def step_and_record(batch, epoch):
        out = original(batch, epoch)
        lrs.append([g["lr"] for g in trainer.optimizer.param_groups])
        return out

    trainer._train_step = step_and_record
    trainer.fit()
    return lrs


def test_poly_schedule_reaches_zero_and_groups_scale(tmp_path):
    seen = []

    def recording_loss(model, batch, epoch):
        seen.append(epoch)
        return loss_fn(model, batch, epoch)

    torch.manual_seed(123)
    trainer = Trainer(TinyNet(), recording_loss, make_item, 10, CONFIG, tmp_path / "work", fingerprint="x")
    lrs = fit_recording_lrs(trainer)
    assert len(lrs) == trainer.max_steps == 6
    assert seen == [0, 0, 1, 1, 2, 2]   # the loss is told each step's epoch
    for step, group_lrs in enumerate(lrs):
        factor = (1 - step / 6) ** 0.9  # set before the update of step t (0-based)
        assert group_lrs == pytest.approx([0.1 * factor, 0.2 * factor, 1.0 * factor, 2.0 * factor])
    assert lrs[-1][0] == pytest.approx(0.1 * (1 / 6) ** 0.9) and lrs[-1][0] < lrs[0][0] / 4


def test_a_phase_factor_scales_the_schedule_without_touching_initial_lrs(tmp_path):
    # GETAM's phase 2 (from epoch 1 here): LR = initial × 0.1 × poly, a pure function of the step.
    trainer = Trainer(TinyNet(), loss_fn, make_item, 10, CONFIG, tmp_path / "work", fingerprint="x",
                      lr_scale=lambda epoch: 0.1 if epoch >= 1 else 1.0)
    initial = [g["initial_lr"] for g in trainer.optimizer.param_groups]
    lrs = fit_recording_lrs(trainer)
    assert [g["initial_lr"] for g in trainer.optimizer.param_groups] == initial
    for step, group_lrs in enumerate(lrs):
        scale = 0.1 if step // trainer.steps_per_epoch >= 1 else 1.0
        assert group_lrs == [base * scale * (1 - step / 6) ** 0.9 for base in initial]


def test_nan_loss_stops_with_step_and_images(tmp_path):
    def bad_loss(model, batch, epoch):
        return {"loss": model(batch["image"]).sum() * float("nan")}

    trainer = Trainer(TinyNet(), bad_loss, make_item, 10, CONFIG, tmp_path / "w")
    with pytest.raises(TrainingError, match=r"step 0 \(batch images \['img"):
        trainer.fit()


def test_late_nan_is_named_by_its_own_step(tmp_path):
    # Losses are read once per log interval (4 steps here); the error still names the step that broke.
    def late_nan(model, batch, epoch):
        loss = loss_fn(model, batch, epoch)["loss"]
        return {"loss": loss * float("nan") if "img3" in batch["id"] and epoch == 1 else loss}

    config = EngineConfig(epochs=3, batch_size=2, seed=3, num_workers=0, checkpoint_every=0, log_every=4)
    trainer = Trainer(TinyNet(), late_nan, make_item, 10, config, tmp_path / "w")
    with pytest.raises(TrainingError, match=r"loss 'loss' is nan at step (5|6|7|8|9) \(batch images .*img3"):
        trainer.fit()
    assert not (tmp_path / "w" / "last.pt").exists()  # nothing saved after the bad step


def test_changed_settings_do_not_resume(tmp_path):
    train(tmp_path, stop_after=2)
    torch.manual_seed(123)
    trainer = Trainer(TinyNet(), loss_fn, make_item, 10, CONFIG, tmp_path / "work", fingerprint="other")
    assert trainer.try_resume() is False


def test_epoch_batches_shard_the_global_batch():
    whole = list(EpochBatches(10, 4, seed=1, epoch=2))
    ranks = [list(EpochBatches(10, 4, seed=1, epoch=2, rank=r, world_size=2)) for r in range(2)]
    for b, batch in enumerate(whole):
        assert sorted(ranks[0][b] + ranks[1][b]) == sorted(batch)
    assert list(EpochBatches(10, 4, seed=1, epoch=2, start_batch=1)) == whole[1:]
    assert whole != list(EpochBatches(10, 4, seed=1, epoch=3))


def test_dvclive_scalars_written(tmp_path):
    train(tmp_path)
    loss_file = tmp_path / "live" / "plots" / "metrics" / "train" / "loss.tsv"
    rows = loss_file.read_text().splitlines()
    assert rows[0].split("\t") == ["step", "loss"] and len(rows) == 1 + 3
    assert [int(r.split("\t")[0]) for r in rows[1:]] == [2, 4, 6]


class Killed(Exception):
    """Stands in for the process being killed in the middle of a step."""


def killed_at(steps_done: int):
    calls = {"n": 0}

    def loss(model, batch, epoch):
        if calls["n"] == steps_done:
            raise Killed
        calls["n"] += 1
        return loss_fn(model, batch, epoch)

    return loss


def curves(live_dir):
    folder = live_dir / "plots" / "metrics" / "train"
    return {p.name: p.read_text() for p in sorted(folder.glob("*.tsv"))}


@pytest.mark.parametrize("steps_done", [4, 5, 6, 7, 11])
def test_resume_after_a_kill_equals_the_uninterrupted_run(tmp_path, steps_done):
    # 10 items in batches of 2: 5 steps per epoch, 15 in all; a checkpoint every 3 steps and a logged
    # row every 2, so kills land mid-epoch (4, 7, 11), at an epoch end (5), right after a checkpoint (7)
    # and at one (6).
    config = EngineConfig(epochs=3, batch_size=2, seed=3, num_workers=0, checkpoint_every=3, log_every=2,
                          optim=OptimConfig(lr=0.1, momentum=0.9))

    def run(tmp, loss):
        torch.manual_seed(123)
        trainer = Trainer(TinyNet(), loss, make_item, 10, config, tmp / "work", tmp / "live", fingerprint="x")
        return trainer.fit()

    straight = run(tmp_path / "a", loss_fn)
    with pytest.raises(Killed):
        run(tmp_path / "b", killed_at(steps_done))
    resumed = run(tmp_path / "b", loss_fn)
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    # Every logged row survives the resume, with the same values as the uninterrupted run.
    assert curves(tmp_path / "b" / "live") == curves(tmp_path / "a" / "live")
    assert len(curves(tmp_path / "a" / "live")["loss.tsv"].splitlines()) == 1 + 8


def test_training_state_is_plain_data(tmp_path):
    # A training state holds only tensors and plain values, so it loads with weights_only=True.
    train(tmp_path, stop_after=2)
    state = torch.load(tmp_path / "work" / "last.pt", weights_only=True)
    assert state["step"] == 2 and state["numpy_rng"]["keys"].shape == (624,)
