"""Turn a data source (demo, VOC, custom folder) into a dataset index folder."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from wsss.config import PrepareParams
from wsss.data.check import check_index
from wsss.data.dataset import Dataset
from wsss.data.demo import DEMO_CLASSES, generate_demo
from wsss.data.folder import index_folder
from wsss.data.saliency import write_builtin_saliency
from wsss.data.sources import BUILTIN_SALIENCY
from wsss.data.voc import index_voc
from wsss.errors import ConfigError

log = logging.getLogger(__name__)


def prepare_dataset(params: PrepareParams, out_dir: str | Path, extra_files: dict[str, str | Path] | None = None
                    ) -> dict[str, int]:
    """Write the index (and, for the demo, the images) into a fresh ``out_dir``; returns split sizes.
    ``extra_files`` (name in the index → file) are copied in, e.g. the source fingerprint.

    Everything is built in a sibling temporary folder and swapped in at the end, so a failure leaves
    the previous output untouched.
    """
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        sizes = _build(params, tmp)
        if builtin_saliency(params):
            write_builtin_saliency(tmp)
        dropped = set(check_index(tmp, params.bad_images, params.check_workers))
        if dropped:
            sizes = {name: len(Dataset(tmp).ids(name)) for name in sizes}
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, tmp / name)
        old = out_dir.with_name(f".{out_dir.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
        return sizes
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def builtin_saliency(params: PrepareParams) -> bool:
    """Whether the source asks for the built-in saliency maps (``saliency: builtin``)."""
    setting = {"voc": params.voc.saliency_dir, "folder": params.folder.saliency}.get(params.source, "")
    return setting == BUILTIN_SALIENCY


def external_saliency(setting: str) -> str | None:
    return setting if setting and setting != BUILTIN_SALIENCY else None


def _build(params: PrepareParams, out_dir: Path) -> dict[str, int]:
    if params.source == "demo":
        generate_demo(out_dir / "demo", params.demo)
        return index_voc(
            out_dir / "demo", out_dir, labels_from="masks", empty_labels=params.empty_labels,
            class_names=list(DEMO_CLASSES), saliency_dir=out_dir / "demo" / "Saliency", relative_to=out_dir,
        )
    if params.source == "voc":
        if not params.voc.root:
            raise ConfigError("prepare.voc.root is empty: set it to your VOCdevkit/VOC2012 folder")
        return index_voc(
            params.voc.root, out_dir, sbd_dir=params.voc.sbd_lists or None, labels_from=params.voc.labels_from,
            empty_labels=params.empty_labels, saliency_dir=external_saliency(params.voc.saliency_dir),
            holdout=params.voc.holdout,
        )
    if params.source == "folder":
        f = params.folder
        if not (f.images and f.labels_csv and f.classes):
            raise ConfigError("prepare.folder needs images, labels_csv and classes")
        return index_folder(
            f.images, f.labels_csv, f.classes, out_dir, mask_dir=f.masks or None,
            saliency_dir=external_saliency(f.saliency), empty_labels=params.empty_labels,
        )
    raise ConfigError(f"prepare.source {params.source!r} is not one of demo, voc, folder")
