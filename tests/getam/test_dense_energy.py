"""Dense-CRF energy loss against an explicit kernel on a small case."""

import math

import torch

from wsss.losses.dense_energy import bilateral_filter, dense_energy_loss


def explicit_kernel(image: torch.Tensor, sigma_rgb: float, sigma_xy: float) -> torch.Tensor:
    _, h, w = image.shape
    pixels = [(y, x) for y in range(h) for x in range(w)]
    kernel = torch.zeros(len(pixels), len(pixels))
    for i, (yi, xi) in enumerate(pixels):
        for j, (yj, xj) in enumerate(pixels):
            d_xy = ((yi - yj) ** 2 + (xi - xj) ** 2) / (2 * sigma_xy**2)
            d_rgb = float(((image[:, yi, xi] - image[:, yj, xj]) ** 2).sum()) / (2 * sigma_rgb**2)
            kernel[i, j] = math.exp(-d_xy - d_rgb)
    return kernel


def test_bilateral_filter_is_the_dense_kernel_product():
    features = torch.randn(2, 5, 7)
    values = torch.rand(2, 3, 7)
    dist = ((features[:, :, :, None] - features[:, :, None, :]) ** 2).sum(1)
    expected = (torch.exp(-0.5 * dist) @ values.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(bilateral_filter(features, values, chunk=3), expected)


def test_energy_value_and_gradient_match_the_definition():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 3, 4) * 255
    logits = torch.randn(1, 2, 3, 4, requires_grad=True)
    probs = logits.softmax(1)
    label = torch.tensor([[[0, 1, 255, 0], [1, 1, 0, 255], [0, 0, 0, 0]]])
    crop = torch.ones(1, 3, 4)
    crop[0, :, 3] = 0                                              # the last column is padding
    loss = dense_energy_loss(image, probs, label, crop, sigma_rgb=40.0, sigma_xy=2.0, scale=1.0)

    kernel = explicit_kernel(image[0], 40.0, 2.0)
    p = probs.detach()[0].flatten(1)                               # K×P
    m, ignored = crop[0].flatten(), (label[0] == 255).flatten()
    gate = torch.where(ignored, torch.ones_like(m), m - p.amax(0)).clamp_min(0)
    s = p * m
    as_ = s @ kernel.T
    assert abs(float(loss.detach()) + float((s * gate * as_).sum())) < 1e-3
    loss.backward(retain_graph=True)
    expected_grad = (-2 * gate * as_ * m).view(1, 2, 3, 4)
    (reference_grad,) = torch.autograd.grad((probs * expected_grad.detach()).sum(), logits)
    torch.testing.assert_close(logits.grad, reference_grad, rtol=1e-4, atol=1e-5)


def test_confident_pixels_are_gated_out():
    image = torch.rand(1, 3, 4, 4) * 255
    probs = torch.zeros(1, 2, 4, 4)
    probs[:, 0] = 1.0                                              # fully confident everywhere
    label = torch.zeros(1, 4, 4, dtype=torch.long)
    assert float(dense_energy_loss(image, probs, label, torch.ones(1, 4, 4), scale=1.0)) == 0.0
    label[0, 0, 0] = 255                                           # an ignored pixel always counts
    assert float(dense_energy_loss(image, probs, label, torch.ones(1, 4, 4), scale=1.0)) < 0.0
