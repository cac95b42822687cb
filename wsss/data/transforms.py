"""Training and inference image transforms (numpy/PIL), driven by an explicit random generator.

Every random choice takes a ``numpy.random.Generator`` that the dataset seeds from (seed, epoch,
index), so augmentation is identical with any number of loader workers and after a resume.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image


def resize_long(image: Image.Image, long_side: int, resample=Image.BICUBIC) -> Image.Image:
    w, h = image.size
    if w >= h:
        size = (long_side, max(1, round(h * long_side / w)))
    else:
        size = (max(1, round(w * long_side / h)), long_side)
    return image.resize(size, resample)


def color_jitter(image: Image.Image, rng: np.random.Generator, brightness: float, contrast: float,
                 saturation: float, hue: float) -> Image.Image:
    """torchvision's ColorJitter semantics (factors uniform in [1−x, 1+x], hue in [−h, h], random order)."""
    ops = []
    if brightness > 0:
        f = rng.uniform(max(0.0, 1 - brightness), 1 + brightness)
        ops.append(lambda im, f=f: TF.adjust_brightness(im, f))
    if contrast > 0:
        f = rng.uniform(max(0.0, 1 - contrast), 1 + contrast)
        ops.append(lambda im, f=f: TF.adjust_contrast(im, f))
    if saturation > 0:
        f = rng.uniform(max(0.0, 1 - saturation), 1 + saturation)
        ops.append(lambda im, f=f: TF.adjust_saturation(im, f))
    if hue > 0:
        f = rng.uniform(-hue, hue)
        ops.append(lambda im, f=f: TF.adjust_hue(im, f))
    for k in rng.permutation(len(ops)):
        image = ops[k](image)
    return image


def normalize(image: np.ndarray, mean, std) -> np.ndarray:
    """H×W×3 (uint8 or float in 0..255) → float32 normalised (mean/std in [0, 1] units)."""
    x = image.astype(np.float32) / 255.0
    return (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)


def crop_window(h: int, w: int, size: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(src_y, src_x, dst_y, dst_x) of a random size×size crop of an h×w array (smaller sides padded)."""
    src_y = int(rng.integers(0, h - size + 1)) if h > size else 0
    src_x = int(rng.integers(0, w - size + 1)) if w > size else 0
    dst_y = int(rng.integers(0, size - h + 1)) if h < size else 0
    dst_x = int(rng.integers(0, size - w + 1)) if w < size else 0
    return src_y, src_x, dst_y, dst_x


def apply_crop(array: np.ndarray, size: int, window: tuple[int, int, int, int], fill: float = 0.0) -> np.ndarray:
    src_y, src_x, dst_y, dst_x = window
    h, w = array.shape[:2]
    out = np.full((size, size, *array.shape[2:]), fill, dtype=array.dtype)
    ch, cw = min(size, h), min(size, w)
    out[dst_y : dst_y + ch, dst_x : dst_x + cw] = array[src_y : src_y + ch, src_x : src_x + cw]
    return out


def random_crop(array: np.ndarray, size: int, rng: np.random.Generator, fill: float = 0.0) -> np.ndarray:
    """A size×size window; smaller sides are placed at a random offset in a ``fill`` container."""
    return apply_crop(array, size, crop_window(*array.shape[:2], size, rng), fill)


def classification_augment(image: np.ndarray, rng: np.random.Generator, *, resize_range: tuple[int, int],
                           crop: int, jitter: tuple[float, float, float, float], mean, std) -> torch.Tensor:
    """SEAM's training transform: random long side (bicubic), flip, colour jitter, normalise, then a
    random crop zero-padded in normalised space (padding = mean colour). Returns 3×crop×crop."""
    pil = Image.fromarray(image)
    pil = resize_long(pil, int(rng.integers(resize_range[0], resize_range[1] + 1)))
    if rng.random() < 0.5:
        pil = pil.transpose(Image.FLIP_LEFT_RIGHT)
    pil = color_jitter(pil, rng, *jitter)
    x = random_crop(normalize(np.asarray(pil), mean, std), crop, rng)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


def segmentation_augment(image: np.ndarray, label: np.ndarray, rng: np.random.Generator, *,
                         scale_range: tuple[float, float], crop: int, jitter: tuple[float, float, float, float],
                         mean, std, ignore_index: int = 255) -> tuple[torch.Tensor, torch.Tensor]:
    """DeepLab retraining transform: random scale (bilinear image, nearest label), flip, colour jitter,
    normalise, joint random crop (image padded with the mean colour, label with ``ignore_index``)."""
    h, w = label.shape
    if image.shape[:2] != (h, w):
        raise ValueError(f"image {image.shape[:2]} and label {(h, w)} differ in size")
    scale = rng.uniform(*scale_range)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    pil, pil_label = Image.fromarray(image).resize(size, Image.BILINEAR), Image.fromarray(label).resize(size, Image.NEAREST)
    if rng.random() < 0.5:
        pil, pil_label = pil.transpose(Image.FLIP_LEFT_RIGHT), pil_label.transpose(Image.FLIP_LEFT_RIGHT)
    pil = color_jitter(pil, rng, *jitter)
    x = normalize(np.asarray(pil), mean, std)
    window = crop_window(x.shape[0], x.shape[1], crop, rng)
    x = apply_crop(x, crop, window, 0.0)
    y = apply_crop(np.asarray(pil_label), crop, window, ignore_index)
    return (torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))),
            torch.from_numpy(y.astype(np.int64)))


def to_tensor(image: np.ndarray, mean, std) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(normalize(image, mean, std).transpose(2, 0, 1)))


def square(image: np.ndarray, size: int) -> Image.Image:
    return Image.fromarray(image).resize((size, size), Image.BILINEAR)
