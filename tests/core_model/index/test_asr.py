"""Whisper speech recognition plumbing on a tiny random-weight Whisper and espeak-ng speech (the text is random;
the windows, times, language and silence handling are what is tested)."""

import numpy as np
import pytest

from core_model.errors import ModelLoadError
from core_model.index.asr import WINDOW_S, WhisperTranscriber


@pytest.fixture(scope="module")
def transcriber(tiny_whisper):
    return WhisperTranscriber.load(tiny_whisper, "tiny-whisper", device="cpu")


def test_windows_cover_the_audio_in_order_with_cue_times_inside_each_window(transcriber, speech_video):
    windows = list(transcriber.transcribe(speech_video))
    assert [(w.start_s, w.end_s) for w in windows] == [(0.0, WINDOW_S), (WINDOW_S, pytest.approx(45.0, abs=0.1))]
    assert windows[0].cues, "the speech window gave no cue"
    for window in windows:
        for cue in window.cues:
            assert window.start_s <= cue.start_s <= cue.end_s <= window.end_s + 1e-6
            assert cue.source == "asr" and cue.text.strip()
    assert windows[1].cues == []  # silence after the speech: the model is not even run
    assert transcriber.language in {"en", "de", "fr", "es"}  # detected among the model's languages
    assert {cue.language for cue in windows[0].cues} == {transcriber.language}


def test_resuming_at_a_later_time_starts_there_and_stopping_stops(transcriber, speech_video):
    assert [w.start_s for w in transcriber.transcribe(speech_video, start_s=WINDOW_S)] == [WINDOW_S]
    assert list(transcriber.transcribe(speech_video, should_stop=lambda: True)) == []


def test_silence_costs_no_model_run(transcriber, monkeypatch):
    monkeypatch.setattr(transcriber.model, "generate", lambda *a, **k: pytest.fail("the model ran on silence"))
    assert transcriber.transcribe_window(np.zeros(16000 * 5, np.float32), 10.0) == []


def test_timestamps_become_cues_offset_by_the_window_start(transcriber):
    begin = transcriber.model.generation_config.no_timestamps_token_id + 1
    letters = transcriber.processor.tokenizer.convert_tokens_to_ids(list("Hi"))
    tokens = [begin + 50, *letters, begin + 100, begin + 100, *letters, begin + 150]  # <|1.00|>Hi<|2.00|>...
    cues = transcriber._cues(tokens, offset_s=30.0, length_s=30.0)
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(31.0, 32.0, "Hi"), (32.0, 33.0, "Hi")]


def test_a_folder_that_is_not_a_whisper_is_one_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot be loaded"):
        WhisperTranscriber.load(tmp_path)


def test_stop_during_a_window_ends_its_generation_and_the_window_is_dropped(transcriber, speech_video):
    steps = []

    def stop_after_three_tokens():
        steps.append(1)
        return len(steps) > 3

    assert list(transcriber.transcribe(speech_video, should_stop=stop_after_three_tokens)) == []
    assert 3 < len(steps) < 10  # asked at each generated token, not only between windows
