"""The training engine: devices, bf16 autocast and channels_last on CUDA, DDP (torchrun), the poly
schedule, checkpoints with exact resume, seeding, progress (images/s, ETA), DVCLive scalars, and a
stop with a clear message on a non-finite loss.

A method supplies a model with ``parameter_groups()`` and a loss (:class:`wsss.losses.TrainingLoss`:
``loss_fn(model, batch, epoch) -> dict``) whose ``"loss"`` entry is optimised; the other entries are logged.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from wsss import io
from wsss.config import EngineConfig
from wsss.devices import resolve_device
from wsss.errors import WsssError, import_pipeline_package
from wsss.losses import TrainingLoss
from wsss.models.checkpoint import load_plain
from wsss.progress import progress
from wsss.train.data import AugmentedDataset, EpochBatches, collate
from wsss.train.optim import build_optimizer, set_scheduled_lr
from wsss.world import launch_world

log = logging.getLogger(__name__)


class TrainingError(WsssError):
    """Training cannot go on (e.g. the loss became NaN or infinite)."""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


@contextlib.contextmanager
def cudnn_benchmark(on: bool) -> Iterator[None]:
    """cuDNN's kernel search on inside the block (when ``on``), the previous setting after it."""
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = previous or on
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


def init_distributed(device: torch.device) -> DistributedContext:
    """Join the process group torchrun set up (WORLD_SIZE > 1), else a single-process context."""
    world = launch_world()
    if world.size <= 1:
        return DistributedContext()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(world.local_rank)
    return DistributedContext(dist.get_rank(), dist.get_world_size(), world.local_rank)


