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


def random_crop(array: np.ndarray, size: int, rng: np.random.Generator, fill: float = 0.0) -> np.ndarray:
    """A size×size window; smaller sides are placed at a random offset in a ``fill`` container."""
    h, w = array.shape[:2]
    out = np.full((size, size, *array.shape[2:]), fill, dtype=array.dtype)
    ch, cw = min(size, h), min(size, w)
    src_y = int(rng.integers(0, h - size + 1)) if h > size else 0
    src_x = int(rng.integers(0, w - size + 1)) if w > size else 0
    dst_y = int(rng.integers(0, size - h + 1)) if h < size else 0
    dst_x = int(rng.integers(0, size - w + 1)) if w < size else 0
    out[dst_y : dst_y + ch, dst_x : dst_x + cw] = array[src_y : src_y + ch, src_x : src_x + cw]
    return out


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


def to_tensor(image: np.ndarray, mean, std) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(normalize(image, mean, std).transpose(2, 0, 1)))
