"""Which files a data source reads, and a content fingerprint of them.

DVC only sees files listed as deps, and a VOC root or custom folder lives outside the repository and
is named by params. The ``source`` stage therefore writes this fingerprint on every run; ``prepare``
depends on it (rerunning when an image, mask, label table, list or saliency map changed) and copies
it into the index, so every later stage reruns too. File digests are cached by (size, mtime, inode),
as DVC caches its own, so an unchanged VOC costs a directory walk, not a re-read of 2 GB.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from wsss import io
from wsss.config import PrepareParams

# The saliency setting (prepare.voc.saliency_dir, prepare.folder.saliency) that asks prepare for the
# built-in maps (wsss.data.saliency) instead of reading a folder.
BUILTIN_SALIENCY = "builtin"

VOC_FOLDERS = ("JPEGImages", "SegmentationClass", "SegmentationClassAug", "Annotations", "ImageSets/Segmentation")


def source_paths(params: PrepareParams) -> list[Path]:
    """The files and folders the source reads (the demo reads none: it is generated from params)."""
    if params.source == "voc":
        root = Path(params.voc.root)
        paths = [root / folder for folder in VOC_FOLDERS]
        if params.voc.sbd_lists:
            paths += [Path(params.voc.sbd_lists) / "train.txt", Path(params.voc.sbd_lists) / "val.txt"]
        if params.voc.saliency_dir and params.voc.saliency_dir != BUILTIN_SALIENCY:
            paths.append(Path(params.voc.saliency_dir))
        return paths
    if params.source == "folder":
        f = params.folder
        return [Path(p) for p in (f.images, f.labels_csv, f.classes, f.masks, f.saliency) if p and p != BUILTIN_SALIENCY]
    return []


def _file_digest(path: Path, cache: dict) -> str:
    stat = path.stat()
    key = str(path.resolve())
    signature = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    cached = cache.get(key)
    if cached and cached[0] == signature:
        return cached[1]
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    cache[key] = [signature, digest.hexdigest()]
    return digest.hexdigest()


def fingerprint(params: PrepareParams, cache_file: str | Path | None = None) -> dict:
    """{"source": name, "paths": {path: {"files": n, "md5": digest over (relative name, file md5)}}};
    a path that does not exist is recorded as missing (prepare then reports it)."""
    cache_file = Path(cache_file) if cache_file else None
    cache = json.loads(cache_file.read_text()) if cache_file and cache_file.is_file() else {}
    paths: dict[str, dict] = {}
    for path in source_paths(params):
        if path.is_file():
            files = [(path.name, path)]
        elif path.is_dir():
            files = sorted((str(p.relative_to(path)), p) for p in path.rglob("*") if p.is_file())
        else:
            paths[str(path)] = {"missing": True}
            continue
        combined = hashlib.md5()
        for name, file in files:
            combined.update(f"{name}\0{_file_digest(file, cache)}\n".encode())
        paths[str(path)] = {"files": len(files), "md5": combined.hexdigest()}
    if cache_file:
        io.write_text(cache_file, json.dumps(cache))
    return {"source": params.source, "paths": paths}


def describe(digest: dict) -> str:
    """One line: how many files each source path holds."""
    counts = [f"{p}: {v['files']} file{'' if v['files'] == 1 else 's'}" if "files" in v else f"{p}: missing"
              for p, v in digest["paths"].items()]
    return ", ".join(counts) or "no external files"
