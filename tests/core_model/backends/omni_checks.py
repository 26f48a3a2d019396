"""The checks test_qwen_omni.py and test_gemma4.py run alike on their family's tiny model (tests/fixtures/tiny_omni.py).

Each check asserts what holds for every omni family and returns what the family's test asserts further.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

from core_model.backends import AudioRef, GenerationOptions, ImageRef, SegmentRef, Turn, load_backend
from tests.fixtures.tiny_omni import TINY_OMNI_WORDS
from tests.asking import with_media

OPTIONS = GenerationOptions(num_frames=4, max_new_tokens=6)

ANSWER_WORDS = set(TINY_OMNI_WORDS) | {str(n) for n in range(100)} | set(".,?!:'-")
"""What a tiny omni model's answer is made of, split on spaces."""


def loaded_on_cpu(folder: Path) -> Iterator:
    """Body of a module fixture: the folder's backend (chosen by the registry), loaded on the CPU, then unloaded."""
    backend = load_backend(str(folder), device="cpu")
    backend.load()
    yield backend
    backend.unload()


def count_tokens(inputs, tokenizer, token: str) -> int:
    """How often ``token`` stands in the prompt's input_ids."""
    return int((inputs["input_ids"] == tokenizer.convert_tokens_to_ids(token)).sum())


def answer_about_segment(backend, video: Path):
    """Ask about 1-4 s of ``video`` (with its audio): at least 3 streamed pieces of tiny words. Returns last_run."""
    segment = SegmentRef(str(video), 1.0, 4.0)
    pieces = list(backend.answer(with_media([Turn("user", "what is in this video ?")], [segment]), OPTIONS))

    assert len(pieces) >= 3
    assert set("".join(pieces).split()) <= ANSWER_WORDS
    return backend.last_run


def answer_about_image_and_recording(backend, image: Path, recording: Path):
    """Ask about an image and a recording: answered, audio used, both in the inputs. Returns the prepared request."""
    media = [ImageRef(str(image)), AudioRef(str(recording))]
    pieces = list(backend.answer(with_media([Turn("user", "what do you see and hear ?")], media), OPTIONS))

    assert len(pieces) >= 3 and backend.last_run.used_audio
    request = backend.prepare(with_media([Turn("user", "what do you see and hear ?")], media), OPTIONS)
    assert "pixel_values" in request.inputs and "input_features" in request.inputs
    return request


def check_four_bit_on_cpu(folder: Path, image: Path, module_types: dict[str, type]) -> None:
    """Load ``folder`` in 4-bit on the CPU: each named module has its type, and an image question gets 3 tokens."""
    backend = load_backend(str(folder), device="cpu", load_in_4bit=True)
    backend.load()
    try:
        types = {name: type(module) for name, module in backend.model.named_modules()}
        for name, module_type in module_types.items():
            assert types[name] is module_type, name
        options = GenerationOptions(max_new_tokens=3)
        pieces = list(backend.answer(with_media([Turn("user", "what is this ?")], [ImageRef(str(image))]), options))
        assert pieces and backend.last_run.num_new_tokens == 3
    finally:
        backend.unload()
