"""The training skeleton every method runs: seed → build → items → trainer → fit → save.

A method supplies its spec (which names the model kind), its item maker and its loss; seeding,
building, resuming, logging and saving happen here, in this order for every method (the seeded head
initialisation and the loader's random streams depend on it).
"""

from __future__ import annotations

import hashlib
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from torch import nn

from wsss.losses import TrainingLoss
from wsss.models.zoo import build_model, save_model
from wsss.train.engine import Trainer, seed_everything

log = logging.getLogger(__name__)


def train_model(spec, params, make_items: Callable, loss: TrainingLoss, out_path: str | Path,
                work_dir: str | Path, live_dir: str | Path | None = None, *, what: str,
                fingerprint_extra: tuple = (), prepare_model: Callable[[nn.Module], None] | None = None,
                lr_scale: Callable[[int], float] | None = None, extra: dict | None = None) -> Trainer:
    """Train a fresh network of ``spec``'s kind with ``params`` (a section with ``weights`` and
    ``engine``) and save it to ``out_path`` (main process).

    ``make_items(mean, std)``: the picklable item maker (with ``ids``); ``loss``: the method's
    training loss; ``prepare_model(model)``: a seeded change to the fresh network; ``lr_scale(epoch)``: a
    factor on the scheduled LR. A saved state in ``work_dir`` is resumed only by a run with the same
    params, images, ``fingerprint_extra`` and project code.
    """
    seed_everything(params.engine.seed)  # head initialisation is part of the seeded run
    model = build_model(spec, params.weights or None)
    if prepare_model is not None:
        prepare_model(model)
    items = make_items(model.backbone.mean, model.backbone.std)
    fingerprint = hashlib.sha256(
        repr((asdict(params), items.ids, *fingerprint_extra, project_code_digest())).encode()).hexdigest()
    trainer = Trainer(model, loss, items, len(items.ids), params.engine, work_dir, live_dir,
                      fingerprint=fingerprint, lr_scale=lr_scale)
    log.info("training %s on %d images for %d steps (device %s)", what, trainer.num_items, trainer.max_steps,
             trainer.device)
    model = trainer.fit(resume=True)
    if trainer.dist.is_main:
        save_model(out_path, model, spec, {"steps": trainer.max_steps, **(extra or {})})
    return trainer


def project_code_digest() -> str:
    """SHA-256 over the source of the whole ``wsss`` package and of the ``stages`` modules this process
    has imported, so that a training state left by a killed run is not resumed after the code changed."""
    package = Path(__file__).resolve().parents[1]
    files = {f"wsss/{path.relative_to(package).as_posix()}": path for path in package.rglob("*.py")}
    for key, module in list(sys.modules.items()):
        name = getattr(getattr(module, "__spec__", None), "name", None) or key  # a stage runs as __main__
        source = getattr(module, "__file__", None)
        if name.split(".")[0] == "stages" and source and source.endswith(".py"):
            files[name] = Path(source)
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    return digest.hexdigest()
