"""GETAM maps: the per-block rule on a hand case, a 2-block toy ViT against the reference procedure
(one backward per image and class with retained attention gradients), and no side effects."""

import pytest
import torch
from timm.models.vision_transformer import VisionTransformer

from wsss.cams.getam import block_relevance, getam_maps, normalise_peak, refined_getam_maps
from wsss.models.getam import GetamNet
from wsss.models.vit import EncoderLayout, VitEncoder
from wsss.ops.pamr import pamr


def toy_getam(num_classes: int = 4) -> GetamNet:
    torch.manual_seed(0)
    vit = VisionTransformer(img_size=32, patch_size=16, embed_dim=8, depth=2, num_heads=2, num_classes=0,
                            dynamic_img_size=True)
    encoder = VitEncoder(vit, EncoderLayout((), (0, 0, 1, 1)), (0.5,) * 3, (0.5,) * 3, [])
    return GetamNet(encoder, num_classes + 1, features=8)


def test_block_relevance_hand_case():
    # 2 heads, 3 tokens (class token + 2 patches); only the class-token row matters.
    attention = torch.zeros(1, 2, 3, 3)
    gradient = torch.zeros(1, 2, 3, 3)
    attention[0, 0, 0] = torch.tensor([0.2, 0.5, 0.3])
    attention[0, 1, 0] = torch.tensor([0.6, 0.4, 0.0])
    gradient[0, 0, 0] = torch.tensor([9.0, 2.0, -1.0])
    gradient[0, 1, 0] = torch.tensor([9.0, -3.0, 4.0])
    # patch 1: ReLU(G⊙A) = (1.0, 0) → mean 0.5; ReLU(G) = (2, 0) → mean 1.0; E = 0.5
    # patch 2: ReLU(G⊙A) = (0, 0) → mean 0;   ReLU(G) = (0, 4) → mean 2.0; E = 0
    torch.testing.assert_close(block_relevance(attention, gradient), torch.tensor([[0.5, 0.0]]))
    # the distilled DeiT has two prefix tokens: only patch 2 remains
    torch.testing.assert_close(block_relevance(attention, gradient, prefix=2), torch.tensor([[0.0]]))


def reference_maps(model: GetamNet, images: torch.Tensor, labels: torch.Tensor, start_block: int) -> torch.Tensor:
    """The reference procedure: stored attentions with retained gradients, one backward per present
    (image, class), parameter gradients zeroed each time."""
    encoder = model.encoder
    h, w = images.shape[-2] // 16, images.shape[-1] // 16
    with encoder.recording_attention() as recorded:
        logits = model.forward_cls(images)
    for a in recorded.values():
        a.retain_grad()
    out = torch.zeros(labels.shape[0], labels.shape[1], h * w)
    for b in range(labels.shape[0]):
        for c in torch.nonzero(labels[b]).flatten().tolist():
            model.zero_grad()
            for a in recorded.values():
                a.grad = None
            logits[b, c].backward(retain_graph=True)
            total = 0
            for index in range(start_block, encoder.depth):
                a, g = recorded[index][b], recorded[index].grad[b]
                e = torch.relu(g * a).mean(0) * torch.relu(g).mean(0)
                total = total + e[0, 1:]
            out[b, c] = torch.relu(total)
    return out.view(labels.shape[0], labels.shape[1], h, w)


def test_toy_vit_maps_match_the_reference_procedure():
    model = toy_getam()
    images = torch.randn(3, 3, 32, 48)
    labels = torch.tensor([[1, 0, 1, 0], [0, 0, 1, 0], [1, 1, 0, 1]], dtype=torch.float32)
    for start in (0, 1):
        got = getam_maps(model, images, labels, start_block=start)
        assert got.shape == (3, 4, 2, 3)
        torch.testing.assert_close(got, reference_maps(model, images, labels, start), rtol=1e-5, atol=1e-9)
        assert (got[labels == 0] == 0).all()
        assert not got.requires_grad  # constants: no graph of the forward is kept alive
    assert getam_maps(model, images, labels, 0).abs().sum() > 0


