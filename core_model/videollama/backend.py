"""The Vidi backend for a converted Video-LLaMA folder (``model_type: vidi_videollama``).

    backend = VideoLlamaBackend(Path("~/models/video-llama-2-7b"), device="auto")
    backend.load()
    for piece in backend.answer([Turn("user", "What do you hear?")], [SegmentRef("a.mp4", 65, 80)]):
        print(piece, end="")

One question, step by step (videollama-spec.md §2-§4):
 1. Each distinct medium of the conversation, where it first appears, becomes embeddings: a segment -> 32 video
    tokens (8 frames by the original's index rule) and, when the segment's audio is asked for and the model has the
    audio branch, 8 audio tokens (no audio track: video only, as the original demo falls back); an image -> 32
    tokens (T = 1). These are cached by (file fingerprint, segment, frames, audio, device, dtype): a follow-up
    question about the same segment runs no encoder at all.
 2. The conversation becomes the original's chat text (LLaMA-2 or Vicuna template, media message, Chat.ask's
    merging), split on ``<ImageHere>`` and spliced with the embeddings (``VideoLlama.embed_prompt``); cut on the
    left to fit 2000 positions with the new tokens, as Chat.answer does.
 3. ``LlamaForCausalLM.generate(inputs_embeds=...)`` streams through core_model.backends.generation; the stop text
    ("</s>" / "###") ends the stream. ``options=None`` means the original demo's settings (sampling, top_p 0.9,
    temperature 1.0, 300 new tokens); ``GenerationOptions(temperature=0)`` is greedy.

Precision: LLM in 4-bit NF4 on CUDA by default; encoders fp16 on CUDA, fp32 on the CPU. A recording (AudioRef,
e.g. a voice question) goes through the same audio branch (8 clips over the recording) with the audio half of the
original's audio+video sentence; the original demo itself only hears a video's soundtrack.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator, Sequence

from core_model.backends.base import (
    AudioRef,
    BackendError,
    CancelToken,
    Capabilities,
    Conversation,
    GenerationOptions,
    ImageRef,
    MediaRef,
    MemoryEstimate,
    ModelLoadError,
    OutOfMemoryError,
    ProgressCallback,
    RunInfo,
    SegmentRef,
    UnsupportedMediaError,
    check_media_supported,
)
from core_model.device import ensure_device_present, free_device_memory, requested_device
from core_model.videollama import prompts

ORIGINAL_OPTIONS = GenerationOptions(max_new_tokens=300, temperature=1.0, top_p=0.9, num_frames=8)
"""The original demo's generation settings (Chat.answer / gradio defaults)."""

CACHE_SIZE = 32
"""Media embeddings kept (each ~40 x llm_hidden values: ~0.3 MB in fp16 for 7B)."""


