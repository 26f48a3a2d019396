"""The tiny Video-LLaMA fixtures (tests/fixtures/tiny_videollama.py), built once per session."""

from tests.fixtures.tiny_videollama import converted_dir, official_files, tiny_model  # noqa: F401
