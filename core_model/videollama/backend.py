"""The Vidi backend for a converted Video-LLaMA folder (``model_type: vidi_videollama``).

    backend = VideoLlamaBackend(Path("~/models/video-llama-2-7b"), device="auto")
    backend.load()
    for piece in backend.answer([Turn("user", "What do you hear?", (SegmentRef("a.mp4", 65, 80),))]):
        print(piece, end="")

One question, step by step (videollama-spec.md §2-§4; loading, planning, Stop and errors are the shared
core_model.backends.transformers_base's):
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

Precision: the one device policy (core_model.backends.policy): LLM in 4-bit NF4 on CUDA by default, encoders in
its compute dtype (bf16 from Ampere on, fp16 before, fp32 on the CPU). A recording (AudioRef,
e.g. a voice question) goes through the same audio branch (8 clips over the recording) with the audio half of the
original's audio+video sentence; the original demo itself only hears a video's soundtrack.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator, Sequence

from core_model.backends.base import (
    AudioRef,
    Capabilities,
    GenerationOptions,
    ImageRef,
    MediaRef,
    MemoryEstimate,
    SegmentRef,
    Turn,
    UnsupportedMediaError,
)
from core_model.backends.transformers_base import PreparedRequest, TransformersBackend
from core_model.budget import ModelCosts, Plan
from core_model.errors import MediaError, ModelLoadError
from core_model.videollama import prompts

ORIGINAL_OPTIONS = GenerationOptions(max_new_tokens=300, temperature=1.0, top_p=0.9, num_frames=8)
"""The original demo's generation settings (Chat.answer / gradio defaults)."""

CACHE_SIZE = 32
"""Media embeddings kept (each ~40 x llm_hidden values: ~0.3 MB in fp16 for 7B)."""


