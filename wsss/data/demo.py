"""The embedded demo dataset: synthetic photographs in VOC layout, deterministic from a seed.

Every object is a large *body* plus a small class-specific *part* attached to its outline. Bodies are
pale striped ellipses drawn from one distribution for every class, tinted faintly towards their part's
colour (``body_cue``: a shift no larger than the bodies' own colour spread), so the part is what tells
classes apart: a classifier's CAM lights up the part more than the body (partial activation, the
failure SEAM and AffinityNet address), while a segmenter trained on whole-object labels can still
name a body from its tint. Body and part together contrast with the cluttered, darker, muted
background, so affinity-based refinement can grow the part's activation over the whole object.

Per image: ``JPEGImages/<id>.jpg``; ``SegmentationClass/<id>.png`` (VOC palette, 255 band at object
boundaries); ``SegmentationPart/<id>.png`` (0 background, 1 body, 2 part, 255 band); ``Saliency/<id>.png``
(a foreground map with the imperfections of a real saliency model: blur, missed chunks, false blobs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from wsss import io
from wsss.config import DemoConfig
from wsss.palette import IGNORE_INDEX

# (name, RGB colour) of each class's discriminative part; shapes are drawn by _draw_part.
DEMO_PARTS = (
    ("triangle", (225, 35, 35)),
    ("disc", (235, 205, 25)),
    ("square", (35, 175, 60)),
    ("star", (205, 45, 205)),
    ("cross", (30, 190, 215)),
    ("ring", (245, 125, 15)),
)
DEMO_CLASSES = ("background", *(name for name, _ in DEMO_PARTS))
PART_BODY, PART_PART = 1, 2


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int, channels: int) -> np.ndarray:
    grid = rng.uniform(-1.0, 1.0, size=(cells, cells, channels)).astype(np.float32)
    return cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC).reshape(*shape, channels)


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Dark, muted, cluttered texture: colour drift, random strokes and blobs, pixel noise."""
    base = rng.uniform(50, 120, size=3)
    image = base + 35.0 * _smooth_noise(rng, (height, width), int(rng.integers(3, 8)), 3)
    image = np.ascontiguousarray(image.astype(np.float32))
    for _ in range(int(rng.integers(15, 35))):
        grey = rng.uniform(30, 140)
        colour = tuple(float(grey + rng.uniform(-30, 30)) for _ in range(3))
        kind = rng.integers(3)
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if kind == 0:
            p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(image, p1, p2, colour, int(rng.integers(1, 4)))
        elif kind == 1:
            cv2.circle(image, p1, int(rng.integers(3, 18)), colour, -1)
        else:
            p2 = (p1[0] + int(rng.integers(-25, 25)), p1[1] + int(rng.integers(-25, 25)))
            cv2.rectangle(image, p1, p2, colour, -1)
    image += rng.normal(0, 10, size=image.shape).astype(np.float32)
    return image


def _body(rng: np.random.Generator, height: int, width: int, centre, axes, angle) -> tuple[np.ndarray, np.ndarray]:
    """Mask and appearance of a body: a pale ellipse with stripes (same distribution for every class)."""
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, centre, axes, angle, 0, 360, 1, -1)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, math.pi)
    period = rng.uniform(5, 10)
    stripes = np.sin((xx * math.cos(direction) + yy * math.sin(direction)) * 2 * math.pi / period)
    base = rng.uniform(165, 215) + rng.uniform(-20, 20, size=3)
    look = base[None, None, :] + 18.0 * stripes[..., None]
    return mask.astype(bool), look.astype(np.float32)


def _star(centre, radius: float, rotation: float) -> np.ndarray:
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.45
        a = rotation + k * math.pi / 5
        points.append((centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)))
    return np.round(points).astype(np.int32)


