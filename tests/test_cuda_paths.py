"""The CUDA code paths against their CPU counterparts (skipped where no CUDA device is present).

Each test runs the same function on both devices and compares: the sparse random walk (CSR on
CUDA), the torch dense CRF, PAMR, GETAM maps (fp32), multi-scale CAMs and segmentation in bf16, and training steps of
the one engine with bf16 autocast and channels_last.
"""

import numpy as np
import pytest
import torch

from wsss.config import EngineConfig, OptimConfig
from wsss.losses.seam import SeamLoss
from wsss.models.classifier import ClassifierSpec, build_classifier
from wsss.ops.pairs import pair_affinities
from wsss.ops.pamr import pamr
from wsss.refine.random_walk import propagate, sparse_transition_transposed
from wsss.train.engine import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
CUDA = torch.device("cuda")


@pytest.fixture(autouse=True)
def strict_fp32():
    """cuDNN convolutions default to TF32 (~1e-3 relative): compare the code paths in true fp32."""
    previous = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = previous


def relative_error(value, reference) -> float:
    value, reference = torch.as_tensor(value).double().cpu(), torch.as_tensor(reference).double().cpu()
    return float((value - reference).norm() / reference.norm())


def correlation(a, b) -> float:
    return float(torch.corrcoef(torch.stack([torch.as_tensor(a).flatten(), torch.as_tensor(b).flatten()]).double())[0, 1])


def test_random_walk_csr_on_cuda_equals_cpu():
    torch.manual_seed(0)
    h, w = 12, 17
    affinity = pair_affinities(torch.randn(1, 16, h, w) * 0.3, 5)[0]
    scores = torch.rand(h * w, 5)
    on_cpu = propagate(sparse_transition_transposed(affinity, 5, h, w, 8.0), scores, 64)
    transposed = sparse_transition_transposed(affinity.to(CUDA), 5, h, w, 8.0)
    on_cuda = propagate(transposed, scores.to(CUDA), 64)
    assert relative_error(on_cuda, on_cpu) < 1e-5


def test_pamr_on_cuda_equals_cpu():
    torch.manual_seed(1)
    image = torch.rand(2, 3, 40, 52)
    masks = torch.rand(2, 4, 40, 52)
    on_cpu = pamr(image, masks)
    on_cuda = pamr(image.to(CUDA), masks.to(CUDA))
    assert relative_error(on_cuda, on_cpu) < 1e-5


def test_getam_maps_on_cuda_equal_cpu_and_leave_no_gradients():
    from tests.getam.test_getam_maps import toy_getam
    from wsss.cams.getam import getam_maps

    model = toy_getam()
    images = torch.randn(2, 3, 48, 64)
    labels = torch.tensor([[1.0, 0, 1, 0], [0, 1, 0, 0]])
    on_cpu = getam_maps(model, images, labels, start_block=0)
    model.to(CUDA)
    on_cuda = getam_maps(model, images.to(CUDA), labels.to(CUDA), start_block=0)
    assert relative_error(on_cuda, on_cpu) < 1e-5
    assert all(p.grad is None for p in model.parameters())


def small_classifier(method: str = "seam") -> torch.nn.Module:
    torch.manual_seed(0)
    return build_classifier(ClassifierSpec(method, "resnet38", 4, 8), weights=None)


def test_multiscale_cams_on_cuda_match_cpu():
    from wsss.cams.multiscale import multiscale_cams

    model = small_classifier().eval()
    image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    labels = np.array([1.0, 0, 1, 0])
    classes, on_cpu = multiscale_cams(model, image, labels, scales=(0.5, 1.0), flip=True)
    model.to(CUDA)
    classes_fp32, fp32 = multiscale_cams(model, image, labels, scales=(0.5, 1.0), flip=True, device=CUDA)
    _, bf16 = multiscale_cams(model, image, labels, scales=(0.5, 1.0), flip=True, device=CUDA,
                              autocast_dtype=torch.bfloat16)
    assert classes_fp32.tolist() == classes.tolist()
    assert relative_error(fp32, on_cpu) < 1e-3
    # An untrained ResNet-38 gives nearly flat maps that min-max normalisation stretches, so bf16 is
    # held to the maps' shape rather than their values.
    assert bf16.shape == on_cpu.shape and np.isfinite(bf16).all()
    assert correlation(bf16, on_cpu) > 0.9