class VideoLlamaBackend(TransformersBackend):
    """Backend protocol implementation (core_model.backends.base.Backend) for Video-LLaMA folders."""

    default_options = ORIGINAL_OPTIONS
    resends_earlier_media = True  # embeddings are cached: the original's chat keeps its media at no encoder cost
    decodes_own_media = True  # its processor reads frames with decord's in-decoder resize, bit-exact with the original

    def __init__(self, *args, **kwargs) -> None:
        self._cache: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        super().__init__(*args, **kwargs)

    # -- family hooks -------------------------------------------------------------------------------------------

    def _read_config(self):
        from core_model.videollama.configuration_videollama import VideoLlamaConfig

        try:
            return VideoLlamaConfig.from_json_file(self.folder)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise ModelLoadError(f"'{self.folder}' is not a readable Video-LLaMA folder: {exc}") from exc

    def _capabilities(self) -> Capabilities:
        # audio: the segment's soundtrack (and a recording) through the audio branch, when the folder has one
        return Capabilities(video=True, audio=self.config.has_audio, image=True)

    def _costs(self) -> ModelCosts:
        from core_model.backends.costs import videollama_costs

        vision = {"image_size": self.config.vision_config.image_size,
                  "patch_size": self.config.vision_config.patch_size,
                  "hidden_size": self.config.vision_config.hidden_size,
                  "intermediate_size": self.config.vision_config.intermediate_size}
        return videollama_costs(self.config.text_config, vision, self.config.max_frame_positions,
                                dtype_bytes=self.policy.dtype_bytes)

    def _load_processor(self):
        from core_model.videollama.processing_videollama import VideoLlamaProcessor

        return VideoLlamaProcessor.from_pretrained(self.folder)

    def _load_model(self, kwargs: dict[str, Any]):
        from core_model.videollama.modeling_videollama import VideoLlama

        return VideoLlama.from_pretrained(
            self.folder, device=self.device, dtype=self.policy.dtype, load_in_4bit=self.load_in_4bit
        )

    def unload(self) -> None:
        self._cache.clear()
        super().unload()

    def memory_estimate(self) -> MemoryEstimate:
        """Per-part memory from config.json alone (nothing is loaded): see core_model.videollama.memory."""
        from core_model.videollama.memory import plan_from_config

        return plan_from_config(self.folder, device=self.device, load_in_4bit=self.load_in_4bit)

    # -- the request ---------------------------------------------------------------------------------------

    def _build_inputs(self, turns: list[tuple[Turn, list[Any]]], plan: Plan, options: GenerationOptions
                      ) -> PreparedRequest:
        """The original's Conversation, its placeholders' embeddings spliced in, cut on the left to fit."""
        import torch

        frames_per_segment = iter(segment.num_frames for segment in plan.segments)
        first_kind = None
        embeds: list = []
        frame_times: list[float] = []
        used_audio = False
        conv = None
        template = self.config.conv_template
        with torch.inference_mode():
            for turn, refs in turns:
                if turn.role == "assistant":
                    conv = conv or prompts.Conversation.for_media(first_kind, template)
                    conv.add_answer(turn.text)
                    continue
                pending: list[tuple[str, Sequence[float]]] = []
                for ref in refs:
                    frames = next(frames_per_segment) if isinstance(ref, SegmentRef) else 0
                    encoded = self._encode(ref, frames)
                    kind = encoded["kind"]
                    first_kind = first_kind or kind
                    pending.append((kind, encoded["relative_times_s"]))
                    embeds += [encoded[name] for name in prompts.media_order(kind)]
                    if isinstance(ref, SegmentRef):
                        frame_times += encoded["times_s"]
                    used_audio = used_audio or kind in ("video_audio", "audio")
                conv = conv or prompts.Conversation.for_media(first_kind, template)
                for kind, times in pending:
                    conv.add_media(kind, times)
                conv.ask(turn.text)
            prompt = conv.prompt()
            inputs_embeds = self._model.embed_prompt(prompt, embeds)  # [1, L, llm_hidden]
        budget = prompts.MAX_CONTEXT_TOKENS - options.max_new_tokens  # Chat.answer: cut on the left
        if inputs_embeds.shape[1] > budget > 0:
            inputs_embeds = inputs_embeds[:, -budget:]
        inputs = {
            "inputs_embeds": inputs_embeds,
            "attention_mask": torch.ones(inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device),
        }
        return PreparedRequest(
            inputs=inputs, generate_kwargs=self._generate_kwargs(options, template), processor_kwargs={}, plan=plan,
            prompt=prompt, used_audio=used_audio, frame_timestamps_s=frame_times, stop_text=conv.stop_text,
        )

    def _generate(self, request: PreparedRequest, stats) -> Iterator[str]:
        from core_model.backends.generation import stream_generate

        model = self._model
        pieces = stream_generate(model.llm, request.inputs, model.tokenizer, self._cancel, stats,
                                 **request.generate_kwargs)
        return _cut_at(pieces, request.stop_text)

    def _encode(self, ref: MediaRef, num_frames: int) -> dict[str, Any]:
        """Embeddings of one medium, from the cache when the same file/segment/settings was encoded before."""
        from core_model.store.fingerprint import fingerprint_file

        try:
            fingerprint = fingerprint_file(ref.path)
        except OSError as exc:
            raise MediaError(f"cannot read '{ref.path}': {exc.strerror or exc}") from None
        settings = (self.device, self.policy.dtype_name)
        if isinstance(ref, SegmentRef):
            with_audio = ref.include_audio and self.config.has_audio
            key = ("segment", fingerprint, ref.start_s, ref.end_s, num_frames, with_audio, settings)
        elif isinstance(ref, AudioRef):
            key = ("audio", fingerprint, settings)
        else:
            key = ("image", fingerprint, settings)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        self._checkpoint("encoders")
        if isinstance(ref, SegmentRef):
            encoded = self._encode_segment(ref, num_frames, with_audio)
        elif isinstance(ref, AudioRef):
            encoded = self._encode_recording(ref)
        else:
            encoded = self._encode_image(ref)
        self._cache[key] = encoded
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return encoded

    def _encode_segment(self, ref: SegmentRef, num_frames: int, with_audio: bool) -> dict[str, Any]:
        from core_model.videollama.processing_videollama import NoAudioError

        pixel_values, times_s = self._processor.video(ref.path, ref.start_s, ref.end_s, n_frames=num_frames)
        self._checkpoint("encoders")
        video = self._model.encode_video(pixel_values[None])  # [1, Qv, llm_hidden]
        audio = None
        if with_audio:
            try:
                features = self._processor.audio(ref.path, ref.start_s, ref.end_s)  # [S, 1, 128, 204]
            except NoAudioError:
                features = None  # the original demo: "no audio is found", video only
            if features is not None:
                self._checkpoint("encoders")
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
