import numpy as np
import pytest
import torch

from wsss.cams.coattention import aggregate
from wsss.data.class_index import ClassIndex
from wsss.losses.mcis import common_labels, exclusive_labels, mcis_losses
from wsss.models.backbones import build_backbone
from wsss.models.coattention import CoAttentionNet


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return CoAttentionNet(build_backbone("efficientnet_lite0", None, 16), num_foreground=3, width=16)


def test_coattention_matches_loop_reference(model):
    torch.manual_seed(1)
    fa, fb = torch.rand(1, 16, 2, 3), torch.rand(1, 16, 3, 2)
    z_a, z_b = model.coattend(fa, fb)
    a, b = fa[0].flatten(1), fb[0].flatten(1)          # C×N_a, C×N_b
    w = model.extra_linear_e.weight                      # y = W x
    s = torch.stack([torch.stack([(w @ a[:, i]) @ b[:, j] for j in range(6)]) for i in range(6)])  # N_a×N_b
    for j in range(6):   # b's position j gathers a's features with weights softmax over a's positions
        weights = torch.softmax(s[:, j], 0)
        torch.testing.assert_close(z_b[0].flatten(1)[:, j], (a * weights).sum(1), rtol=1e-5, atol=1e-6)
    for i in range(6):   # a's position i gathers b's features with weights softmax over b's positions
        weights = torch.softmax(s[i, :], 0)
        torch.testing.assert_close(z_a[0].flatten(1)[:, i], (b * weights).sum(1), rtol=1e-5, atol=1e-6)
    assert z_a.shape == fa.shape and z_b.shape == fb.shape


def test_pair_outputs_of_images_of_different_sizes(model):
    model.eval()
    fa, fb = model.features(torch.randn(2, 3, 64, 64)), model.features(torch.randn(2, 3, 96, 128))
    out = model.pair(fa, fb)
    assert out["co_map_a"].shape == (2, 3, 4, 4) and out["co_map_b"].shape == (2, 3, 6, 8)
    assert out["comp_map_a"].shape == (2, 3, 4, 4)


def test_label_algebra():
    y_a = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    y_b = torch.tensor([[0.0, 1.0, 1.0, 0.0]])
    assert common_labels(y_a, y_b).tolist() == [[0, 1, 0, 0]]
    assert exclusive_labels(y_a, y_b).tolist() == [[1, 0, 0, 0]]
    assert exclusive_labels(y_b, y_a).tolist() == [[0, 0, 1, 0]]


def batch_of_views():
    torch.manual_seed(2)
    return {"image_a": torch.randn(2, 3, 32, 32), "image_b": torch.randn(2, 3, 32, 32),
            "image_flip": torch.randn(2, 3, 32, 32), "image_small": torch.randn(2, 3, 24, 24),
            "image_large": torch.randn(2, 3, 64, 64),
            "label_a": torch.tensor([[1.0, 1, 0], [0, 1, 0]]), "label_b": torch.tensor([[0.0, 1, 1], [0, 1, 0]])}


def test_contrastive_term_starts_at_its_epoch(model):
    model.train()
    for epoch, active in ((1, False), (2, True)):
        model.zero_grad()
        losses = mcis_losses(model, batch_of_views(), epoch, contrastive_from_epoch=2)
        losses["loss"].backward()
        gate_grad = model.extra_gate_merge.weight.grad
        assert (float(losses["contrastive"]) > 0) == active
        assert (gate_grad is not None and bool(gate_grad.abs().sum() > 0)) == active
        total = losses["single"] + losses["coattention"] + losses["contrastive"]
        torch.testing.assert_close(losses["loss"].detach(), total)


def test_partners_always_share_a_class():
    class Fake:
        num_classes = 4

        def labels(self, image_id):
            return {"a": np.array([1, 0, 0]), "b": np.array([0, 1, 1]), "c": np.array([1, 0, 1])}[image_id]

    index = ClassIndex(Fake(), ["a", "b", "c"])
    rng = np.random.default_rng(0)
    for k in range(3):
        for _ in range(20):
            other = index.partner(k, rng)
            assert (index.labels[k] * index.labels[other]).sum() > 0
    assert set(index.related(2, 50, rng)) == {1, 2}


def test_aggregate_gates_later_maps_but_divides_by_all():
    first = torch.tensor([[2.0, -1.0], [1.0, 0.0]])
    strong = torch.tensor([[0.0, 4.0], [4.0, 4.0]])     # sigmoid(mean 3) > 0.1: joins
    weak = torch.full((2, 2), -5.0)                     # sigmoid(-5) < 0.1: skipped
    out = aggregate([first, strong, weak], gate=0.1)
    expected = (torch.tensor([[1.0, 0.0], [0.5, 0.0]]) + torch.tensor([[0.0, 1.0], [1.0, 1.0]])) / 3
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)
