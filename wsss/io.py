"""Every artifact format of the project, written atomically (temporary file, then rename).

Formats: RGB images, palette label PNGs (255 = ignore), grey-scale maps (saliency), localisation-map
shards (float16 maps of the present classes), metrics JSON, plot CSV, checkpoints with metadata.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from wsss.palette import IGNORE_INDEX, voc_palette
from wsss.errors import DataError
from wsss.safe_pickle import load_npy_object


@functools.lru_cache(maxsize=1)
def file_mode() -> int:
    """0666 minus the process umask: what ``open`` would give a new file (mkstemp gives 0600). Read
    from /proc where it exists, so the process umask is never flipped, and only on the first write."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, file_mode())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def save_torch(path: str | os.PathLike, obj) -> None:
    """``torch.save`` atomically and reproducibly: given a path, torch names the archive's records after
    the (random) temporary file, so equal weights gave different bytes and DVC reran every later stage
    after an identical retraining; through a file handle the records are always ``archive/``."""
    import torch

    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(obj, handle)


# ---------------------------------------------------------------------------------------------- images


def read_image(path: str | os.PathLike) -> np.ndarray:
    """An RGB image as H×W×3 uint8; a missing or undecodable file raises DataError naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: image file not found")
    try:
        with Image.open(path) as image:
            return as_rgb(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise DataError(f"{path}: cannot decode image ({error})") from error


def as_rgb(image: Image.Image) -> np.ndarray:
    """H×W×3 uint8 as a viewer shows the file: EXIF orientation applied, grey/CMYK/palette converted,
    alpha dropped, 16/32-bit grey scaled to 8 bits (PIL's own conversion would clip it at 255)."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(image).astype(np.int64)
        peak = 65535 if image.mode.startswith("I;16") or wide.max() > 255 else 255
        grey = (wide.clip(0, peak) * 255 // peak).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    return np.asarray(image.convert("RGB"))


def encode_jpeg(image: np.ndarray, quality: int = 95) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def write_jpeg(path: str | os.PathLike, image: np.ndarray, quality: int = 95) -> None:
    write_bytes(path, encode_jpeg(image, quality))


def read_label_png(path: str | os.PathLike, num_classes: int | None = None) -> np.ndarray:
    """A label map as H×W uint8 (palette indices). Values outside {0..C−1, 255} raise DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: label PNG not found")
    try:
        with Image.open(path) as image:
            if image.mode not in ("P", "L"):
                raise DataError(f"{path}: label PNG must be palette or grey-scale, found mode {image.mode}")
            label = np.asarray(image)
    except (UnidentifiedImageError, OSError) as error:
        raise DataError(f"{path}: cannot decode label PNG ({error})") from error
    if num_classes is not None:
        check_label_values(label, num_classes, path)
    return label


def check_label_values(label: np.ndarray, num_classes: int, source: object) -> None:
    values = np.unique(label)
    bad = values[(values >= num_classes) & (values != IGNORE_INDEX)]
    if bad.size:
        raise DataError(
            f"{source}: label values {bad.tolist()} are outside 0..{num_classes - 1} and 255 (ignore)"
        )


def encode_label_png(label: np.ndarray) -> bytes:
    if label.dtype != np.uint8 or label.ndim != 2:
        raise ValueError(f"label maps are 2-D uint8, got {label.dtype} {label.shape}")
    image = Image.fromarray(label, mode="P")
    image.putpalette(voc_palette().reshape(-1).tolist())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def write_label_png(path: str | os.PathLike, label: np.ndarray) -> None:
    write_bytes(path, encode_label_png(label))


def read_grey_png(path: str | os.PathLike) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: map PNG not found")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"))
    except (UnidentifiedImageError, OSError) as error:
        raise DataError(f"{path}: cannot decode PNG ({error})") from error


def write_grey_png(path: str | os.PathLike, grey: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(grey.astype(np.uint8), mode="L").save(buffer, format="PNG")
    write_bytes(path, buffer.getvalue())


# ------------------------------------------------------------------------------------ sharded outputs


def shard_of(image_id: str, num_shards: int) -> int:
    """A stable shard number for an image id (crc32, so it never depends on list order or Python hashing)."""
    return zlib.crc32(image_id.encode("utf-8")) % num_shards


def cam_shard_file(root: Path, shard: int) -> Path:
    """The npz file of one shard of a localisation-map folder."""
    return root / f"shard-{shard:04d}.npz"


def label_map_path(root: str | os.PathLike, image_id: str, num_shards: int = 64) -> Path:
    """Label maps live in ``root/<shard>/<id>.png`` so no folder holds more than a few hundred files."""
    return Path(root) / f"{shard_of(image_id, num_shards):03d}" / f"{image_id}.png"


def find_label_map(root: str | os.PathLike, image_id: str) -> Path:
    """Locate a label map in a sharded folder or, for interop, a flat one."""
    root = Path(root)
    sharded = label_map_path(root, image_id)
    if sharded.is_file():
        return sharded
    flat = root / f"{image_id}.png"
    if flat.is_file():
        return flat
    raise DataError(f"{root}: no label map for image {image_id!r} (looked in shard folders and flat)")


class CamShardWriter:
    """Writes localisation maps into ``root/shard-XXXX.npz`` files, each holding many images.

    An image is stored as ``<id>/classes`` (int16 class indices) and ``<id>/maps`` (float16, K×H×W in
    [0, 1]). For CAMs the indices are 0-based foreground classes; for CRF probabilities they are label
    ids (0 = background). A shard is written atomically when the writer moves to another shard or
    closes, so memory holds one shard and a crash never leaves a half shard. Feed images sorted by
    :func:`shard_of` (``sorted_by_shard``); a shard revisited later is merged, not lost. Ranks of a
    multi-process run own disjoint shards (``shard % world_size == rank``).
    """

    def __init__(self, root: str | os.PathLike, num_shards: int) -> None:
        self.root = Path(root)
        self.num_shards = num_shards
        self._current: int | None = None
        self._buffer: dict[str, np.ndarray] = {}
        self._written: set[int] = set()

    def __enter__(self) -> "CamShardWriter":
        self.root.mkdir(parents=True, exist_ok=True)
        write_text(self.root / "index.json", json.dumps({"format": "wsss-cams-v1", "num_shards": self.num_shards}))
        return self

    def write(self, image_id: str, classes: np.ndarray, maps: np.ndarray) -> None:
        classes = np.asarray(classes, dtype=np.int16).reshape(-1)
        maps = np.asarray(maps)
        if maps.ndim != 3 or maps.shape[0] != classes.size:
            raise ValueError(f"{image_id}: maps {maps.shape} do not match {classes.size} classes")
        shard = shard_of(image_id, self.num_shards)
        if shard != self._current:
            self._flush()
            self._current = shard
            if shard in self._written:
                with np.load(self._path(shard)) as existing:
                    self._buffer = {key: existing[key] for key in existing.files}
        self._buffer[f"{image_id}/classes"] = classes
        self._buffer[f"{image_id}/maps"] = np.clip(maps, 0.0, 1.0).astype(np.float16)

    def _path(self, shard: int) -> Path:
        return cam_shard_file(self.root, shard)

    def _flush(self) -> None:
        if self._current is None or not self._buffer:
            return
        with atomic_path(self._path(self._current)) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **self._buffer)
        self._written.add(self._current)
        self._buffer = {}

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._flush()


def sorted_by_shard(ids: list[str], num_shards: int) -> list[str]:
    return sorted(ids, key=lambda i: (shard_of(i, num_shards), i))


class CamShardReader:
    """Random access to a folder written by CamShardWriter."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        index = self.root / "index.json"
        if not index.is_file():
            raise DataError(f"{self.root}: not a localisation-map folder (index.json missing)")
        meta = read_json(index)
        if not isinstance(meta, dict) or not isinstance(meta.get("num_shards"), int) or meta["num_shards"] < 1:
            raise DataError(f"{index}: no positive integer 'num_shards'")
        self.num_shards = meta["num_shards"]
        self._open: dict[int, Mapping[str, np.ndarray]] = {}

    def _shard(self, image_id: str) -> Mapping[str, np.ndarray]:
        shard = shard_of(image_id, self.num_shards)
        if shard not in self._open:
            path = cam_shard_file(self.root, shard)
            if not path.is_file():
                raise DataError(f"{path}: shard missing (needed for image {image_id!r})")
            try:
                self._open[shard] = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as error:
                raise DataError(f"{path}: not a localisation-map shard ({error})") from None
        return self._open[shard]

    def missing(self, ids: Iterable[str]) -> list[str]:
        """The ids with no maps here (a missing shard file counts as missing maps)."""
        return [i for i in ids if not cam_shard_file(self.root, shard_of(i, self.num_shards)).is_file()
                or f"{i}/classes" not in self._shard(i).files]

    def read(self, image_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(classes, maps): 0-based fg class indices and K×H×W float32 maps."""
        shard = self._shard(image_id)
        key = f"{image_id}/classes"
        if key not in shard.files:
            raise DataError(f"{self.root}: no localisation maps for image {image_id!r}")
        try:
            return shard[key].astype(np.int64), shard[f"{image_id}/maps"].astype(np.float32)
        except (OSError, ValueError, KeyError) as error:  # object arrays are refused, not unpickled
            path = cam_shard_file(self.root, shard_of(image_id, self.num_shards))
            raise DataError(f"{path}: unreadable maps for image {image_id!r} ({error})") from None


def export_cam_npy(path: str | os.PathLike, classes: np.ndarray, maps: np.ndarray) -> None:
    """The original SEAM/psa format: a pickled dict {0-based class: float32 H×W map}."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, {int(c): m.astype(np.float32) for c, m in zip(classes, maps)})


def import_cam_npy(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a SEAM/psa CAM dict; pickled objects other than arrays and numbers are refused."""
    path = Path(path)
    table = load_npy_object(path)
    if not isinstance(table, dict) or not all(isinstance(c, (int, np.integer)) for c in table):
        raise DataError(f"{path}: not a CAM .npy dict {{class index: map}}")
    classes = np.array(sorted(table), dtype=np.int64)
    if classes.size == 0:
        raise DataError(f"{path}: CAM dict is empty")
    return classes, np.stack([np.asarray(table[c], dtype=np.float32) for c in classes])


# ------------------------------------------------------------------------------------- metrics, plots


def write_json(path: str | os.PathLike, data: object) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> object:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: invalid JSON ({error})") from error


def write_csv(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as CSV atomically (no index column)."""
    write_text(path, frame.to_csv(index=False, lineterminator="\n"))
