"""Localisation maps: multi-scale + flip CAM inference, GradCAM/GradCAM++."""