def test_recorded_attention_is_the_softmax_of_the_first_block():
    model = toy_getam()
    images = torch.randn(2, 3, 32, 32)
    vit = model.encoder.vit
    with model.encoder.recording_attention() as recorded:
        model.forward_cls(images)
    tokens = vit._pos_embed(vit.patch_embed(images))
    block = vit.blocks[0]
    q, k, _ = block.attn.qkv(block.norm1(tokens)).reshape(2, 5, 3, 2, 4).permute(2, 0, 3, 1, 4)
    expected = (q @ k.transpose(-2, -1) * 4 ** -0.5).softmax(-1)
    torch.testing.assert_close(recorded[0], expected)
    assert recorded[0].sum(-1).allclose(torch.ones(2, 2, 5))


def test_extraction_leaves_parameter_gradients_untouched():
    model = toy_getam().train()
    images, labels = torch.randn(2, 3, 32, 32), torch.tensor([[1.0, 0, 1, 0], [0, 1, 0, 0]])
    model(images, output="cls").sum().backward()
    before = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    getam_maps(model, images, labels, 0)
    refined_getam_maps(model, images, labels, 0, (1, 2), 2)
    after = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
    assert before.keys() == after.keys()
    for name in before:
        torch.testing.assert_close(after[name], before[name], rtol=0, atol=0)


def test_maps_need_no_trainable_parameters_and_absent_labels_give_zeros():
    model = toy_getam().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    images = torch.randn(1, 3, 32, 32)
    with torch.no_grad():  # inference code paths call it without autograd
        maps = getam_maps(model, images, torch.tensor([[0.0, 1, 0, 0]]), 0)
    assert maps[0, 1].abs().sum() > 0 and maps[0, [0, 2, 3]].abs().sum() == 0
    assert getam_maps(model, images, torch.zeros(1, 4), 0).abs().sum() == 0
    with pytest.raises(ValueError, match="start_block"):
        getam_maps(model, images, torch.ones(1, 4), 2)


def test_refined_maps_are_pamr_of_the_upsampled_maps_over_their_peak():
    model = toy_getam()
    images, labels = torch.randn(2, 3, 32, 32), torch.tensor([[1.0, 0, 0, 1], [0, 1, 0, 0]])
    maps = refined_getam_maps(model, images, labels, 0, (1, 2), 3)
    assert maps.shape == (2, 4, 32, 32) and maps.min() >= 0 and maps.max() <= 1
    assert (maps[labels == 0] == 0).all()
    raw = torch.nn.functional.interpolate(getam_maps(model, images, labels, 0), (32, 32), mode="bilinear",
                                          align_corners=True)
    refined = pamr(images[1:], raw[1:, 1:2], (1, 2), 3)
    torch.testing.assert_close(maps[1, 1], refined[0, 0] / (refined.max() + 1e-5))
    torch.testing.assert_close(normalise_peak(torch.full((1, 1, 2, 2), 4.0)), torch.full((1, 1, 2, 2), 4 / (4 + 1e-5)))


def test_peak_eps_sets_the_normalisation_floor():
    model = toy_getam()
    images, labels = torch.randn(1, 3, 32, 32), torch.tensor([[0.0, 1, 0, 0]])
    raw_peak = float(getam_maps(model, images, labels, 0).max())
    loose = refined_getam_maps(model, images, labels, 0, iterations=0, peak_eps=1e-6 * raw_peak)
    assert float(loose[0, 1].max()) == pytest.approx(1.0, abs=1e-5)
    tight = refined_getam_maps(model, images, labels, 0, iterations=0, peak_eps=100 * raw_peak)
    assert float(tight[0, 1].max()) == pytest.approx(1 / 101, rel=1e-3)  # the constant dominates tiny maps
