"""The saliency stage's maps: one per photo of every split, from each model, read back by the labels."""

import numpy as np
import pytest

from wsss import io
from wsss.config import PrepareParams, SaliencyParams, from_dict
from wsss.data.dataset import Dataset
from wsss.data.prepare import prepare_dataset
from wsss.data.saliency import geodesic_saliency
from wsss.errors import DataError
from wsss.saliency.maps import all_ids, write_saliency_maps


@pytest.fixture
def prepared(tiny_voc, tmp_path):
    params = from_dict(PrepareParams, {"source": "voc", "voc": {"root": str(tiny_voc)}, "check_workers": 1})
    prepare_dataset(params, tmp_path / "prepared")
    return tmp_path / "prepared"


def test_geodesic_maps_cover_every_split_and_the_dataset_reads_them(prepared, tmp_path):
    count = write_saliency_maps(prepared, SaliencyParams(model="geodesic"), tmp_path / "saliency")
    dataset = Dataset(prepared, tmp_path / "saliency")
    ids = all_ids(dataset)
    assert count == len(ids) == 7 and set(dataset.ids("val")) <= set(ids) and dataset.has_saliency and not Dataset(prepared).has_saliency
    for image_id in ids:
        image = dataset.read_image(image_id)
        expected = geodesic_saliency(image).astype(np.float32) / 255
        np.testing.assert_array_equal(dataset.read_saliency(image_id, image.shape[:2]), expected)


def test_dataset_model_without_maps_is_one_line(prepared, tmp_path):
    with pytest.raises(DataError, match="came without saliency maps"):
        write_saliency_maps(prepared, SaliencyParams(model="dataset"), tmp_path / "saliency")
    assert not (tmp_path / "saliency").exists()


def test_u2netp_maps_are_photo_sized_and_independent_of_the_batch(prepared, tmp_path):
    from wsss.errors import ConfigError
    from wsss.saliency.u2net import U2NetSaliency, packaged_weights
    try:
        packaged_weights("u2netp")
    except ConfigError as error:
        pytest.skip(str(error))
    write_saliency_maps(prepared, SaliencyParams(model="u2netp", batch_size=3), tmp_path / "saliency")
    dataset = Dataset(prepared, tmp_path / "saliency")
    alone = U2NetSaliency("u2netp")
    for image_id in all_ids(dataset):
        grey = io.read_grey_png(dataset.saliency_path(image_id))
        image = dataset.read_image(image_id)
        assert grey.shape == image.shape[:2]
        assert np.abs(grey.astype(int) - alone([image])[0]).max() <= 1     # batches of 3 = one at a time