class Trainer:
    """Runs ``epochs`` over a dataset built by ``make_item(index, rng)``; checkpoints to ``work_dir``."""

    def __init__(self, model: nn.Module, loss_fn: TrainingLoss, make_item: Callable, num_items: int,
                 config: EngineConfig, work_dir: str | Path, live_dir: str | Path | None = None,
                 fingerprint: str = "", lr_scale: Callable[[int], float] | None = None) -> None:
        self.config = config
        # A saved state is resumed only by the run that wrote it (same params, same data).
        self.fingerprint = fingerprint
        self.lr_scale = lr_scale  # epoch → factor on the scheduled LR (GETAM's phase 2)
        self.device = resolve_device(config.device)
        self.dist = init_distributed(self.device)
        if self.dist.world_size > 1 and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        if config.batch_size % self.dist.world_size:
            raise WsssError(f"batch size {config.batch_size} is not divisible by {self.dist.world_size} ranks")
        self.loss_fn = loss_fn
        self.work_dir = Path(work_dir)
        self.live_dir = Path(live_dir) if live_dir else None
        self.dataset = AugmentedDataset(num_items, make_item, config.seed)
        self.num_items = num_items
        self.steps_per_epoch = num_items // config.batch_size
        if self.steps_per_epoch == 0:
            raise WsssError(f"{num_items} training images are fewer than one batch of {config.batch_size}")
        self.max_steps = self.steps_per_epoch * config.epochs
        seed_everything(config.seed)
        self.model = model.to(self.device)
        if self.device.type == "cuda" and config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = build_optimizer(model.parameter_groups(), config.optim)
        self.train_model: nn.Module = self.model
        if self.dist.world_size > 1:
            # The siamese methods call the model twice per step: a static graph lets DDP handle that.
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.train_model = nn.parallel.DistributedDataParallel(self.model, device_ids=ids, static_graph=True)
        if config.compile:
            # One static graph per input shape: a siamese step sees two shapes, and dynamic-shape
            # tracing of the dilated networks fails in inductor.
            self.train_model = torch.compile(self.train_model, dynamic=False)
        self.autocast_dtype = self._autocast_dtype()
        self.step = 0
        self.running: dict[str, float] = {}
        self.history: list[tuple[int, dict[str, float]]] = []

    def _autocast_dtype(self) -> torch.dtype | None:
        precision = self.config.precision
        if precision == "fp32" or (precision == "auto" and self.device.type != "cuda"):
            return None
        if precision in ("bf16", "auto"):
            return torch.bfloat16
        raise WsssError(f"precision {precision!r} is not one of auto, fp32, bf16")

    # ------------------------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Path:
        return self.work_dir / "last.pt"

    def save_checkpoint(self) -> None:
        if not self.dist.is_main:
            return
        state = {
            "format": "wsss-train-state-v1",
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "numpy_rng": _numpy_rng_state(),
            "python_rng": random.getstate(),
            "max_steps": self.max_steps,
            "fingerprint": self.fingerprint,
            # Losses summed since the last logged row, and every logged row: a resumed run logs the
            # same curve as an uninterrupted one, and rewrites the rows DVC removed before rerunning.
            "running": dict(self.running),
            "history": [[step, dict(row)] for step, row in self.history],
        }
        io.save_torch(self.checkpoint_path, state)

    def try_resume(self) -> bool:
        if not self.checkpoint_path.is_file():
            return False
        state = load_plain(self.checkpoint_path, "training state")
        if not isinstance(state, dict) or state.get("format") != "wsss-train-state-v1":
            raise WsssError(f"{self.checkpoint_path}: not a wsss training state")
        if state["max_steps"] != self.max_steps or state.get("fingerprint") != self.fingerprint:
            log.warning("%s was saved by a run with other settings; starting over", self.checkpoint_path)
            return False
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        _set_numpy_rng_state(state["numpy_rng"])
        random.setstate(state["python_rng"])
        self.step = state["step"]
        self.running = dict(state.get("running", {}))
        self.history = [(step, dict(row)) for step, row in state.get("history", [])]
        log.info("resumed from %s at step %d/%d", self.checkpoint_path, self.step, self.max_steps)
        return True

    # ---------------------------------------------------------------------------------- loop
    def _loader(self, epoch: int, start_batch: int):
        sampler = EpochBatches(self.num_items, self.config.batch_size, self.config.seed, epoch, start_batch,
                               self.dist.rank, self.dist.world_size)
        # The loader's own generator: without it each new iterator draws its base seed from the global
        # RNG, so a resume in mid-epoch (one extra iterator) shifted dropout and every later draw.
        generator = torch.Generator().manual_seed(self.config.seed * 100_003 + epoch)
        return torch.utils.data.DataLoader(
            self.dataset, batch_sampler=sampler, num_workers=self.config.num_workers, collate_fn=collate,
            pin_memory=self.device.type == "cuda", persistent_workers=False, generator=generator,
        )

    def _to_device(self, batch: dict) -> dict:
        out = {}
        for key, value in batch.items():
            if isinstance(value, torch.Tensor):
                value = value.to(self.device, non_blocking=True)
                if value.ndim == 4 and self.device.type == "cuda" and self.config.channels_last:
                    value = value.contiguous(memory_format=torch.channels_last)
            out[key] = value
        return out

    def fit(self, resume: bool = True, stop_after: int | None = None) -> nn.Module:
        """Train to the end (or ``stop_after`` steps in total, for tests); returns the model."""
        # Fixed crop sizes: cuDNN picks the fastest kernels once; the process's setting is put back after.
        with cudnn_benchmark(self.device.type == "cuda"):
            return self._fit(resume, stop_after)

    def _fit(self, resume: bool, stop_after: int | None) -> nn.Module:
        if resume:
            self.try_resume()
        live = self._open_live()
        self.model.train()
        end = self.max_steps if stop_after is None else min(stop_after, self.max_steps)
        bar = progress(range(self.step, end), total=end - self.step, desc="train", unit="img",
                       unit_scale=self.config.batch_size)
        bar_iter = iter(bar)
        running = self.running
        pending: list[tuple[int, object, dict[str, torch.Tensor]]] = []
        # About 20 loss lines per run in the log, on logged steps.
        report_every = self.config.log_every * max(1, round(self.max_steps / self.config.log_every / 20))
        while self.step < end:
            epoch, start_batch = divmod(self.step, self.steps_per_epoch)
            for batch in self._loader(epoch, start_batch):
                if self.step >= end:
                    break
                pending.append((self.step, batch.get("id", "?"), self._train_step(self._to_device(batch), epoch)))
                self.step += 1
                next(bar_iter, None)
                logging_step = self.step % self.config.log_every == 0 or self.step == end
                checkpoint_step = bool(self.config.checkpoint_every) and self.step % self.config.checkpoint_every == 0
                if logging_step or checkpoint_step:
                    for key, value in self._read_losses(pending).items():
                        running[key] = running.get(key, 0.0) + value
                if logging_step:
                    count = self.config.log_every if self.step % self.config.log_every == 0 else self.step % self.config.log_every
                    row = {f"train/{key}": total / max(1, count) for key, total in running.items()}
                    row["train/lr"] = self.optimizer.param_groups[0]["lr"]
                    self.history.append((self.step, row))
                    self._log_row(live, self.step, row)
                    if self.step % report_every == 0 or self.step == self.max_steps:
                        log.info("step %d/%d: %s", self.step, self.max_steps,
                                 ", ".join(f"{k.removeprefix('train/')} {v:.4g}" for k, v in row.items()))
                    running.clear()
                if checkpoint_step:
                    self.save_checkpoint()
        next(bar_iter, None)  # closes the bar, which prints its final count
        if self.step == self.max_steps or stop_after is not None:
            self._read_losses(pending)
            self.save_checkpoint()
        if live is not None:
            live.end()
        return self.model

    def final_loss(self, key: str = "loss") -> float | None:
        """The last logged mean of a loss (None before the first logged row)."""
        return self.history[-1][1].get(f"train/{key}") if self.history else None

    @staticmethod
    def _read_losses(pending: list[tuple[int, object, dict[str, torch.Tensor]]]) -> dict[str, float]:
        """Sums of the pending steps' losses, read with one device sync (reading every step would stall
        the GPU each step); a NaN/inf loss stops the run naming its step and batch images."""
        totals: dict[str, float] = {}
        if not pending:
            return totals
        flat = torch.cat([torch.stack([v.float().reshape(()) for v in values.values()])
                          for _, _, values in pending]).cpu().tolist()
        position = 0
        for step, ids, values in pending:
            for key in values:
                number = flat[position]
                position += 1
                if not math.isfinite(number):
                    raise TrainingError(f"loss {key!r} is {number} at step {step} (batch images {ids})")
                totals[key] = totals.get(key, 0.0) + number
        pending.clear()
        return totals

    def _train_step(self, batch: dict, epoch: int) -> dict[str, torch.Tensor]:
        scale = self.lr_scale(self.step // self.steps_per_epoch) if self.lr_scale is not None else 1.0
        set_scheduled_lr(self.optimizer, self.config.optim, self.step, self.max_steps, self.steps_per_epoch, scale)
        with torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.float32,
                            enabled=self.autocast_dtype is not None):
            losses = self.loss_fn(self.train_model, batch, epoch)
        self.optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        self.optimizer.step()
        return {key: value.detach() for key, value in losses.items()}

    def _open_live(self):
        if self.live_dir is None or not self.dist.is_main:
            return None
        Live = import_pipeline_package("dvclive", "logging training to a live folder").Live

        # Always a fresh log, with the rows of the run so far replayed: DVC deletes the outputs before
        # rerunning a stage, so the rows written before an interruption exist only in the saved state.
        live = Live(dir=str(self.live_dir), resume=False, save_dvc_exp=False, dvcyaml=None, report=None)
        for step, row in self.history:
            self._log_row(live, step, row)
        return live

    @staticmethod
    def _log_row(live, step: int, row: dict[str, float]) -> None:
        if live is None:
            return
        live.step = step
        for key, value in row.items():
            live.log_metric(key, value)
        live.next_step()


def _numpy_rng_state() -> dict:
    """numpy's global RNG state as tensors and numbers (a training state holds no pickled objects)."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(position),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def _set_numpy_rng_state(state: dict) -> None:
    np.random.set_state((state["name"], state["keys"].numpy().astype(np.uint32), state["pos"],
                         state["has_gauss"], state["cached_gaussian"]))
