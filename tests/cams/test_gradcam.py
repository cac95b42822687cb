import torch

from wsss.cams.gradcam import gradcam_maps
from wsss.models.backbones import build_backbone
from wsss.models.cam import CamNet


def make_model():
    torch.manual_seed(0)
    return CamNet(build_backbone("efficientnet_lite0", weights=None, output_stride=16), 3).eval()


def test_gradcam_equals_cam_up_to_scale_for_gap_linear_head():
    model = make_model()
    x = torch.randn(1, 3, 64, 64)
    grad_maps = gradcam_maps(model, x)
    with torch.no_grad():
        cams = model.localisation_maps(x)
    h, w = cams.shape[2:]
    torch.testing.assert_close(grad_maps * (h * w), cams, rtol=1e-4, atol=1e-5)


def test_gradcampp_shapes_and_no_parameter_gradients():
    model = make_model()
    maps = gradcam_maps(model, torch.randn(2, 3, 64, 64), plusplus=True)
    assert maps.shape == (2, 3, 4, 4) and (maps >= 0).all()
    assert all(p.grad is None for p in model.parameters())
