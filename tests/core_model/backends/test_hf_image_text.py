"""ImageTextToTextBackend on a tiny random-weight Qwen2-VL, on the CPU, through the real loading and answering code."""

import json
import shutil
import threading
import time

import pytest
import torch

from core_model.backends import (
    AudioRef,
    BackendError,
    GenerationOptions,
    ImageRef,
    ModelLoadError,
    SegmentRef,
    Turn,
    UnsupportedMediaError,
    load_backend,
)
from core_model.backends.hf_image_text import ImageTextToTextBackend, video_metadata
from core_model.backends.segment_frames import sample_segment
from core_model.media import MediaError
from tests.fixtures.tiny_vlm import TINY_VLM_VOCAB
from tests.asking import with_media

QUESTION = "What is the man doing in this video?"
_WORDS = set(TINY_VLM_VOCAB) | set(".,?!:'-")


def _ask(backend, media, max_new_tokens=12, num_frames=4, conversation=None):
    conversation = conversation or [Turn("user", QUESTION)]
    options = GenerationOptions(max_new_tokens=max_new_tokens, num_frames=num_frames)
    return list(backend.answer(with_media(conversation, media), options))


def test_registry_picks_this_backend_for_a_qwen2_vl_folder(tiny_vlm_dir):
    backend = load_backend(str(tiny_vlm_dir), device="cpu")
    assert isinstance(backend, ImageTextToTextBackend)
    assert backend.device == "cpu" and backend.load_in_4bit is False  # CPU default: unquantized
    assert backend.capabilities.video and backend.capabilities.image and not backend.capabilities.audio


def test_answers_a_question_about_a_segment(tiny_backend, video_with_audio):
    pieces = _ask(tiny_backend, [SegmentRef(str(video_with_audio), 1.0, 3.0)])
    answer = "".join(pieces)
    assert answer.split() and set(answer.split()) <= _WORDS, answer
    run = tiny_backend.last_run
    assert run.model_id == tiny_backend.folder.name
    assert len(run.frame_timestamps_s) == 4
    assert all(1.0 <= t <= 3.0 for t in run.frame_timestamps_s)
    assert run.frame_timestamps_s == sorted(run.frame_timestamps_s)
    assert run.num_new_tokens == 12  # the tiny model never ends a turn by itself
    assert not run.stopped and not run.used_audio
    assert 0 < run.prepare_s <= run.first_token_s <= run.total_s
    assert run.plan == "2 s at 2 fps, 320 px"  # the planner's words: length, rate, decoded size


def test_streams_several_pieces_that_match_a_plain_generate(tiny_backend, video_with_audio):
    media = [SegmentRef(str(video_with_audio), 0.5, 4.5)]
    pieces = _ask(tiny_backend, media, max_new_tokens=16)
    assert len(pieces) >= 5
    # The same inputs through generate() without streaming decode to the same text.
    inputs = tiny_backend.prepare(with_media([Turn("user", QUESTION)], media), GenerationOptions(num_frames=4)).inputs
    with torch.inference_mode():
        out = tiny_backend._model.generate(**inputs, max_new_tokens=16, do_sample=False)
    plain = tiny_backend._processor.tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "".join(pieces).strip() == plain.strip()


def test_segment_goes_in_as_a_video_with_its_timing(tiny_backend, video_with_audio):
    clip = sample_segment(SegmentRef(str(video_with_audio), 1.0, 4.0), num_frames=6)
    metadata = video_metadata(clip)
    assert metadata.timestamps == pytest.approx(clip.timestamps_s, abs=0.5 / 30)  # 30 fps file
    assert metadata.sampled_fps == pytest.approx(6 / 3.0, rel=0.05)
    assert metadata.duration == pytest.approx(3.0)
    inputs = tiny_backend.prepare(with_media([Turn("user", QUESTION)], [SegmentRef(str(video_with_audio), 1.0, 4.0)]),
                                  GenerationOptions(num_frames=6)).inputs
    assert "pixel_values_videos" in inputs and "pixel_values" not in inputs
    assert inputs["video_grid_thw"][0, 0].item() == 3  # 6 frames / temporal patch of 2


