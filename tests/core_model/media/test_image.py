"""load_image: RGB uint8 [H, W, 3], EXIF orientation, GIF first frame, size limit."""

import numpy as np
import pytest
from PIL import Image

from core_model.media import MAX_IMAGE_PIXELS, MediaError, load_image


def test_png(image_png):
    image = load_image(image_png)
    assert image.dtype == np.uint8 and image.shape == (48, 64, 3)
    assert tuple(image[10, 5]) == (255, 0, 0) and tuple(image[10, 60]) == (0, 0, 255)


def test_jpeg_is_turned_by_exif_orientation(image_jpeg_exif):
    image = load_image(image_jpeg_exif)
    assert image.shape == (64, 48, 3)  # stored 64 wide, shown 48 wide
    # stored top half red; orientation 6 turns it a quarter clockwise, so red ends on the right
    assert image[32, 40, 0] > 200 and image[32, 40, 2] < 60
    assert image[32, 5, 2] > 200 and image[32, 5, 0] < 60


def test_gif_gives_its_first_frame(image_gif):
    image = load_image(image_gif)
    assert image.shape == (32, 32, 3) and tuple(image[16, 16]) == (255, 0, 0)


@pytest.mark.parametrize("suffix", ["webp", "bmp"])
def test_other_formats(tmp_path, suffix):
    path = tmp_path / f"picture.{suffix}"
    pixels = np.zeros((20, 30, 3), np.uint8)
    pixels[:, 15:] = 255
    Image.fromarray(pixels).save(path, lossless=True) if suffix == "webp" else Image.fromarray(pixels).save(path)
    image = load_image(path)
    assert image.shape == (20, 30, 3) and image[:, :15].max() < 10 and image[:, 16:].min() > 245


def test_transparent_pixels_lie_on_white(tmp_path):
    path = tmp_path / "transparent.png"
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(path)
    assert load_image(path).min() == 255


def test_huge_header_is_refused_before_decoding(image_huge):
    with pytest.raises(MediaError, match=r"image too large: bomb\.png .*megapixels"):
        load_image(image_huge)


def test_pixel_limit_is_documented_and_adjustable(image_png):
    assert MAX_IMAGE_PIXELS == 80_000_000
    with pytest.raises(MediaError, match="over the limit"):
        load_image(image_png, max_pixels=1000)


def test_bad_files(tmp_path, image_png, text_as_video, empty_video):
    with pytest.raises(MediaError, match="not an image file"):
        load_image(text_as_video)
    with pytest.raises(MediaError, match="empty"):
        load_image(empty_video)
    cut = tmp_path / "cut.png"
    cut.write_bytes(image_png.read_bytes()[:60])
    with pytest.raises(MediaError, match="truncated or damaged"):
        load_image(cut)
    with pytest.raises(MediaError, match="file not found"):
        load_image(tmp_path / "missing.png")
