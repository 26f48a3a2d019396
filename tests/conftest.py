"""Shared fixtures. Each family of fixtures lives in its own module under tests/fixtures/ and is gathered here.

Qt runs offscreen and nothing may reach a model hub: both are set before anything imports Qt or transformers.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import desktop_app  # noqa: E402,F401  first: its Qt work-around must run before any Qt code (desktop_app/qt_compat.py)
from tests.fixtures.media import *  # noqa: E402,F401,F403  generated videos, images, audio
from tests.fixtures.tiny_vlm import *  # noqa: E402,F401,F403  tiny image-text-to-text model folder
from tests.fixtures.remote_server import *  # noqa: E402,F401,F403  transformers serve on loopback, remote backend


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` need CUDA: skipped (with the reason) where torch sees none, run where it does."""
    import pytest

    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False here)")
    for item in gpu_items:
        item.add_marker(skip)