def test_images_and_earlier_turns_media(tiny_backend, video_with_audio, image_png):
    segment = SegmentRef(str(video_with_audio), 1.0, 3.0)
    other_segment = SegmentRef(str(video_with_audio), 3.0, 4.5)
    history = [Turn("user", "What is this?", (segment,)), Turn("assistant", "a red square")]
    # Only the question's media are sent; the earlier turn goes as its text, noting what it was about.
    request = tiny_backend.prepare(with_media(history + [Turn("user", "And now?")], [segment, ImageRef(str(image_png))]),
                                   GenerationOptions(num_frames=4))
    assert len(request.segments) == 1 and request.inputs["video_grid_thw"].shape[0] == 1
    assert request.inputs["image_grid_thw"].shape[0] == 1
    assert "[About the video 0:01-0:03] What is this?" in request.prompt and "a red square" in request.prompt
    request = tiny_backend.prepare(with_media(history + [Turn("user", "And now?")], [other_segment]),
                                   GenerationOptions(num_frames=4))
    assert [s.clip.start_s for s in request.segments] == [3.0] and request.inputs["video_grid_thw"].shape[0] == 1
    pieces = _ask(tiny_backend, [other_segment], conversation=history + [Turn("user", "And now?")])
    assert pieces and len(tiny_backend.last_run.frame_timestamps_s) == 3  # 1.5 s at the planner's 2 fps


def test_image_only_question(tiny_backend, image_png):
    assert "".join(_ask(tiny_backend, [ImageRef(str(image_png))])).strip()
    assert tiny_backend.last_run.frame_timestamps_s == []


def test_cancel_counts_at_most_one_more_token(tiny_backend, video_with_audio):
    from core_model.backends.generation import GenerationStats, stream_generate

    inputs = tiny_backend.prepare(with_media([Turn("user", QUESTION)], [SegmentRef(str(video_with_audio), 1.0, 3.0)]),
                                  GenerationOptions(num_frames=4)).inputs
    stats = GenerationStats()
    token = tiny_backend._cancel
    token.reset()
    counts = []
    for _ in stream_generate(tiny_backend._model, inputs, tiny_backend._processor.tokenizer, token, stats,
                             max_new_tokens=5000, do_sample=False):
        if not token.cancelled and stats.num_new_tokens >= 3:
            token.cancel()
            counts.append(stats.num_new_tokens)
    assert stats.stopped
    assert stats.num_new_tokens <= counts[0] + 1


def test_four_bit_load_on_the_cpu_answers(tiny_vlm_dir, video_with_audio):
    import bitsandbytes as bnb

    backend = load_backend(str(tiny_vlm_dir), device="cpu", load_in_4bit=True)
    backend.load()
    try:
        quantized = [m for m in backend._model.modules() if isinstance(m, bnb.nn.Linear4bit)]
        assert len(quantized) >= 10
        assert quantized[0].weight.quant_type == "nf4"
        assert not any(isinstance(m, bnb.nn.Linear4bit) for m in backend._model.model.visual.modules())  # 16-bit tower
        pieces = _ask(backend, [SegmentRef(str(video_with_audio), 1.0, 3.0)], max_new_tokens=6)
        assert "".join(pieces).split() and backend.last_run.num_new_tokens == 6
        estimate_4bit = backend.memory_estimate().parts_bytes["weights"]
        assert estimate_4bit == pytest.approx(backend._model.get_memory_footprint(), rel=0.05)
    finally:
        backend.unload()
    estimate_fp32 = load_backend(str(tiny_vlm_dir), device="cpu").memory_estimate().parts_bytes["weights"]
    assert estimate_4bit < estimate_fp32 / 2


def test_memory_estimate_counts_the_weights(tiny_backend):
    estimate = tiny_backend.memory_estimate()
    num_params = sum(p.numel() for p in tiny_backend._model.parameters())
    assert estimate.device == "cpu"
    assert estimate.parts_bytes["weights"] == pytest.approx(num_params * 4, rel=0.01)  # float32 on the CPU
    assert estimate.parts_bytes["kv_cache"] > 0 and estimate.total_bytes > estimate.parts_bytes["weights"]