def _draw_part(class_index: int, height: int, width: int, centre, radius: float, rotation: float) -> np.ndarray:
    """Mask of the class-specific part (class_index is 0-based over foreground classes)."""
    mask = np.zeros((height, width), np.uint8)
    cx, cy = centre
    if class_index == 0:
        pts = [(cx + radius * math.cos(rotation + k * 2 * math.pi / 3), cy + radius * math.sin(rotation + k * 2 * math.pi / 3)) for k in range(3)]
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    elif class_index == 1:
        cv2.circle(mask, (int(cx), int(cy)), int(radius), 1, -1)
    elif class_index == 2:
        box = cv2.boxPoints(((cx, cy), (1.6 * radius, 1.6 * radius), math.degrees(rotation)))
        cv2.fillPoly(mask, [np.round(box).astype(np.int32)], 1)
    elif class_index == 3:
        cv2.fillPoly(mask, [_star((cx, cy), radius * 1.15, rotation)], 1)
    elif class_index == 4:
        for angle in (rotation, rotation + math.pi / 2):
            box = cv2.boxPoints(((cx, cy), (2.0 * radius, 0.7 * radius), math.degrees(angle)))
            cv2.fillPoly(mask, [np.round(box).astype(np.int32)], 1)
    else:
        cv2.circle(mask, (int(cx), int(cy)), int(radius), 1, max(2, int(radius * 0.45)))
    return mask.astype(bool)


@dataclass
class _Object:
    class_index: int
    body: np.ndarray
    part: np.ndarray
    body_look: np.ndarray


def _sample_object(rng: np.random.Generator, height: int, width: int) -> _Object:
    short = min(height, width)
    a = rng.uniform(0.17, 0.30) * short
    b = a * rng.uniform(0.55, 0.95)
    angle = rng.uniform(0, 180)
    centre = (int(rng.uniform(0.2, 0.8) * width), int(rng.uniform(0.2, 0.8) * height))
    body, look = _body(rng, height, width, centre, (int(a), int(b)), angle)
    class_index = int(rng.integers(len(DEMO_PARTS)))
    theta = rng.uniform(0, 2 * math.pi)
    # Point of the ellipse outline at parameter theta, in image coordinates.
    ca, sa = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    ex, ey = a * math.cos(theta), b * math.sin(theta)
    radius = 0.42 * b
    outward = 0.35 * radius
    norm = math.hypot(ex / a**2, ey / b**2)
    nx, ny = (ex / a**2) / norm, (ey / b**2) / norm
    px = centre[0] + ca * (ex + outward * nx) - sa * (ey + outward * ny)
    py = centre[1] + sa * (ex + outward * nx) + ca * (ey + outward * ny)
    part = _draw_part(class_index, height, width, (px, py), radius, rng.uniform(0, 2 * math.pi))
    return _Object(class_index, body & ~part, part, look)


def _boundary_band(labels: np.ndarray, width: int) -> np.ndarray:
    """Pixels within ``width`` of a change of label (the VOC 'void' band)."""
    edges = np.zeros(labels.shape, np.uint8)
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[:, :-1] |= labels[:, 1:] != labels[:, :-1]
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    edges[:-1, :] |= labels[1:, :] != labels[:-1, :]
    if width > 1:
        edges = cv2.dilate(edges, np.ones((width, width), np.uint8))
    return edges.astype(bool)


def _saliency(rng: np.random.Generator, foreground: np.ndarray, objects: list[_Object]) -> np.ndarray:
    """An imperfect saliency map: missed chunks, false blobs, blur, uneven confidence."""
    height, width = foreground.shape
    saliency = foreground.astype(np.float32) * rng.uniform(0.75, 1.0)
    for obj in objects:
        if rng.random() < 0.35:
            ys, xs = np.nonzero(obj.body)
            if len(ys):
                k = int(rng.integers(len(ys)))
                r = int(max(4, math.sqrt(obj.body.sum()) * rng.uniform(0.2, 0.4)))
                cv2.circle(saliency, (int(xs[k]), int(ys[k])), r, 0.0, -1)
    for _ in range(int(rng.integers(0, 3))):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(5, 20)), int(rng.integers(5, 20)))
        cv2.ellipse(saliency, centre, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(0.4, 0.9)), -1)
    saliency = cv2.GaussianBlur(saliency, (0, 0), float(rng.uniform(1.5, 3.5)))
    return np.clip(saliency * 255.0 + 0.5, 0, 255).astype(np.uint8)


