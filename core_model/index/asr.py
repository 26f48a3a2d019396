"""Speech recognition with Whisper through transformers, one 30-s window at a time.

    asr = WhisperTranscriber.load("/models/whisper-base")         # a local folder; never the hub from here
    for window in asr.transcribe("wedding.mp4", start_s=0.0, should_stop=stop.is_set):
        store.add_cues(..., window.cues, until_s=window.end_s)  # each window committed: a kill resumes there

Why windows of 30 s decoded one by one: Whisper's encoder takes exactly 30 s of audio, and decoding the window
just before it is transcribed keeps memory flat however long the video is (``load_audio`` decodes only that
window's packets). Each window is transcribed with timestamps; a window's cue times are offset by its start.
The language is detected once, on the first window that has sound, then kept for the rest (a second encoder
pass per window would cost about a third more); a window of silence is skipped without running the model.

Known limit: a word said across a window boundary may be cut in two (transformers' long-form mode would carry
the last timestamp over, but needs the whole audio in memory).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from core_model.errors import ModelLoadError
from core_model.media import load_audio, probe
from core_model.store.index_records import Cue

SAMPLE_RATE = 16_000
WINDOW_S = 30.0
SECONDS_PER_TIMESTAMP = 0.02
SILENCE_RMS = 1e-4
"""A window quieter than this (RMS of samples in [-1, 1]) holds no speech: the model is not run."""


@dataclass(frozen=True)
class AsrWindow:
    """One transcribed window: [start_s, end_s) of the video and the cues found in it."""

    start_s: float
    end_s: float
    cues: list[Cue] = field(default_factory=list)


class WhisperTranscriber:
    """A Whisper model and its processor, loaded from a local folder."""

    def __init__(self, model, processor, model_id: str, device: str = "cpu") -> None:
        self.model = model
        self.processor = processor
        self.model_id = model_id
        self.device = device
        self.language = ""
        """The language detected on the first window with sound (a code such as "en"), kept for the rest."""

    @classmethod
    def load(cls, folder: str | os.PathLike, model_id: str | None = None, device: str | None = None):
        """Load the Whisper in ``folder`` (float32 on the CPU, float16 on a GPU). ModelLoadError if it cannot."""
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        folder = Path(folder)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.float16 if device == "cuda" else torch.float32
        try:
            processor = WhisperProcessor.from_pretrained(folder)
            model = WhisperForConditionalGeneration.from_pretrained(folder, dtype=dtype).to(device).eval()
        except Exception as exc:  # noqa: BLE001  (any failure of a model folder is one line for the user)
            raise ModelLoadError(f"The speech model in '{folder}' cannot be loaded: {_first_line(exc)}") from exc
        return cls(model, processor, model_id or folder.name, device)

    def transcribe(self, video: str | os.PathLike, start_s: float = 0.0,
                   should_stop: Callable[[], bool] = lambda: False,
                   duration_s: float | None = None) -> Iterator[AsrWindow]:
        """Windows of WINDOW_S from ``start_s`` to the end of the audio, each with its cues, in order.

        Stops as soon as ``should_stop()`` is true, also in the middle of a window's generation (that window is
        then not yielded: building again redoes it whole). A video without sound yields nothing.
        """
        if duration_s is None:
            duration_s = probe(video).duration_s or 0.0
        window_start_s = float(start_s)
        while window_start_s < duration_s - 1e-3 and not should_stop():
            window_end_s = min(window_start_s + WINDOW_S, duration_s)
            audio = load_audio(video, window_start_s, window_end_s, sample_rate=SAMPLE_RATE)
            if audio is None:
                return
            cues = self.transcribe_window(audio, window_start_s, should_stop)
            if should_stop():
                return
            yield AsrWindow(window_start_s, window_end_s, cues)
            window_start_s = window_end_s

    def transcribe_window(self, audio: np.ndarray, offset_s: float,
                          should_stop: Callable[[], bool] = lambda: False) -> list[Cue]:
        """The cues of at most WINDOW_S of 16-kHz mono audio, times offset by ``offset_s``. Generation ends early
        when ``should_stop()`` turns true (the cues are then incomplete: the caller drops them)."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _StopWhenAsked(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), bool(should_stop()), dtype=torch.bool,
                                  device=input_ids.device)

        if audio.size == 0 or float(np.sqrt(np.mean(np.square(audio)))) < SILENCE_RMS:
            return []
        features = self.processor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        features = features.to(self.device, self.model.dtype)
        with torch.inference_mode():
            if not self.language:
                self.language = self._detect_language(features)
            tokens = self.model.generate(features, return_timestamps=True, task="transcribe",
                                         language=self.language or None,
                                         stopping_criteria=StoppingCriteriaList([_StopWhenAsked()]))
        length_s = audio.size / SAMPLE_RATE
        return self._cues(tokens[0].tolist(), offset_s, length_s)

    def _detect_language(self, features) -> str:
        try:
            token_id = int(self.model.detect_language(features)[0])
        except (AttributeError, ValueError, KeyError):  # an English-only Whisper has no language tokens
            return ""
        token = self.processor.tokenizer.convert_ids_to_tokens(token_id) or ""
        return token.strip("<|>")

    def _cues(self, token_ids: list[int], offset_s: float, length_s: float) -> list[Cue]:
        """Cues from Whisper's output: text tokens between timestamp tokens (<|1.24|> text <|3.50|>)."""
        timestamp_begin = self.model.generation_config.no_timestamps_token_id + 1
        special_ids = set(self.processor.tokenizer.all_special_ids)
        cues: list[Cue] = []
        start_s: float | None = None
        text_ids: list[int] = []
        for token_id in token_ids:
            if token_id >= timestamp_begin:
                time_s = min((token_id - timestamp_begin) * SECONDS_PER_TIMESTAMP, length_s)
                if start_s is None or not text_ids:
                    start_s = time_s
                    continue
                self._add_cue(cues, text_ids, offset_s + start_s, offset_s + max(time_s, start_s))
                start_s, text_ids = None, []
            elif token_id not in special_ids:
                text_ids.append(token_id)
        if text_ids:  # text after the last timestamp: it runs to the end of the window
            self._add_cue(cues, text_ids, offset_s + (start_s or 0.0), offset_s + length_s)
        return cues

    def _add_cue(self, cues: list[Cue], text_ids: list[int], start_s: float, end_s: float) -> None:
        text = " ".join(self.processor.tokenizer.decode(text_ids, skip_special_tokens=True).split())
        if text:
            cues.append(Cue(round(start_s, 3), round(end_s, 3), text, "asr", self.language))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
