"""Gemma 4 (E2B, E4B, ...): video frames, the segment's audio, images and recordings in, text out.

    backend = Gemma4Backend(Path("~/models/gemma-4-E2B-it"), device="auto")
    for piece in backend.answer([Turn("user", "What is said here?", (SegmentRef("talk.mp4", 65, 80),))]):
        print(piece, end="")

Gemma 4 has no audio-in-video mode: a segment becomes a video item (its frames, each labelled "mm:ss" with its
time in the file, from a ``VideoMetadata``) followed by an audio item with the segment's sound. Frames are sampled
here, so the processor gets ``do_sample_frames=False`` (its default would resample to 32 frames and fail). The
resolution knob is the processor's ``max_soft_tokens`` per frame (70 or 140 for video; see core_model.budget).
One audio item holds at most 30 s (750 tokens of 40 ms), so longer audio is cut into 30-s items. The released
generation config samples, so greedy decoding passes ``do_sample=False`` explicitly.

Memory: on CUDA the per-layer embedding table (PLE, ~4 GB in bf16 for E2B) stays in the CPU's memory and only the
rows of the prompt's tokens go to the GPU. With the rest in 4-bit (towers and projections in 16-bit) E2B's weights
on the GPU come to ~3.2 GB instead of ~7 GB (counted from transformers' E2B-sized default config; not yet measured
on a GPU here: the CPU tests run the same hooks with both sides on the CPU).
"""

from __future__ import annotations

from typing import Any

from core_model.backends.base import GenerationOptions, Turn
from core_model.backends.generation import greedy_or_sampling
from core_model.backends.costs import gemma4_costs
from core_model.backends.transformers_base import (
    SAMPLE_RATE,
    Decoded,
    DecodedAudio,
    DecodedImage,
    DecodedSegment,
    PreparedRequest,
    TransformersBackend,
    check_all_weights_loaded,
)
from core_model.backends.quantization import skip_modules_for
from core_model.budget import ModelCosts, Plan

AUDIO_ITEM_SAMPLES = 30 * SAMPLE_RATE
"""Longest audio one item takes (750 soft tokens x 40 ms)."""


class Gemma4Backend(TransformersBackend):
    """Gemma 4 with its vision and audio towers (module docstring)."""

    skip_modules = tuple(skip_modules_for("gemma4"))
    """Kept in 16-bit under 4-bit loading: the vision and audio encoders, their projections into the language
    model, and the output head (tied to the embeddings)."""

    def _costs(self) -> ModelCosts:
        return gemma4_costs(self.config)

    def _load_model(self, kwargs: dict[str, Any]):
        from transformers import Gemma4ForConditionalGeneration

        offload = self.device == "cuda" and has_per_layer_embeddings(self.config)
        if offload:
            kwargs = per_layer_embeddings_on_cpu(kwargs)
        model, info = Gemma4ForConditionalGeneration.from_pretrained(self.folder, output_loading_info=True, **kwargs)
        check_all_weights_loaded(self.folder, info)
        if offload:
            return_to_device(model.get_submodule(PER_LAYER_EMBEDDINGS), "cuda:0")
        return model

    def _build_inputs(
        self, turns: list[tuple[Turn, list[Decoded]]], plan: Plan, options: GenerationOptions
    ) -> PreparedRequest:
        from core_model.backends.hf_image_text import video_metadata

        segments = [item for _turn, items in turns for item in items if isinstance(item, DecodedSegment)]
        messages: list[dict] = []
        videos, metadata, images, audios = [], [], [], []
        for turn, items in turns:
            content: list[dict] = []
            for item in items:
                if isinstance(item, DecodedSegment):
                    content.append({"type": "video"})
                    videos.append(item.clip.frames)
                    metadata.append(video_metadata(item.clip))
                    if item.audio is not None:
                        for piece in split_audio(item.audio):
                            content.append({"type": "audio"})
                            audios.append(piece)
                elif isinstance(item, DecodedImage):
                    content.append({"type": "image"})
                    images.append(item.pixels)
                elif isinstance(item, DecodedAudio):
                    for piece in split_audio(item.wave):
                        content.append({"type": "audio"})
                        audios.append(piece)
            content.append({"type": "text", "text": turn.text})
            messages.append({"role": turn.role, "content": content})

        prompt = self._processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        kwargs: dict[str, Any] = {}
        if videos:
            kwargs["videos_kwargs"] = {
                "video_metadata": metadata,
                "do_sample_frames": False,
                "max_soft_tokens": plan.level,
            }
        if images:
            kwargs["images_kwargs"] = {"max_soft_tokens": plan.image_level}
        inputs = self._run_processor(
            text=[prompt], videos=videos or None, images=images or None, audio=audios or None,
            return_tensors="pt", **kwargs,
        )
        logged = dict(kwargs)  # what the processor got, metadata objects left out
        if videos:
            logged["videos_kwargs"] = {k: v for k, v in kwargs["videos_kwargs"].items() if k != "video_metadata"}
        return PreparedRequest(
            inputs=inputs, generate_kwargs=greedy_or_sampling(options), processor_kwargs=logged, plan=plan,
            segments=segments, prompt=prompt, used_audio=bool(audios),
        )


PER_LAYER_EMBEDDINGS = "model.language_model.embed_tokens_per_layer"
"""Gemma 4's per-layer embedding table (PLE): vocabulary x layers x 256 values, ~2 B parameters (4 GB in bf16) in
E2B, more than the whole rest of the model in 4-bit. It is a lookup, not a matrix product: it stays in the CPU's
memory and only the looked-up rows ([tokens, layers x 256]) travel to the GPU."""


def has_per_layer_embeddings(config: dict) -> bool:
    return bool((config.get("text_config") or {}).get("hidden_size_per_layer_input"))


def per_layer_embeddings_on_cpu(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``from_pretrained`` kwargs that place the per-layer embedding table on the CPU and the rest on GPU 0."""
    kwargs = dict(kwargs, device_map={PER_LAYER_EMBEDDINGS: "cpu", "": 0})
    quantization = kwargs.get("quantization_config")
    if quantization is not None:  # bitsandbytes refuses CPU placement unless told those modules stay unquantized
        quantization.llm_int8_enable_fp32_cpu_offload = True
    return kwargs


def return_to_device(module, device) -> None:
    """Make ``module`` (kept on the CPU) take its input there and hand its output back on ``device``."""

    def inputs_to_cpu(_module, args):
        return tuple(arg.to("cpu") if hasattr(arg, "to") else arg for arg in args)

    def output_to_device(_module, _args, output):
        return output.to(device)

    module.register_forward_pre_hook(inputs_to_cpu)
    module.register_forward_hook(output_to_device)


def split_audio(wave, max_samples: int = AUDIO_ITEM_SAMPLES) -> list:
    """``wave`` cut into consecutive pieces of at most ``max_samples`` samples (one audio item each)."""
    return [wave[start : start + max_samples] for start in range(0, max(len(wave), 1), max_samples)]
