"""Broken model folders and hostile media: one clear line each (a VidiError), never a traceback, and for media the
model can be made to take (a 20000x1 strip, a 4K-sized frame), an answer."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from core_model.backends import load_backend
from core_model.backends.base import GenerationOptions, ImageRef, SegmentRef, Turn
from core_model.errors import ModelLoadError, VidiError
from tests.fixtures.tiny_omni import tiny_qwen_omni_dir  # noqa: F401  (fixture)

OPTIONS = GenerationOptions(max_new_tokens=4, num_frames=4)


def _copy(folder, tmp_path):
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    return copy


def _load_error(folder) -> str:
    with pytest.raises(VidiError) as raised:
        backend = load_backend(str(folder), device="cpu")
        backend.load()
    assert isinstance(raised.value, ModelLoadError), repr(raised.value)
    message = str(raised.value)
    assert "\n" not in message and len(message) < 400
    return message


def test_a_truncated_safetensors_file_is_one_line(tiny_vlm_dir, tmp_path):
    folder = _copy(tiny_vlm_dir, tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert str(folder) in _load_error(folder)


def test_a_config_that_is_a_json_list_is_one_line(tiny_vlm_dir, tmp_path):
    folder = _copy(tiny_vlm_dir, tmp_path)
    (folder / "config.json").write_text(json.dumps([1, 2, 3]))
    assert "not a model configuration" in _load_error(folder)


def test_another_models_tokenizer_in_the_folder_is_one_line(tiny_smolvlm_dir, tiny_qwen_omni_dir, tmp_path):  # noqa: F811
    folder = _copy(tiny_smolvlm_dir, tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tiny_qwen_omni_dir / name).exists():
            shutil.copy(tiny_qwen_omni_dir / name, folder / name)
    try:
        backend = load_backend(str(folder), device="cpu")
        backend.load()
        list(backend.answer([Turn("user", "what is this ?", (SegmentRef(str(folder), 0, 1),))], OPTIONS))
    except VidiError as exc:
        assert "\n" not in str(exc)


def test_a_20000x1_image_is_answered_by_qwen_omni(tiny_qwen_omni_dir, tmp_path):  # noqa: F811
    strip = tmp_path / "strip.png"
    Image.fromarray(np.full((1, 20000, 3), 200, dtype=np.uint8)).save(strip)
    backend = load_backend(str(tiny_qwen_omni_dir), device="cpu")
    pieces = list(backend.answer([Turn("user", "what is this ?", (ImageRef(str(strip)),))], OPTIONS))
    assert pieces and backend.last_run.num_new_tokens == 4
    backend.unload()


def test_frames_reach_the_model_at_the_planned_size_not_the_sources(tiny_smolvlm_dir, make_video):
    large = make_video("large.mp4", num_frames=20, fps=10, width=1920, height=1080)
    backend = load_backend(str(tiny_smolvlm_dir), device="cpu")
    request = backend.prepare([Turn("user", "what is here ?", (SegmentRef(str(large), 0.0, 2.0),))], OPTIONS)
    plan = request.plan.segments[0]
    frames = request.segments[0].clip.frames
    assert frames.shape == (plan.num_frames, plan.height, plan.width, 3)
    assert max(plan.width, plan.height) <= 768 < 1920  # decoded small: memory follows the plan, not the file
    backend.unload()


def test_smolvlm2_answers_a_segment_and_an_image_together(tiny_smolvlm_dir, video_with_audio, image_png):
    backend = load_backend(str(tiny_smolvlm_dir), device="cpu")
    media = (SegmentRef(str(video_with_audio), 1.0, 3.0), ImageRef(str(image_png)))
    request = backend.prepare([Turn("user", "is the picture in the video ?", media)], OPTIONS)
    assert request.processor_kwargs["frames_as_images"] is True  # its processor cannot mix a video and images
    pieces = list(backend.answer([Turn("user", "is the picture in the video ?", media)], OPTIONS))
    assert pieces and len(backend.last_run.frame_timestamps_s) == 4
    backend.unload()
