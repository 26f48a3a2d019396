"""VideoLlamaBackend with the converted tiny model: segments with/without audio, images, multi-turn, streaming,
cancel, the embedding cache (encoder calls counted) and 4-bit loading on the CPU."""

from __future__ import annotations

import threading

import pytest
import torch

from core_model.backends import GenerationOptions, ImageRef, SegmentRef, Turn, load_backend
from core_model.videollama.backend import VideoLlamaBackend, _cut_at
from tests.asking import with_media

GREEDY = GenerationOptions(max_new_tokens=12, temperature=0.0)


@pytest.fixture(scope="module")
def backend(converted_dir):
    backend = load_backend(str(converted_dir), device="cpu")
    assert isinstance(backend, VideoLlamaBackend)
    backend.load()
    return backend


@pytest.fixture
def counted(backend, monkeypatch):
    """Counts calls of the model's encoders (instance attributes shadow the methods, through the real code)."""
    calls = {"video": 0, "audio": 0}
    model = backend._model
    for name, method in (("video", model.encode_video), ("audio", model.encode_audio)):
        def wrapper(*args, _method=method, _name=name, **kwargs):
            calls[_name] += 1
            return _method(*args, **kwargs)

        monkeypatch.setattr(model, f"encode_{name}", wrapper, raising=False)
    backend._cache.clear()
    return calls


def _expected_greedy(backend, prompt, embeds, max_new_tokens):
    """The same question done by hand: splice, generate greedily, decode."""
    model = backend._model
    with torch.inference_mode():
        inputs_embeds = model.embed_prompt(prompt, embeds)
        ids = model.llm.generate(inputs_embeds=inputs_embeds, attention_mask=torch.ones(inputs_embeds.shape[:2],
                                 dtype=torch.long), max_new_tokens=max_new_tokens, do_sample=False,
                                 eos_token_id=model.tokenizer.eos_token_id, pad_token_id=model.tokenizer.eos_token_id)
    return model.tokenizer.decode(ids[0], skip_special_tokens=True).strip()


def test_segment_with_audio_matches_a_hand_made_run(backend, counted, video_with_audio):
    segment = SegmentRef(str(video_with_audio), 1.0, 4.0, include_audio=True)
    pieces = list(backend.answer(with_media([Turn("user", "What do you hear?", (segment,))], [segment]), GREEDY))
    run = backend.last_run
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert run.used_audio and len(run.frame_timestamps_s) == 8 and run.num_new_tokens == GREEDY.max_new_tokens
    assert counted == {"video": 1, "audio": 1}
    # by hand: processor -> encoders -> the original's audio+video prompt -> greedy generation
    processor, model = backend._processor, backend._model
    pixel_values, _ = processor.video(segment.path, 1.0, 4.0)
    audio = model.encode_audio(processor.audio(segment.path, 1.0, 4.0)[None])
    video = model.encode_video(pixel_values[None])
    prompt = processor.prompt("What do you hear?", media="video_audio")
    assert "".join(pieces) == _expected_greedy(backend, prompt, [audio, video], GREEDY.max_new_tokens)


def test_follow_up_question_runs_no_encoder(backend, counted, video_with_audio):
    segment = SegmentRef(str(video_with_audio), 0.0, 3.0)
    first = "".join(backend.answer(with_media([Turn("user", "What happens?", (segment,))], [segment]), GREEDY))
    assert counted == {"video": 1, "audio": 1}
    conversation = [Turn("user", "What happens?", (segment,)), Turn("assistant", first),
                    Turn("user", "And then?", (segment,))]
    second = "".join(backend.answer(with_media(conversation, [segment]), GREEDY))
    assert counted == {"video": 1, "audio": 1}  # cached: no encoder ran for the follow-up
    assert second.strip()
    # other settings are another cache entry
    list(backend.answer(with_media([Turn("user", "What happens?", (segment,))], [segment]), GenerationOptions(max_new_tokens=2, num_frames=4)))
    assert counted == {"video": 2, "audio": 2}


def test_multi_turn_prompt_is_the_originals(backend, video_with_audio):
    segment = SegmentRef(str(video_with_audio), 0.0, 3.0, include_audio=False)
    conversation = [Turn("user", "Q1", (segment,)), Turn("assistant", "A1"), Turn("user", "Q2")]
    request = backend.prepare(conversation, GREEDY)
    times = backend._encode(segment, GREEDY.num_frames)["relative_times_s"]
    expected = backend._processor.prompt("Q2", media="video", frame_times_s=times, history=[("Q1", "A1")])
    assert request.prompt == expected and len(request.frame_timestamps_s) == GREEDY.num_frames
    assert expected.endswith("seconds.  Q1 [/INST] A1 </s><s>[INST] Q2 [/INST]")


def test_segment_without_audio(backend, counted, video_with_audio, video_no_audio):
    segment = SegmentRef(str(video_with_audio), 0.0, 2.0, include_audio=False)
    assert "".join(backend.answer(with_media([Turn("user", "What is shown?")], [segment]), GREEDY)).strip()
    assert not backend.last_run.used_audio and counted == {"video": 1, "audio": 0}
    # a file without sound: audio asked for, video only (as the original demo falls back)
    silent = SegmentRef(str(video_no_audio), include_audio=True)
    assert "".join(backend.answer(with_media([Turn("user", "What is shown?")], [silent]), GREEDY)).strip()
    assert not backend.last_run.used_audio and counted == {"video": 2, "audio": 0}
    # more frames than the frame position embedding knows (8 in the tiny model): capped, not an error
    list(backend.answer(with_media([Turn("user", "What is shown?")], [segment]), GenerationOptions(max_new_tokens=1, num_frames=50)))
    assert len(backend.last_run.frame_timestamps_s) == 8


