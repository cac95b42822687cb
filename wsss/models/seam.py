"""SEAM's network: CAM head with a background channel, and the pixel correlation module (PCM).

Channel 0 of ``fc8`` is the background slot of the original 21-way head; no loss trains it (its
value is replaced by 1 − max fg wherever it is used) but it is kept so original checkpoints load.
PCM refines a no-grad, max-suppressed CAM over *all* foreground classes with a ReLU'd cosine affinity
of detached backbone features and the downsampled image, column-normalised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.backbones import Backbone
from wsss.models.heads import new_conv1x1, parameter_groups


def suppressed_cam(cam: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """SEAM's ``cam_d_norm``: per-channel max normalisation of ReLU(cam); background = 1 − max fg;
    every fg channel is zeroed where it is below the pixel's fg maximum (ties keep all)."""
    c = F.relu(cam)
    peak = c.flatten(2).amax(2)[..., None, None] + eps
    c = F.relu(c - eps) / peak
    fg = c[:, 1:]
    fg_max = fg.amax(1, keepdim=True)
    fg = torch.where(fg < fg_max, torch.zeros_like(fg), fg)
    return torch.cat([1 - fg_max, fg], dim=1)


def pcm(cam: torch.Tensor, embedding: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """y_k,j = Σ_i cam_k,i · Â_ij with A_ij = ReLU(cos(e_i, e_j)) and Â column-normalised over i."""
    n, c, h, w = cam.shape
    e = embedding.flatten(2)
    e = e / (e.norm(dim=1, keepdim=True) + eps)
    affinity = F.relu(torch.bmm(e.transpose(1, 2), e))
    affinity = affinity / (affinity.sum(dim=1, keepdim=True) + eps)
    return torch.bmm(cam.flatten(2), affinity).view(n, c, h, w)


class SeamNet(nn.Module):
    method = "seam"

    def __init__(self, backbone: Backbone, num_foreground: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.backbone = backbone
        self.num_foreground = num_foreground
        mid, high, final = backbone.channels
        self.dropout7 = nn.Dropout2d(dropout)
        self.fc8 = new_conv1x1(final, num_foreground + 1)
        self.f8_3 = new_conv1x1(mid, 64, init="kaiming")
        self.f8_4 = new_conv1x1(high, 128, init="kaiming")
        self.f9 = new_conv1x1(3 + 64 + 128, 192, gain=4.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(cam, cam_rv): raw CAM logits and the PCM output, both N×(C+1)×H×W at input size."""
        mid, high, final = self.backbone(x)
        cam = self.fc8(self.dropout7(final))
        size = cam.shape[2:]
        with torch.no_grad():
            seeds = suppressed_cam(cam.detach().float())
        f3 = F.relu(self.f8_3(mid.detach()))
        f4 = F.relu(self.f8_4(high.detach()))
        image = F.interpolate(x, size, mode="bilinear", align_corners=True)
        embedding = self.f9(torch.cat([image, f3, f4], dim=1))
        # The affinity is a normalised hw×hw product: keep it in fp32 under autocast.
        with torch.autocast(device_type=x.device.type, enabled=False):
            cam_rv = pcm(seeds, embedding.float())
        full = x.shape[2:]
        cam_rv = F.interpolate(cam_rv, full, mode="bilinear", align_corners=True)
        cam = F.interpolate(cam, full, mode="bilinear", align_corners=True)
        return cam, cam_rv

    def image_logits(self, x: torch.Tensor) -> torch.Tensor:
        """N×C image-level class logits as training scores them: the mean of the upsampled CAM
        (PCM is not needed for that, so it is not run)."""
        cam = self.fc8(self.dropout7(self.backbone(x)[2]))
        cam = F.interpolate(cam, x.shape[2:], mode="bilinear", align_corners=True)
        return F.adaptive_avg_pool2d(cam, 1).flatten(1)[:, 1:]

    def localisation_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Foreground PCM maps N×C×H×W (SEAM's inference uses the refined output)."""
        return self.forward(x)[1][:, 1:]

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        return parameter_groups(self, self.backbone)