class VideoLlamaBackend:
    """Backend protocol implementation (core_model.backends.base.Backend) for Video-LLaMA folders."""

    def __init__(self, folder: Path | str, device: str = "auto", load_in_4bit: bool | None = None) -> None:
        from core_model.backends.quantization import use_4bit
        from core_model.videollama.configuration_videollama import VideoLlamaConfig

        self.folder = Path(folder)
        self.device = requested_device(device)
        self.load_in_4bit = use_4bit(self.device, load_in_4bit)
        try:
            self.config = VideoLlamaConfig.from_json_file(self.folder)
        except (OSError, ValueError, TypeError) as exc:
            raise ModelLoadError(f"'{self.folder}' is not a readable Video-LLaMA folder: {exc}") from exc
        self.model_id = self.folder.name
        # audio: the segment's soundtrack (and a recording) through the audio branch, when the folder has one
        self.capabilities = Capabilities(video=True, audio=self.config.has_audio, image=True)
        self.last_run = RunInfo(model_id=self.model_id)
        self._cancel = CancelToken()
        self._model = None
        self._processor = None
        self._cache: OrderedDict[tuple, dict[str, Any]] = OrderedDict()

    # ------------------------------------------------------------------------------------------------------------
    # Loading
    # ------------------------------------------------------------------------------------------------------------

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    @property
    def encoder_dtype(self):
        import torch

        return torch.float16 if self.device == "cuda" else torch.float32

    def load(self, progress: ProgressCallback | None = None) -> None:
        """Encoders, Q-Formers and LLM onto the device. ModelLoadError / OutOfMemoryError with plain messages."""
        if self.is_loaded:
            return
        ensure_device_present(self.device)
        import torch

        from core_model.videollama.modeling_videollama import ModelFilesError, VideoLlama
        from core_model.videollama.processing_videollama import VideoLlamaProcessor

        report = progress or (lambda fraction, message: None)
        report(0.0, "Loading Video-LLaMA" + (" (LLM in 4-bit)" if self.load_in_4bit else ""))
        try:
            model = VideoLlama.from_pretrained(
                self.folder, device=self.device, dtype=self.encoder_dtype, load_in_4bit=self.load_in_4bit
            )
        except torch.OutOfMemoryError as exc:
            free_device_memory(self.device)
            raise OutOfMemoryError(f"Video-LLaMA does not fit in {self.device.upper()} memory while loading.") from exc
        except (ModelFilesError, OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelLoadError(f"Cannot load Video-LLaMA from '{self.folder}': {exc}") from exc
        self._processor = VideoLlamaProcessor.from_pretrained(self.folder)
        self._model = model
        report(1.0, "Ready")

    def unload(self) -> None:
        self._model = None
        self._processor = None
        self._cache.clear()
        free_device_memory(self.device)

    def memory_estimate(self) -> MemoryEstimate:
        """Per-part memory from config.json alone (nothing is loaded): see core_model.videollama.memory."""
        from core_model.videollama.memory import plan_from_config

        return plan_from_config(self.folder, device=self.device, load_in_4bit=self.load_in_4bit)

    # ------------------------------------------------------------------------------------------------------------
    # Answering
    # ------------------------------------------------------------------------------------------------------------

    def cancel(self) -> None:
        self._cancel.cancel()

    def answer(self, conversation: Conversation, options: GenerationOptions | None = None) -> Iterator[str]:
        """Stream the answer to the last user turn. ``options=None``: the original demo's sampling settings."""
        media = conversation[-1].media if conversation else ()
        import torch

        from core_model.backends.generation import GenerationStats, finish_run, stream_generate

        options = options or ORIGINAL_OPTIONS
        if not conversation or conversation[-1].role != "user":
            raise BackendError("The conversation must end with a question from the user.")
        check_media_supported(self.capabilities, list(media) + [m for turn in conversation for m in turn.media])
        self._cancel.reset()
        run = RunInfo(model_id=self.model_id)
        self.last_run = run
        started_at = time.perf_counter()
        self.load()
        model = self._model

        try:
            with torch.inference_mode():
                conv, embeds = self._build_prompt(conversation, media, options, run)
                inputs_embeds = model.embed_prompt(conv.prompt(), embeds)  # [1, L, llm_hidden]
        except torch.OutOfMemoryError as exc:
            free_device_memory(self.device)
            raise OutOfMemoryError(f"Out of {self.device.upper()} memory while encoding the media.") from exc
        budget = prompts.MAX_CONTEXT_TOKENS - options.max_new_tokens  # Chat.answer: cut on the left
        if inputs_embeds.shape[1] > budget > 0:
            inputs_embeds = inputs_embeds[:, -budget:]
        run.prepare_s = time.perf_counter() - started_at

        if options.seed is not None:
            torch.manual_seed(options.seed)
        kwargs = self._generate_kwargs(options, conv.template)
        inputs = {
            "inputs_embeds": inputs_embeds,
            "attention_mask": torch.ones(inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device),
        }
        stats = GenerationStats()
        try:
            pieces = stream_generate(model.llm, inputs, model.tokenizer, self._cancel, stats, **kwargs)
            yield from _cut_at(pieces, conv.stop_text)
        except torch.OutOfMemoryError as exc:
            free_device_memory(self.device)
            raise OutOfMemoryError(f"Out of {self.device.upper()} memory while answering.") from exc
        finally:
            finish_run(run, stats, started_at)

    def _build_prompt(self, conversation, media, options, run):
        """The original's Conversation and the embeddings for its placeholders, in order."""
        first_kind = None
        embeds = []
        conv = None
        seen: set[MediaRef] = set()
        template = self.config.conv_template
        pending: list[tuple[str, Sequence[float]]] = []
        for index, turn in enumerate(conversation):
            if turn.role == "assistant":
                conv = conv or prompts.Conversation.for_media(first_kind, template)
                conv.add_answer(turn.text)
                continue
            refs = media if index == len(conversation) - 1 else turn.media
            pending = []
            for ref in refs:
                if ref in seen:
                    continue
                seen.add(ref)
                encoded = self._encode(ref, options)
                kind = encoded["kind"]
                first_kind = first_kind or kind
                pending.append((kind, encoded["relative_times_s"]))
                embeds += [encoded[name] for name in prompts.media_order(kind)]
                if isinstance(ref, SegmentRef):
                    run.frame_timestamps_s += encoded["times_s"]
                run.used_audio = run.used_audio or kind in ("video_audio", "audio")
            conv = conv or prompts.Conversation.for_media(first_kind, template)
            for kind, times in pending:
                conv.add_media(kind, times)
            conv.ask(turn.text)
        run.plan = self._describe(options, run)
        return conv, embeds

    def _describe(self, options, run) -> str:
        size = self.config.vision_config.image_size
        return f"{len(run.frame_timestamps_s)} frames at {size} px" + (", with audio" if run.used_audio else "")

    def _encode(self, ref: MediaRef, options: GenerationOptions) -> dict[str, Any]:
        """Embeddings of one medium, from the cache when the same file/segment/settings was encoded before."""
        from core_model.store.fingerprint import fingerprint_file

        try:
            fingerprint = fingerprint_file(ref.path)
        except OSError as exc:
            from core_model.media import MediaError

            raise MediaError(f"cannot read '{ref.path}': {exc.strerror or exc}") from None
        settings = (self.device, str(self.encoder_dtype))
        if isinstance(ref, SegmentRef):
            with_audio = ref.include_audio and self.config.has_audio
            key = ("segment", fingerprint, ref.start_s, ref.end_s, options.num_frames, with_audio, settings)
        elif isinstance(ref, AudioRef):
            key = ("audio", fingerprint, settings)
        else:
            key = ("image", fingerprint, settings)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if isinstance(ref, SegmentRef):
            encoded = self._encode_segment(ref, options, with_audio)
        elif isinstance(ref, AudioRef):
            encoded = self._encode_recording(ref)
        else:
            encoded = self._encode_image(ref)
        self._cache[key] = encoded
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return encoded

    def _encode_segment(self, ref: SegmentRef, options: GenerationOptions, with_audio: bool) -> dict[str, Any]:
        from core_model.videollama.processing_videollama import NoAudioError

        num_frames = min(options.num_frames, self.config.max_frame_positions)  # the frame embedding knows 32
        pixel_values, times_s = self._processor.video(ref.path, ref.start_s, ref.end_s, n_frames=num_frames)
        video = self._model.encode_video(pixel_values[None])  # [1, Qv, llm_hidden]
        audio = None
        if with_audio:
            try:
                features = self._processor.audio(ref.path, ref.start_s, ref.end_s)  # [S, 1, 128, 204]
            except NoAudioError:
                features = None  # the original demo: "no audio is found", video only
            if features is not None:
                audio = self._model.encode_audio(features[None])  # [1, Qa, llm_hidden]
        start_s = ref.start_s or 0.0
        return {
            "kind": "video_audio" if audio is not None else "video",
            "video": video,
            "audio": audio,
            "times_s": list(times_s),
            "relative_times_s": [t - start_s for t in times_s],
        }

    def _encode_recording(self, ref: AudioRef) -> dict[str, Any]:
        from core_model.videollama.processing_videollama import NoAudioError

        try:
            features = self._processor.audio(ref.path)  # [S, 1, 128, 204] over the whole recording
        except NoAudioError as exc:
            raise UnsupportedMediaError(f"The recording holds no sound: {exc}.") from None
        return {"kind": "audio", "audio": self._model.encode_audio(features[None]), "relative_times_s": ()}

    def _encode_image(self, ref: ImageRef) -> dict[str, Any]:
        pixel_values = self._processor.image(ref.path)  # [1, 3, S, S]
        return {"kind": "image", "video": self._model.encode_video(pixel_values[None]), "relative_times_s": ()}

    def _generate_kwargs(self, options: GenerationOptions, template: str) -> dict[str, Any]:
        from core_model.backends.generation import greedy_or_sampling

        eos_token_id = self._model.tokenizer.eos_token_id
        kwargs = greedy_or_sampling(options)
        kwargs.update(num_beams=1, eos_token_id=eos_token_id, pad_token_id=eos_token_id)
        if options.temperature > 0:  # Chat.answer's sampling: no top-k, no repetition penalty
            kwargs.update(top_k=None, repetition_penalty=1.0)
        if template == "vicuna":
            kwargs["stopping_criteria"] = [_stop_on_ids(prompts.VICUNA_STOP_IDS)]
        return kwargs


def _stop_on_ids(stops: Sequence[Sequence[int]]):
    """Chat.answer's StoppingCriteriaSub: stop when the generated ids end with one of ``stops``."""
    import torch
    from transformers import StoppingCriteria

    class StopOnIds(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            done = any(
                input_ids.shape[1] >= len(stop) and input_ids[0, -len(stop):].tolist() == list(stop) for stop in stops
            )
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    return StopOnIds()


def _cut_at(pieces: Iterator[str], stop_text: str) -> Iterator[str]:
    """Stream ``pieces`` up to ``stop_text`` (held back while a piece could be its start); strips leading spaces.

    After the stop text the rest is drained without being shown (the stopping criterion ends generation there).
    """
    held = ""
    started = stopped = False
    for piece in pieces:
        if stopped:
            continue
        held += piece
        if not started:
            held = held.lstrip()
            started = bool(held)
        if stop_text in held:
            before = held.split(stop_text)[0].rstrip()
            if before:
                yield before
            held, stopped = "", True
            continue
        keep = next((n for n in range(min(len(stop_text) - 1, len(held)), 0, -1)
                     if stop_text.startswith(held[-n:])), 0)
        ready, held = (held[:-keep], held[-keep:]) if keep else (held, "")
        if ready:
            yield ready
    if held:
        yield held
