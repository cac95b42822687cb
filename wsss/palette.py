"""The VOC colour palette and class names; any class count is supported."""

import numpy as np

IGNORE_INDEX = 255

VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
    "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)


def voc_palette() -> np.ndarray:
    """The 256×3 uint8 palette of VOC label PNGs (bit-interleaved colour code; 255 is cream)."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        code, r, g, b = index, 0, 0, 0
        for bit in range(8):
            r |= ((code >> 0) & 1) << (7 - bit)
            g |= ((code >> 1) & 1) << (7 - bit)
            b |= ((code >> 2) & 1) << (7 - bit)
            code >>= 3
        palette[index] = (r, g, b)
    palette[IGNORE_INDEX] = (224, 224, 192)
    return palette
