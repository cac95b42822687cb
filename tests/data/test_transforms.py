import numpy as np
import pytest
import torch

from wsss.data.transforms import crop_window, random_crop, segmentation_augment

MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


def coloured_label(h=40, w=60):
    """Blocky labels and an image whose red channel encodes the label (40·k + 20)."""
    label = np.zeros((h, w), np.uint8)
    label[5:25, 10:30] = 1
    label[20:38, 35:58] = 2
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 0] = 40 * label + 20
    image[..., 1] = 200
    return image, label


def decode_red(x):
    red = (x[0].numpy() * STD[0] + MEAN[0]) * 255
    return np.rint((red - 20) / 40)


def test_segmentation_crop_pads_label_with_ignore_and_image_with_mean():
    image, label = coloured_label()
    rng = np.random.default_rng(3)
    x, y = segmentation_augment(image, label, rng, scale_range=(0.5, 0.5), crop=48, jitter=(0, 0, 0, 0),
                                mean=MEAN, std=STD)
    assert x.shape == (3, 48, 48) and y.shape == (48, 48) and y.dtype == torch.int64
    padded = (y == 255).numpy()
    assert padded.sum() == 48 * 48 - 20 * 30
    assert np.all(x.numpy()[:, padded] == 0)  # normalised zero = the mean colour


@pytest.mark.parametrize("seed", range(6))
def test_segmentation_image_and_label_stay_aligned(seed):
    """Scale, flip and crop move image and label together (colour jitter off)."""
    image, label = coloured_label()
    x, y = segmentation_augment(image, label, np.random.default_rng(seed), scale_range=(0.7, 1.6), crop=32,
                                jitter=(0, 0, 0, 0), mean=MEAN, std=STD)
    y = y.numpy()
    valid = y != 255
    agree = (decode_red(x)[valid] == y[valid]).mean()
    assert agree > 0.9  # only bilinear boundary pixels may differ


def test_segmentation_augment_is_a_function_of_the_generator():
    image, label = coloured_label()
    kwargs = dict(scale_range=(0.5, 2.0), crop=32, jitter=(0.3, 0.3, 0.3, 0.1), mean=MEAN, std=STD)
    a = segmentation_augment(image, label, np.random.default_rng(7), **kwargs)
    b = segmentation_augment(image, label, np.random.default_rng(7), **kwargs)
    assert all((u == v).all() for u, v in zip(a, b))


def test_segmentation_augment_rejects_mismatched_sizes():
    image, label = coloured_label()
    with pytest.raises(ValueError, match="differ in size"):
        segmentation_augment(image, label[:-1], np.random.default_rng(0), scale_range=(1, 1), crop=8,
                             jitter=(0, 0, 0, 0), mean=MEAN, std=STD)


def test_random_crop_keeps_its_window_contract():
    array = np.arange(5 * 7, dtype=np.float32).reshape(5, 7)
    window = crop_window(5, 7, 4, np.random.default_rng(1))
    out = random_crop(array, 4, np.random.default_rng(1))
    src_y, src_x, dst_y, dst_x = window
    np.testing.assert_array_equal(out[:, :], array[src_y:src_y + 4, src_x:src_x + 4])
    assert (dst_y, dst_x) == (0, 0)
