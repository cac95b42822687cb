import pytest
import torch
import torch.nn.functional as F

from wsss.losses.seam import equivariance_loss, max_norm, max_onehot, ohem_l1, rvmin_loss, seam_losses
from wsss.models.backbones import build_backbone
from wsss.models.seam import SeamNet, pcm, suppressed_cam


def dense_pcm_reference(cam, embedding, eps=1e-5):
    """Loop form of PCM: y[k, j] = Σ_i cam[k, i] · relu(cos_ij) / (Σ_i' relu(cos_i'j) + eps)."""
    n, c, h, w = cam.shape
    out = torch.zeros_like(cam).view(n, c, -1)
    for b in range(n):
        e = embedding[b].flatten(1)
        cams = cam[b].flatten(1)
        e_hat = [e[:, i] / (e[:, i].norm() + eps) for i in range(h * w)]
        for j in range(h * w):
            weights = torch.stack([torch.relu(torch.dot(e_hat[i], e_hat[j])) for i in range(h * w)])
            weights = weights / (weights.sum() + eps)
            out[b, :, j] = (cams * weights[None]).sum(1)
    return out.view(n, c, h, w)


def test_pcm_matches_dense_reference():
    torch.manual_seed(0)
    cam = torch.rand(2, 4, 3, 5)
    embedding = torch.randn(2, 6, 3, 5)
    torch.testing.assert_close(pcm(cam, embedding), dense_pcm_reference(cam, embedding), rtol=1e-5, atol=1e-6)


def test_pcm_of_constant_map_is_constant():
    cam = torch.full((1, 2, 4, 4), 0.7)
    out = pcm(cam, torch.randn(1, 8, 4, 4))
    torch.testing.assert_close(out, torch.full_like(out, 0.7), rtol=1e-4, atol=1e-4)


def test_suppressed_cam_rules():
    cam = torch.tensor([[[[5.0, -1.0]], [[2.0, 3.0]], [[4.0, 3.0]]]])  # bg, fg1, fg2 over two pixels
    out = suppressed_cam(cam)
    # fg1 normalised by its max 3, fg2 by 4: pixel 0 -> (2/3, 1.0), pixel 1 -> (1.0, 0.75)
    fg = out[0, 1:, 0]
    assert fg[0, 0] == 0 and fg[1, 0] == pytest.approx(1.0, abs=1e-4)  # keep only the max, with its value
    assert fg[0, 1] == pytest.approx(1.0, abs=1e-4) and fg[1, 1] == 0
    torch.testing.assert_close(out[0, 0, 0], 1 - fg.amax(0))


def test_equivariant_map_gives_zero_er_loss():
    """A map that commutes with the 0.3 downscale has zero ER loss: here a ramp over the image, which
    bilinear resizing with aligned corners reproduces exactly on the smaller grid."""

    def ramp_map(size):
        x = torch.linspace(0, 1, size)
        return torch.stack([torch.zeros(size, size), x.expand(size, size), 1 - x[:, None].expand(size, size)])[None]

    big = ramp_map(40).expand(2, 3, 40, 40)
    small = F.interpolate(big, scale_factor=0.3, mode="bilinear", align_corners=True)
    assert small.shape[-1] == 12
    assert equivariance_loss(small, ramp_map(12).expand(2, 3, 12, 12)).item() == pytest.approx(0.0, abs=1e-7)
    assert equivariance_loss(small, ramp_map(12).flip(-1).expand(2, 3, 12, 12)).item() > 0.1


def test_ohem_keeps_exactly_k():
    target = torch.zeros(2, 21, 10, 10)
    prediction = torch.zeros(2, 21, 10, 10)
    k = int(0.2 * 21 * 100)
    prediction.view(2, -1)[0, :k] = 1.0  # image 0: exactly k errors of 1
    prediction.view(2, -1)[1, : k + 5] = 2.0  # image 1: more than k errors of 2
    assert ohem_l1(target, prediction, 0.2).item() == pytest.approx((1.0 + 2.0) / 2)
    prediction.view(2, -1)[0, k] = 1.0  # one more error in image 0 does not change its top-k mean
    assert ohem_l1(target, prediction, 0.2).item() == pytest.approx(1.5)


def test_rvmin_takes_quarter_smallest():
    refined = torch.zeros(1, 2, 2, 4)
    refined[0, 0] = torch.arange(8.0).view(2, 4)  # per-pixel fg max = 0..7; k = 2 smallest: 0, 1
    assert rvmin_loss(refined).item() == pytest.approx((0 + 1) / 2)


def test_max_norm_and_onehot():
    p = torch.tensor([[[[1.0, 3.0, -2.0]], [[0.5, 0.2, 0.9]]]])
    out = max_norm(p)
    assert out.amax().item() <= 1.0 and out.amin().item() >= 0.0
    assert out[0, 0, 0, 1].item() == pytest.approx(1.0, abs=1e-4)
    x = torch.tensor([[[[0.2]], [[0.4]], [[0.9]]]])
    y = max_onehot(x)
    assert y.flatten().tolist() == pytest.approx([0.2, 0.0, 0.9])


@pytest.fixture(scope="module")
def seam_model():
    torch.manual_seed(0)
    model = SeamNet(build_backbone("efficientnet_lite0", weights=None, output_stride=16), num_foreground=3)
    return model.train()


def test_seam_forward_shapes(seam_model):
    cam, rv = seam_model(torch.randn(2, 3, 64, 80))
    assert cam.shape == rv.shape == (2, 4, 64, 80)


def test_frozen_parts_get_no_gradient_and_ecr_trains_only_pcm(seam_model):
    seam_model.zero_grad(set_to_none=True)
    images, labels = torch.randn(2, 3, 64, 64), torch.tensor([[1.0, 0, 1], [0, 1, 0]])
    losses = seam_losses(seam_model, images, labels)
    losses["ecr"].backward(retain_graph=True)
    trained = {n for n, p in seam_model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert trained == {"f8_3.weight", "f8_4.weight", "f9.weight"}
    seam_model.zero_grad(set_to_none=True)
    losses["loss"].backward()
    for name, p in seam_model.named_parameters():
        if ".bn" in name or "conv_stem" in name:
            assert p.grad is None, name
    assert seam_model.fc8.weight.grad is not None
    # The background row of fc8 gets no gradient from any term.
    assert seam_model.fc8.weight.grad[0].abs().sum() == 0
    assert all(m.training is False for m in seam_model.modules() if isinstance(m, torch.nn.BatchNorm2d))