def render_image(rng: np.random.Generator, config: DemoConfig):
    """One sample: (RGB uint8 image, class label map, part map, saliency uint8)."""
    height = int(rng.integers(config.min_size, config.max_size + 1))
    width = int(rng.integers(config.min_size, config.max_size + 1))
    image = _background(rng, height, width)
    count = int(rng.choice(np.arange(1, config.max_objects + 1), p=_object_count_probabilities(config.max_objects)))
    for _attempt in range(20):
        objects = [_sample_object(rng, height, width) for _ in range(count)]
        labels = np.zeros((height, width), np.uint8)
        parts = np.zeros((height, width), np.uint8)
        owner = np.full((height, width), -1, np.int16)
        for k, obj in enumerate(objects):
            region = obj.body | obj.part
            owner[region] = k
            labels[region] = obj.class_index + 1
            parts[obj.body] = PART_BODY
            parts[obj.part] = PART_PART
        # Occlusion is allowed, but every object keeps most of its part and a good share of its body.
        if all(
            (owner[obj.part] == k).mean() >= 0.6 and (owner[obj.body] == k).mean() >= 0.5
            for k, obj in enumerate(objects)
        ):
            break
    for obj in objects:
        colour = np.array(DEMO_PARTS[obj.class_index][1], np.float32)
        image[obj.body] = obj.body_look[obj.body] + config.body_cue * (colour - colour.mean())
        image[obj.part] = colour + rng.normal(0, 12, size=(int(obj.part.sum()), 3)).astype(np.float32)
    image = cv2.GaussianBlur(image, (0, 0), 0.7)
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    band = _boundary_band(labels, config.boundary_width)
    saliency = _saliency(rng, labels > 0, objects)
    labels[band] = IGNORE_INDEX
    parts[band] = IGNORE_INDEX
    return image, labels, parts, saliency


def _object_count_probabilities(max_objects: int) -> np.ndarray:
    # About two thirds of the images show one class (70 % of 437 VOC 2012 segmentation images do).
    weights = np.array([0.6, 0.3, 0.1][:max_objects] + [0.1] * max(0, max_objects - 3))
    return weights / weights.sum()


def generate_demo(out_root: str | Path, config: DemoConfig = DemoConfig()) -> dict[str, list[str]]:
    """Write the demo in VOC layout under ``out_root``; returns the split lists."""
    if config.min_size > config.max_size or config.min_size < 64:
        raise ValueError(f"demo sizes must satisfy 64 <= min_size <= max_size, got {config.min_size}, {config.max_size}")
    out_root = Path(out_root)
    splits: dict[str, list[str]] = {"train": [], "val": []}
    for split_code, (split, count) in enumerate((("train", config.num_train), ("val", config.num_val))):
        for index in range(count):
            image_id = f"{split}_{index:05d}"
            # Each image has its own stream, so changing one split's size leaves the others unchanged.
            rng = np.random.default_rng([config.seed, split_code, index])
            image, labels, parts, saliency = render_image(rng, config)
            io.write_jpeg(out_root / "JPEGImages" / f"{image_id}.jpg", image, config.jpeg_quality)
            io.write_label_png(out_root / "SegmentationClass" / f"{image_id}.png", labels)
            io.write_grey_png(out_root / "SegmentationPart" / f"{image_id}.png", parts)
            io.write_grey_png(out_root / "Saliency" / f"{image_id}.png", saliency)
            splits[split].append(image_id)
    for split, ids in splits.items():
        io.write_text(out_root / "ImageSets" / "Segmentation" / f"{split}.txt", "".join(f"{i}\n" for i in ids))
    return splits
