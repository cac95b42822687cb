"""Networks: backbones (by registry name), classifiers (cam, seam), and their checkpoint interop."""