@pytest.mark.parametrize("breakage", ["missing", "no_config", "bad_json", "no_weights", "text_only_model"])
def test_bad_model_folders_raise_model_load_error(tiny_vlm_dir, tmp_path, breakage):
    folder = tmp_path / "model"
    if breakage != "missing":
        shutil.copytree(tiny_vlm_dir, folder)
    if breakage == "no_config":
        (folder / "config.json").unlink()
    elif breakage == "bad_json":
        (folder / "config.json").write_text("{ not json", encoding="utf-8")
    elif breakage == "no_weights":
        (folder / "model.safetensors").unlink()
    elif breakage == "text_only_model":
        config = json.loads((folder / "config.json").read_text())
        vocab_size = config["text_config"]["vocab_size"]
        (folder / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": vocab_size}))
    with pytest.raises(ModelLoadError) as raised:
        backend = load_backend(str(folder), device="cpu")
        backend.load()
    message = str(raised.value)
    assert "\n" not in message and str(folder) in message


def test_media_the_model_cannot_take(tiny_backend, tmp_path):
    with pytest.raises(UnsupportedMediaError, match="cannot listen to audio"):
        _ask(tiny_backend, [AudioRef(str(tmp_path / "voice.wav"))])


def test_unreadable_video_and_bad_conversations(tiny_backend, text_as_video):
    with pytest.raises(MediaError):
        _ask(tiny_backend, [SegmentRef(str(text_as_video), 0.0, 1.0)])
    with pytest.raises(BackendError, match="end with the user"):
        _ask(tiny_backend, [], conversation=[Turn("user", "hi"), Turn("assistant", "hello")])
    with pytest.raises(BackendError, match="no question"):
        list(tiny_backend.answer(with_media([], [])))


def test_out_of_memory_while_answering_becomes_a_plain_error(tiny_backend, video_with_audio, monkeypatch):
    from core_model.backends import OutOfMemoryError

    def generate_out_of_memory(**kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(tiny_backend._model, "generate", generate_out_of_memory)
    with pytest.raises(OutOfMemoryError, match="ran out of memory .RAM., even after lowering the frame rate"):
        _ask(tiny_backend, [SegmentRef(str(video_with_audio), 1.0, 3.0)])
    monkeypatch.undo()
    assert _ask(tiny_backend, [], max_new_tokens=3, conversation=[Turn("user", "hello")])  # usable afterwards


def test_smolvlm2_gets_each_frames_time_in_its_prompt(tiny_smolvlm_dir, video_with_audio):
    import re

    backend = load_backend(str(tiny_smolvlm_dir), device="cpu")
    segment = SegmentRef(str(video_with_audio), 1.0, 4.0)
    pieces = _ask(backend, [segment], max_new_tokens=8)
    assert "".join(pieces).split() and backend.last_run.num_new_tokens == 8
    timestamps_s = backend.last_run.frame_timestamps_s
    assert len(timestamps_s) == 4 and all(1.0 <= t <= 4.0 for t in timestamps_s)

    inputs = backend.prepare(with_media([Turn("user", QUESTION)], [segment]), GenerationOptions(num_frames=4)).inputs
    prompt = backend._processor.tokenizer.decode(inputs["input_ids"][0]).replace(" ", "")
    # The times in the file (not from the segment's start), as SmolVLM2 writes them (MM:SS, whole seconds).
    expected = [f"{int(t) // 60:02d}:{int(t) % 60:02d}" for t in timestamps_s]
    assert re.findall(r"Framefrom(\d\d:\d\d):", prompt) == expected
    assert "fourframesfroma0:00:03" in prompt  # the segment's length, 3 s
    backend.unload()


def test_a_long_chat_keeps_only_its_newest_exchanges_as_text(tiny_backend, video_with_audio):
    from core_model.backends.transformers_base import HISTORY_CHARS

    segment = SegmentRef(str(video_with_audio), 1.0, 3.0)
    history = []
    for index in range(40):
        history += [Turn("user", f"question {index} ?", (segment,)), Turn("assistant", f"answer {index} " * 8)]
    request = tiny_backend.prepare(history + [Turn("user", "and now ?", (segment,))], GenerationOptions(num_frames=4))
    kept = [index for index in range(40) if f"question {index} ?" in request.prompt]
    assert kept and kept == list(range(kept[0], 40)) and kept[0] > 0  # the newest, whole, oldest left out
    assert sum(len(f"answer {i} " * 8) for i in kept) <= HISTORY_CHARS
    assert len(request.segments) == 1  # the question's segment only
