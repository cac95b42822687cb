"""Segment images with a trained DeepLab network: multi-scale + flip test, optional dense CRF.

Used by the ``infer_seg`` stage (a dataset split → sharded label PNGs) and by ``wsss predict``
(arbitrary files or folders → label PNGs and colour overlays).
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from wsss import io
from wsss.cams.multiscale import host_views, normalised_views, scaled_image
from wsss.config import InferSegParams
from wsss.errors import ConfigError, DataError
from wsss.inference import load_for_inference, split_share
from wsss.models.classifier import KIND as CLASSIFIER
from wsss.models.deeplab import KIND as SEGMENTER
from wsss.models.registry import ModelKind
from wsss.progress import default_workers, prefetched, progress, single_threaded_worker
from wsss.refine.crf import CRF_PRESETS, crf_placement, dense_crf

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def segmentation_views(image: np.ndarray, scales, sizes, device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """The host-side half of :func:`multiscale_probs` (run it in a prefetch thread): the image scaled
    by each of ``scales`` (bicubic), or resized to each size × size (bilinear, aspect not kept:
    GETAM's test) when ``sizes`` is given; uint8."""
    if sizes:
        resized = [np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR)) for size in sizes]
    else:
        resized = [scaled_image(image, scale) for scale in scales]
    return host_views(resized, device)


@torch.no_grad()
def multiscale_probs(model, image: np.ndarray, scales=(1.0,), flip: bool = True, average: str = "probs",
                     device: torch.device | str = "cpu", autocast_dtype: torch.dtype | None = None,
                     sizes=(), views: list[torch.Tensor] | None = None) -> np.ndarray:
    """C×H×W class probabilities: every view's logits upsampled to the image (``align_corners=False``),
    un-flipped, and averaged as probabilities (``probs``) or as logits before one softmax (``logits``).
    Views are the image scaled by each of ``scales``, or, when ``sizes`` is given, resized to each
    size × size; ``views`` are :func:`segmentation_views` prepared ahead (by default made here)."""
    if average not in ("probs", "logits"):
        raise ConfigError(f"average {average!r} is not one of probs, logits")
    device = torch.device(device)
    h, w = image.shape[:2]
    if views is None:
        views = segmentation_views(image, scales, sizes, device)
    total, count = None, 0
    for view in views:
        batch = normalised_views(view, model.backbone.mean, model.backbone.std, flip, device)
        with torch.autocast(device.type, dtype=autocast_dtype or torch.float32, enabled=autocast_dtype is not None):
            logits = model(batch)
        logits = F.interpolate(logits.float(), (h, w), mode="bilinear", align_corners=False)
        if flip:
            logits = torch.cat([logits[:1], logits[1:].flip(-1)])
        values = logits.softmax(1) if average == "probs" else logits
        total = values.sum(0) if total is None else total + values.sum(0)
        count += values.shape[0]
    mean = total / count
    return (mean if average == "probs" else mean.softmax(0)).cpu().numpy()


def reduced(image: np.ndarray, max_side: int) -> np.ndarray:
    """The image shrunk (PIL area filter) so its longer side is at most ``max_side`` (0: unchanged)."""
    h, w = image.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BOX))


