"""PAMR against a direct per-pixel loop, and its invariances."""

import numpy as np
import torch

from wsss.ops.pamr import OFFSETS, pamr, pamr_affinity


def loop_pamr(image: np.ndarray, masks: np.ndarray, dilations, iterations) -> np.ndarray:
    """Straight from the definition: K×H×W image, C×H×W masks (already at image size)."""
    k, h, w = image.shape

    def at(array, y, x):  # replicate padding = clamping the coordinates
        return array[:, min(max(y, 0), h - 1), min(max(x, 0), w - 1)]

    weights = np.zeros((h, w, 8 * len(dilations)))
    for y in range(h):
        for x in range(w):
            near = [at(image, y + dy * d, x + dx * d) for d in dilations for dy, dx in OFFSETS]
            samples = np.stack(near + [image[:, y, x]] * len(dilations), 1)     # K × 9D
            sigma = samples.std(1, ddof=1)
            logits = np.stack([-np.abs(n - image[:, y, x]) / (1e-8 + 0.1 * sigma) for n in near], 1).mean(0)
            e = np.exp(logits - logits.max())
            weights[y, x] = e / e.sum()
    for _ in range(iterations):
        out = np.zeros_like(masks)
        for y in range(h):
            for x in range(w):
                near = [at(masks, y + dy * d, x + dx * d) for d in dilations for dy, dx in OFFSETS]
                out[:, y, x] = np.stack(near, 1) @ weights[y, x]
        masks = out
    return masks


def test_pamr_matches_the_direct_loop():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (3, 7, 9))
    masks = rng.uniform(0, 1, (2, 7, 9))
    expected = loop_pamr(image, masks, (1, 2, 4), 3)
    got = pamr(torch.tensor(image[None]), torch.tensor(masks[None]), (1, 2, 4), 3)[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_pamr_weights_are_a_distribution_and_colour_affine_invariant():
    image = torch.rand(1, 3, 12, 10) * 255
    weights = pamr_affinity(image, (1, 2, 4, 8, 12, 24))
    assert weights.shape == (1, 48, 12, 10)
    torch.testing.assert_close(weights.sum(1), torch.ones(1, 12, 10))
    scale = torch.tensor([0.5, 2.0, 1.0])[None, :, None, None]
    normalised = (image / 255 - 0.4) * scale
    torch.testing.assert_close(pamr_affinity(normalised), weights, rtol=1e-4, atol=1e-5)


def test_pamr_respects_an_edge_and_upsamples_masks():
    # Left half dark, right half bright: a mask set on the left may not leak across the edge.
    image = torch.zeros(1, 3, 16, 16)
    image[..., 8:] = 255
    image += torch.rand_like(image)  # texture, so σ is never 0
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2] = 1.0
    out = pamr(image, mask)
    assert out.shape == (1, 1, 16, 16)
    assert out[..., :6].min() > 0.9 and out[..., 10:].max() < 0.1
