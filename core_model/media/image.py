"""Still images: ``load_image(path) -> uint8 [H, W, 3] RGB`` (Pillow)."""

from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core_model.media.container import check_readable_file
from core_model.media.errors import MediaError

MAX_IMAGE_PIXELS = 80_000_000
"""Largest image accepted, in pixels (80 megapixels: above any 50/64 MP phone photo, below Pillow's own bomb
warning). Larger images, and files whose header claims more, are refused before any pixel is decoded."""


def load_image(path: str | os.PathLike, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Read PNG/JPEG/WebP/BMP/GIF (first frame) as uint8 [H, W, 3] RGB, turned upright by its EXIF orientation.

    Transparent pixels are laid on white. MediaError: "not an image file", "image too large", "image file is
    truncated or damaged", "file not found", "the file is empty".
    """
    file_path = check_readable_file(path)
    name = file_path.name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file_path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise MediaError(_too_large(name, width, height, max_pixels))
                image.seek(0)  # first frame of an animated GIF/WebP
                image.load()
                upright = ImageOps.exif_transpose(image)
                return _to_rgb(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(
            f"image too large: {name} claims more pixels than Vidi accepts ({max_pixels // 1_000_000} megapixels "
            "at most); refused as a possible decompression bomb"
        ) from exc
    except UnidentifiedImageError as exc:
        raise MediaError(f"not an image file: {name} is not a PNG, JPEG, WebP, BMP or GIF image") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaError(f"image file is truncated or damaged: {name} ({exc})") from exc


def _too_large(name: str, width: int, height: int, max_pixels: int) -> str:
    return (f"image too large: {name} is {width}x{height} pixels, over the limit of "
            f"{max_pixels // 1_000_000} megapixels")


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Any Pillow mode -> uint8 [H, W, 3] RGB; transparency laid over white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