def test_segmentation_probs_bf16_on_cuda_match_fp32_cpu():
    from wsss.models.deeplab import SegmenterSpec, build_segmenter
    from wsss.segment import multiscale_probs

    torch.manual_seed(0)
    model = build_segmenter(SegmenterSpec("largefov", "resnet38", ("a", "b", "c")), weights=None).eval()
    image = np.random.default_rng(1).integers(0, 255, (50, 70, 3), dtype=np.uint8)
    on_cpu = multiscale_probs(model, image, scales=(0.75, 1.0), flip=True)
    model.to(CUDA)
    fp32 = multiscale_probs(model, image, scales=(0.75, 1.0), flip=True, device=CUDA)
    bf16 = multiscale_probs(model, image, scales=(0.75, 1.0), flip=True, device=CUDA, autocast_dtype=torch.bfloat16)
    assert bf16.shape == fp32.shape == on_cpu.shape == (3, 50, 70)
    assert np.allclose(bf16.sum(0), 1.0, atol=1e-3)
    assert relative_error(fp32, on_cpu) < 1e-3
    assert relative_error(bf16, on_cpu) < 5e-2


def make_item(index: int, rng: np.random.Generator) -> dict:
    image = torch.from_numpy(rng.normal(size=(3, 64, 64)).astype(np.float32))
    label = torch.zeros(4)
    label[index % 4] = 1
    return {"image": image, "label": label, "id": f"img{index}"}


@pytest.mark.parametrize("compile_model", [False, True])
def test_engine_trains_on_cuda_in_bf16_channels_last(tmp_path, compile_model):
    model = small_classifier()
    before = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    config = EngineConfig(device="cuda", epochs=1, batch_size=4, num_workers=0, checkpoint_every=0,
                          compile=compile_model, optim=OptimConfig(lr=0.01))
    trainer = Trainer(model, SeamLoss(), make_item, 8, config,
                      tmp_path / "work")
    assert trainer.autocast_dtype == torch.bfloat16
    trainer.fit(resume=False)
    after = [p.detach().cpu() for p in model.parameters() if p.requires_grad]
    assert next(model.parameters()).is_cuda
    assert any(not torch.equal(a, b.cpu()) for a, b in zip(after, before))
    assert all(torch.isfinite(p).all() for p in after)


def test_views_normalised_on_cuda_equal_the_cpu_views():
    from wsss.cams.multiscale import cam_views, normalised_views

    image = np.random.default_rng(2).integers(0, 255, (37, 53, 3), dtype=np.uint8)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    for on_cpu, pinned_view in zip(cam_views(image, (0.5, 1.5)), cam_views(image, (0.5, 1.5), CUDA)):
        assert pinned_view.is_pinned()
        expected = normalised_views(on_cpu, mean, std, True, torch.device("cpu"))
        got = normalised_views(pinned_view, mean, std, True, CUDA)
        assert got.is_contiguous(memory_format=torch.channels_last)
        # CUDA divides by a scalar as a multiplication by its reciprocal: equal up to one ulp.
        torch.testing.assert_close(got.cpu(), expected, rtol=2e-7, atol=1e-6)


def test_torch_dense_crf_on_cuda_matches_cpu():
    """The permutohedral lattice (sort, searchsorted, CSR products) on CUDA against the CPU path."""
    from wsss.refine.crf import CRF_PRESETS
    from wsss.refine.crf_torch import dense_crf_torch

    rng = np.random.default_rng(0)
    image = (rng.random((375, 500, 3)) * 40 + np.linspace(0, 200, 500)[None, :, None]).astype(np.uint8)
    probs = rng.random((3, 375, 500)).astype(np.float32) + np.linspace(0, 1, 500)[None, None, :] * [[[1]], [[0]], [[0.5]]]
    probs = (probs / probs.sum(0)).astype(np.float32)
    cpu = dense_crf_torch(image, probs, CRF_PRESETS["seam"], "cpu")
    cuda = dense_crf_torch(image, probs, CRF_PRESETS["seam"], "cuda")
    assert np.abs(cuda - cpu).max() < 1e-3
    assert (cuda.argmax(0) == cpu.argmax(0)).mean() > 0.999