def test_image(backend, counted, image_png):
    image = ImageRef(str(image_png))
    answer = "".join(backend.answer(with_media([Turn("user", "Describe it.")], [image]), GREEDY))
    assert answer.strip() and backend.last_run.frame_timestamps_s == []
    assert counted == {"video": 1, "audio": 0}
    processor = backend._processor
    prompt = processor.prompt("Describe it.", media="image")
    video = backend._model.encode_video(processor.image(image.path)[None])
    assert answer == _expected_greedy(backend, prompt, [video], GREEDY.max_new_tokens)


def test_original_sampling_defaults(backend, video_with_audio):
    segment = SegmentRef(str(video_with_audio), 0.0, 2.0, include_audio=False)
    from core_model.videollama.backend import ORIGINAL_OPTIONS

    kwargs = backend._generate_kwargs(ORIGINAL_OPTIONS, "llama_2")
    assert kwargs["do_sample"] and kwargs["top_p"] == 0.9 and kwargs["temperature"] == 1.0
    assert kwargs["max_new_tokens"] == 300 and kwargs["eos_token_id"] == 2
    assert "".join(backend.answer(with_media([Turn("user", "Hi")], [segment]), GenerationOptions(
        max_new_tokens=4, temperature=1.0, seed=3))).strip()


def test_cut_at_stop_text_across_pieces():
    assert "".join(_cut_at(iter([" A dog", " runs.#", "##Human: no"]), "###")) == "A dog runs."
    assert list(_cut_at(iter(["a#", "b"]), "###")) == ["a", "#b"]


def test_memory_estimate_without_loading(converted_dir):
    backend = VideoLlamaBackend(converted_dir, device="cpu")
    estimate = backend.memory_estimate()
    assert not backend.is_loaded
    assert {"vision encoder (EVA ViT-g)", "LLM weights"} <= set(estimate.parts_bytes)
    assert estimate.total_bytes > 0


def test_4bit_on_cpu_answers(converted_dir, video_with_audio):
    import bitsandbytes as bnb

    backend = VideoLlamaBackend(converted_dir, device="cpu", load_in_4bit=True)
    backend.load()
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in backend._model.llm.modules())
    segment = SegmentRef(str(video_with_audio), 0.0, 2.0, include_audio=False)
    answer = "".join(backend.answer(with_media([Turn("user", "What is shown?")], [segment]), GenerationOptions(max_new_tokens=4, temperature=0.0)))
    assert answer.strip() and backend.last_run.num_new_tokens == 4
    backend.unload()


def test_cli_ask_with_the_converted_model(converted_dir, video_with_audio, tmp_path, monkeypatch, capsys):
    import json

    from core_model.cli import main

    monkeypatch.setenv("VIDI_DATA_DIR", str(tmp_path / "data"))
    code = main(["ask", str(video_with_audio), "--start", "1", "--end", "4", "--model", str(converted_dir),
                 "--device", "cpu", "--max-new-tokens", "5", "--json", "What do you hear?"])
    out = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["answer"].strip() and result["model_id"] == converted_dir.name
    assert len(result["frame_timestamps_s"]) == 8 and result["used_audio"] is True


def test_recording_goes_through_the_audio_branch(backend, counted, audio_only):
    from core_model.backends import AudioRef

    assert backend.capabilities.audio
    recording = AudioRef(str(audio_only))
    answer = "".join(backend.answer(with_media([Turn("user", "What is this sound?")], [recording]), GREEDY))
    assert answer.strip() and backend.last_run.used_audio and counted == {"video": 0, "audio": 1}
    request = backend.prepare([Turn("user", "What is this sound?", (recording,))], GREEDY)
    assert request.prompt == ("[INST] <<SYS>>\n\n<</SYS>>\n\nClose your eyes, open your ears and you imagine only "
                              "based on the sound that: <ImageHere>. What is this sound? [/INST]")
    assert request.used_audio and request.frame_timestamps_s == []
    # the one placeholder became the audio Q-Former's query tokens, spliced between the prompt's two halves
    before, after = request.prompt.split("<ImageHere>")
    tokenizer = backend.model.tokenizer
    text_tokens = len(tokenizer(before)["input_ids"]) + len(tokenizer(after, add_special_tokens=False)["input_ids"])
    num_query_tokens = backend.config.audio_qformer_config.num_query_tokens
    assert request.inputs["inputs_embeds"].shape[1] == text_tokens + num_query_tokens


def test_tampered_weights_are_refused_at_load(converted_dir, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from core_model.backends import ModelLoadError

    folder = tmp_path / "tampered"
    shutil.copytree(converted_dir, folder)
    state = load_file(str(folder / "model.safetensors"))
    del state["video_qformer.encoder.layer.1.output_query.LayerNorm.bias"]
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(ModelLoadError, match=r"missing key 'video_qformer\.encoder\.layer\.1\.output_query"):
        VideoLlamaBackend(folder, device="cpu").load()