def upsampled_argmax(probs: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Label map of size (H, W): the argmax over classes of the probabilities resized bilinearly
    (half-pixel centres, as ``align_corners=False``), one class at a time, so memory holds two float
    maps of the output instead of all C."""
    if probs.shape[1:] == tuple(size):
        return probs.argmax(0).astype(np.uint8)
    import cv2

    h, w = size
    label = np.zeros((h, w), np.uint8)
    best = cv2.resize(np.ascontiguousarray(probs[0], dtype=np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    for c in range(1, probs.shape[0]):
        channel = cv2.resize(np.ascontiguousarray(probs[c], dtype=np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        better = channel > best
        label[better] = c
        np.maximum(best, channel, out=best)
    return label


def gated(probs: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """C×H×W probabilities with the classes not ``seen`` removed and the rest renormalised."""
    kept = probs * seen[:, None, None]
    return kept / np.maximum(kept.sum(0, keepdims=True), 1e-12)


def _crf_argmax(item: tuple[np.ndarray, np.ndarray, tuple[int, int]], preset: str, backend: str,
                device: str) -> np.ndarray:
    single_threaded_worker()
    image, probs, size = item
    return upsampled_argmax(dense_crf(image, probs, CRF_PRESETS[preset], backend, device), size)


class SegmentationRunner:
    """A loaded network plus the test-time recipe; ``run(images)`` yields one label map per image."""

    def __init__(self, checkpoint: str | Path, params: InferSegParams, classifier: str | Path | None = None,
                 kinds: Sequence[ModelKind] = (SEGMENTER,)) -> None:
        """``classifier``: a classifier model file whose image-level scores gate the classes (classes it
        scores below ``params.class_threshold`` are not predicted); ``kinds``: the segmenting kinds the
        checkpoint may be (DeepLab; GETAM's end-to-end network where the caller imports it)."""
        if params.crf != "none" and params.crf not in CRF_PRESETS:
            raise ConfigError(f"crf {params.crf!r} is not 'none' or one of {sorted(CRF_PRESETS)}")
        self.params = params
        # Any kind whose network segments: images → background + class logits.
        loaded = load_for_inference(checkpoint, kinds, params.device, params.precision)
        self.model, self.spec, self.device, self.dtype = loaded.model, loaded.spec, loaded.device, loaded.dtype
        self.crf_device, self.crf_workers = crf_placement(params.crf_backend, params.device,
                                                          params.crf_workers or default_workers())
        self.classifier = None
        if classifier:
            self.classifier = load_for_inference(classifier, [CLASSIFIER], params.device, params.precision)
            named = tuple(getattr(self.classifier.spec, "class_names", ()))
            if named and named != tuple(self.spec.class_names):
                raise ConfigError(f"{classifier}: the classifier's classes differ from the segmenter's ({checkpoint})")

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.spec.class_names

    def probs(self, image: np.ndarray, views: list[torch.Tensor] | None = None) -> np.ndarray:
        p = self.params
        probs = multiscale_probs(self.model, image, p.scales, p.flip, p.average, self.device, self.dtype, p.sizes,
                                 views)
        return probs if self.classifier is None else gated(probs, self.seen_classes(image))

    @torch.no_grad()
    def seen_classes(self, image: np.ndarray) -> np.ndarray:
        """Boolean per label id: background, and each class the classifier scores ≥ ``class_threshold`` on
        the image and its mirror (at least its best class, so an image is never background only)."""
        loaded = self.classifier
        model = loaded.model
        view = host_views([image], loaded.device)[0]
        batch = normalised_views(view, model.backbone.mean, model.backbone.std, True, loaded.device)
        with torch.autocast(loaded.device.type, dtype=loaded.dtype or torch.float32, enabled=loaded.dtype is not None):
            scores = torch.sigmoid(model.image_logits(batch).float()).mean(0).cpu().numpy()
        seen = scores >= self.params.class_threshold
        seen[scores.argmax()] = True
        return np.concatenate([[True], seen])

    def _prepared(self, items: Iterable, load: Callable[..., np.ndarray]
                  ) -> Iterator[tuple[np.ndarray, np.ndarray, tuple[int, int]]]:
        """(image, probabilities, label size) per item; an image longer than ``params.max_side`` is
        segmented shrunk and its label map upsampled to the image. Loading and view preparation run
        in prefetch threads."""
        p = self.params

        def prepare(item):
            image = load(item)
            size = image.shape[:2]
            image = reduced(image, p.max_side)
            if image.shape[:2] != size:
                log.info("%d×%d image segmented at %d×%d (max_side %d), labels upsampled",
                         size[1], size[0], image.shape[1], image.shape[0], p.max_side)
            return image, size, segmentation_views(image, p.scales, p.sizes, self.device)

        for image, size, views in prefetched(prepare, items):
            yield image, self.probs(image, views), size

    def run(self, items: Iterable, load: Callable[..., np.ndarray] = lambda image: image) -> Iterator[np.ndarray]:
        """One label map per item, in order; ``load(item)`` gives the image (by default items are images)."""
        if self.params.crf == "none":
            for _, probs, size in self._prepared(items, load):
                yield upsampled_argmax(probs, size)
            return
        fn = functools.partial(_crf_argmax, preset=self.params.crf, backend=self.params.crf_backend,
                               device=self.crf_device)
        if self.crf_workers == 1:               # e.g. the torch CRF on the network's CUDA device
            for item in self._prepared(items, load):
                yield fn(item)
            return
        # The network runs here; CRFs of a chunk of images run in parallel processes.
        import multiprocessing

        chunk: list[tuple[np.ndarray, np.ndarray, tuple[int, int]]] = []
        with multiprocessing.get_context("spawn").Pool(self.crf_workers) as pool:
            for item in self._prepared(items, load):
                chunk.append(item)
                if len(chunk) == 2 * self.crf_workers:
                    yield from pool.map(fn, chunk)
                    chunk = []
            yield from pool.map(fn, chunk)


def infer_segmentation(index_dir: str | Path, checkpoint: str | Path, params: InferSegParams,
                       out_dir: str | Path, classifier: str | Path | None = None,
                       kinds: Sequence[ModelKind] = (SEGMENTER,)) -> int:
    """Label PNGs for every image of the split in a sharded folder (rank-sharded under torchrun);
    ``classifier`` and ``kinds``: see :class:`SegmentationRunner`."""
    runner = SegmentationRunner(checkpoint, params, classifier, kinds)
    share = split_share(index_dir, params.split, runner.class_names, checkpoint)
    mine = share.ids
    labels = runner.run(mine, share.dataset.read_image)
    for image_id, label in progress(zip(mine, labels), len(mine), desc=f"segment {params.split}"):
        io.write_label_png(io.label_map_path(out_dir, image_id), label)
    return len(mine)


def image_files(inputs: Iterable[str | Path]) -> list[tuple[Path, Path]]:
    """(file, name relative to its input) for image files given directly or found under folders."""
    found = []
    for entry in map(Path, inputs):
        if entry.is_dir():
            files = sorted(p for p in entry.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            found += [(p, p.relative_to(entry)) for p in files]
        elif entry.is_file():
            found.append((entry, Path(entry.name)))
        else:
            raise DataError(f"{entry}: no such file or folder")
    return found


def prediction_stems(files: list[tuple[Path, Path]], out_dir: Path) -> list[Path]:
    """``out_dir/<name without its last extension>`` per input; two inputs that would write the same
    outputs (``dup.jpg`` and ``dup.png``, or equal names under two input folders) are an error, raised
    before anything is written."""
    stems = [out_dir / name.parent / name.name[: -len(name.suffix) or None] for _, name in files]
    first: dict[Path, Path] = {}
    for (path, _), stem in zip(files, stems):
        if stem in first:
            raise DataError(f"{first[stem]} and {path} would both write {stem}.png; rename one or predict them separately")
        first[stem] = path
    return stems


def with_skips(labels: Iterable[np.ndarray], errors: list) -> Iterator[np.ndarray | None]:
    """The labels, with one ``None`` after each for every entry ``errors`` has gained meanwhile (files the
    reader skipped), and one per entry still unreported at the end: one item per input file."""
    reported = 0
    for label in labels:
        yield label
        while reported < len(errors):
            reported += 1
            yield None
    while reported < len(errors):
        reported += 1
        yield None


def predict(checkpoint: str | Path, inputs: Iterable[str | Path], out_dir: str | Path, params: InferSegParams,
            overlay_alpha: float = 0.5, kinds: Sequence[ModelKind] = (SEGMENTER,)) -> tuple[int, list[str]]:
    """Write ``<name>.png`` (palette label map) and ``<name>_overlay.jpg`` per image under ``out_dir``.

    Unreadable images are skipped and reported (the rest are still written); returns
    (images written, error messages).
    """
    from wsss.viz import overlay

    files = image_files(inputs)
    if not files:
        raise DataError(f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in {', '.join(map(str, inputs))}")
    out_dir = Path(out_dir)
    stems = prediction_stems(files, out_dir)
    runner = SegmentationRunner(checkpoint, replace(params, split=""), kinds=kinds)
    errors: list[str] = []
    pending: deque[tuple[Path, np.ndarray]] = deque()

    def readable_images() -> Iterator[np.ndarray]:
        for (path, _), stem in zip(files, stems):
            try:
                image = io.read_image(path)
            except DataError as error:
                errors.append(str(error))
                log.error("%s", error)
                continue
            pending.append((stem, image))
            yield image

    written = 0
    # Labels come back in input order (CRF chunks included), so each pairs with the oldest pending image;
    # a skipped file counts as one step too, so the bar ends at the number of files.
    for label in progress(with_skips(runner.run(readable_images()), errors), len(files), desc="predict"):
        if label is None:
            continue
        stem, image = pending.popleft()
        io.write_label_png(stem.parent / f"{stem.name}.png", label)
        io.write_jpeg(stem.parent / f"{stem.name}_overlay.jpg", overlay(image, label, overlay_alpha), quality=90)
        written += 1
    return written, errors
