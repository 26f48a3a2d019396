"""What only a CUDA GPU can show: 4-bit NF4 on the GPU, and a real CUDA out-of-memory error. Marked ``gpu``:
skipped where torch sees no CUDA device (tests/conftest.py), run on a machine with one
(``pytest -m gpu tests/core_model/test_gpu.py``)."""

from __future__ import annotations

import pytest
import torch

from core_model.backends import GenerationOptions, ImageRef, SegmentRef, Turn, load_backend
from core_model.errors import OutOfMemoryError

pytestmark = pytest.mark.gpu


def _answer(backend, media=(), max_new_tokens=6) -> str:
    turn = Turn("user", "What is in the picture?", tuple(media))
    return "".join(backend.answer([turn], GenerationOptions(max_new_tokens=max_new_tokens, num_frames=4)))


@pytest.fixture
def gpu_backend(tiny_vlm_dir):
    backend = load_backend(str(tiny_vlm_dir), device="cuda", load_in_4bit=True)
    backend.load()
    yield backend
    backend.unload()
    torch.cuda.empty_cache()


def test_four_bit_nf4_loads_and_answers_on_the_gpu(gpu_backend, video_with_audio, image_png):
    import bitsandbytes as bnb

    quantized = [m for m in gpu_backend._model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert quantized and quantized[0].weight.quant_type == "nf4"
    assert quantized[0].weight.device.type == "cuda"
    info = gpu_backend.describe()
    assert info.device == "cuda" and info.load_in_4bit and info.precision == "4-bit"
    answer = _answer(gpu_backend, [SegmentRef(str(video_with_audio), 1.0, 3.0), ImageRef(str(image_png))])
    assert answer.split() and gpu_backend.last_run.num_new_tokens == 6


def test_a_real_cuda_out_of_memory_is_one_clear_error_and_the_next_question_works(gpu_backend, video_with_audio):
    segment = [SegmentRef(str(video_with_audio), 1.0, 3.0)]
    assert _answer(gpu_backend, segment)
    free_bytes, _ = torch.cuda.mem_get_info()
    filler = []
    try:  # leave the GPU almost nothing: the next forward pass cannot allocate its activations
        while free_bytes > 64 << 20:
            filler.append(torch.empty(max(free_bytes - (32 << 20), 1 << 20), dtype=torch.uint8, device="cuda"))
            free_bytes, _ = torch.cuda.mem_get_info()
    except torch.OutOfMemoryError:
        pass
    try:
        with pytest.raises(OutOfMemoryError) as info:
            _answer(gpu_backend, segment, max_new_tokens=64)
        assert "\n" not in str(info.value) and "memory" in str(info.value).lower()
    finally:
        filler.clear()
        torch.cuda.empty_cache()
    assert _answer(gpu_backend, segment)  # the backend is still usable once memory is back
