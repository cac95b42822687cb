"""Built-in geodesic saliency: exact border distances, salient objects, and prepare's `builtin` setting."""

import numpy as np
import pytest

from wsss.data.saliency import geodesic_distance_to_border, geodesic_saliency


def test_distance_is_the_cheapest_colour_path_to_the_border():
    lab = np.zeros((7, 7, 3), np.float32)
    lab[2:5, 2:5] = (20, 0, 0)      # a ring that costs 20 to enter and 20 to leave
    lab[3, 3] = (10, 0, 0)          # the centre
    lab[2, 3] = (6, 8, 0)           # a gap in the ring: centre → gap √80, gap → (1, 3) √100
    distance = geodesic_distance_to_border(lab)
    assert distance[0].max() == 0 and distance[:, 0].max() == 0 and distance[1, 3] == 0
    assert distance[2, 3] == pytest.approx(10.0)
    assert distance[3, 3] == pytest.approx(np.sqrt(80) + 10.0)   # not 10 + 20 across the ring
    assert distance[2, 2] == pytest.approx(20.0)


def test_an_object_on_a_plain_background_is_salient_and_the_background_is_zero():
    rng = np.random.default_rng(0)
    image = np.full((120, 160, 3), 90, np.uint8) + rng.integers(0, 6, (120, 160, 3), dtype=np.uint8)
    image[40:90, 60:120] = (200, 40, 40)
    saliency = geodesic_saliency(image)
    assert saliency.shape == (120, 160) and saliency.dtype == np.uint8
    assert saliency[50:80, 70:110].min() > 128
    assert saliency[:20].max() == 0 and saliency[:, :30].max() == 0


def test_prepare_builtin_writes_a_map_per_image_that_training_reads(tiny_voc, tmp_path):
    from wsss.config import PrepareParams, from_dict
    from wsss.data.dataset import Dataset
    from wsss.data.prepare import prepare_dataset
    from wsss.data.sources import source_paths

    params = from_dict(PrepareParams, {"source": "voc", "voc": {"root": str(tiny_voc), "saliency_dir": "builtin"},
                                       "check_workers": 1})
    assert tiny_voc / "builtin" not in source_paths(params)   # nothing external to fingerprint
    prepare_dataset(params, tmp_path / "prepared")
    dataset = Dataset(tmp_path / "prepared")
    assert dataset.spec.saliency_dir == "saliency"
    for image_id in dataset.ids("train"):
        image = dataset.read_image(image_id)
        saliency = dataset.read_saliency(image_id, image.shape[:2])
        np.testing.assert_array_equal(np.round(saliency * 255).astype(np.uint8), geodesic_saliency(image))
