"""Session-scoped tiny Video-LLaMA: the official-format files and the Vidi folder converted from them (built once)."""

from __future__ import annotations

import pytest

from tests.core_model.videollama.tiny_checkpoints import write_official_files


@pytest.fixture(scope="session")
def official_files(tmp_path_factory):
    """Paths of the tiny official files by converter flag: eva, blip2, vl, al, imagebind, llm."""
    return write_official_files(tmp_path_factory.mktemp("videollama_official"))


@pytest.fixture(scope="session")
def converted_dir(official_files, tmp_path_factory):
    """A Vidi folder converted (with audio) from the tiny official files."""
    from core_model.videollama.conversion import convert_videollama

    out = tmp_path_factory.mktemp("videollama_vidi") / "video-llama-2-tiny"
    return convert_videollama(out=out, **official_files)


@pytest.fixture(scope="session")
def tiny_model(converted_dir):
    from core_model.videollama import VideoLlama

    return VideoLlama.from_pretrained(converted_dir)
