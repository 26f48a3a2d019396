"""A tiny Qwen2-VL backend loaded once per module of backend tests (building and loading take a few seconds)."""

import pytest

pytest.register_assert_rewrite("tests.core_model.backends.omni_checks")  # its asserts report like a test's

from core_model.backends import load_backend  # noqa: E402


@pytest.fixture(scope="session")
def tiny_backend(tiny_vlm_dir):
    backend = load_backend(str(tiny_vlm_dir), device="cpu")
    backend.load()
    yield backend
    backend.unload()
