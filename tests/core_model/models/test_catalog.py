"""The catalog's content and the recommendation for a few machines (fake DeviceInfo values, no torch)."""

import pytest

from core_model.device import DeviceInfo
from core_model.models.catalog import (
    CATALOG,
    GB,
    GPU_HEADROOM_BYTES,
    format_bytes,
    get_entry,
    preference_order,
    recommend,
)

GIB = 1 << 30


def test_catalog_has_the_supported_models_with_their_hub_repos():
    ids = [entry.id for entry in CATALOG]
    assert len(ids) == len(set(ids))
    expected = {
        "qwen2.5-omni-7b": "Qwen/Qwen2.5-Omni-7B",
        "gemma-4-e2b": "google/gemma-4-E2B-it",
        "gemma-4-e4b": "google/gemma-4-E4B-it",
        "smolvlm2-256m": "HuggingFaceTB/SmolVLM2-256M-Video-Instruct",
        "smolvlm2-500m": "HuggingFaceTB/SmolVLM2-500M-Video-Instruct",
        "smolvlm2-2.2b": "HuggingFaceTB/SmolVLM2-2.2B-Instruct",
        "qwen2.5-vl-3b": "Qwen/Qwen2.5-VL-3B-Instruct",
        "qwen2.5-vl-7b": "Qwen/Qwen2.5-VL-7B-Instruct",
        "llava-onevision-0.5b": "llava-hf/llava-onevision-qwen2-0.5b-ov-hf",
        "videollama2-7b": None,
    }
    for model_id, repo_id in expected.items():
        entry = get_entry(model_id)
        assert entry is not None, model_id
        assert entry.repo_id == repo_id
        assert entry.size_bytes > 0 and entry.memory_4bit_bytes > 0 and entry.licence
        assert entry.memory_16bit_bytes > entry.memory_4bit_bytes
        assert "video" in entry.capability_names


def test_omni_models_hear_audio_and_are_apache_licensed():
    for model_id in ("qwen2.5-omni-7b", "gemma-4-e2b", "gemma-4-e4b"):
        entry = get_entry(model_id)
        assert entry.capability_names == ["video", "audio", "image"]
        assert entry.licence == "Apache-2.0"
    assert not get_entry("smolvlm2-500m").capabilities.audio


def test_videollama_is_built_locally_and_says_how():
    entry = get_entry("videollama2-7b")
    assert not entry.downloadable
    assert "vidi convert videollama" in entry.how_to_get
    assert "vidi models import" in entry.how_to_get
    assert "Llama 2" in entry.access_note and "https://" in entry.access_note


def test_get_entry_is_case_insensitive_and_none_for_unknown():
    assert get_entry("Gemma-4-E2B").id == "gemma-4-e2b"
    assert get_entry("nope") is None


def test_format_bytes():
    assert format_bytes(22.4 * GB) == "22.4 GB"
    assert format_bytes(512_000_000) == "512 MB"
    assert format_bytes(999) == "999 B"
    assert format_bytes(None) == "?"


def cuda(total_gib, bnb=True):
    return DeviceInfo(kind="cuda", name="Test GPU", total_memory_bytes=int(total_gib * GIB),
                      compute_capability=(8, 6), bitsandbytes_available=bnb)


def first_fit(device, budget, four_bit):
    """The expectation, from the catalog's own figures: the best-ranked downloadable model whose GPU figure (what
    the backend places on the GPU) fits ``budget``."""
    for entry in sorted((e for e in CATALOG if e.downloadable), key=lambda e: e.rank):
        need = entry.memory_4bit_bytes if four_bit else entry.memory_16bit_bytes - entry.cpu_memory_bytes
        if need <= budget:
            return entry.id
    return None


@pytest.mark.parametrize("gib, bnb", [(80, True), (12, True), (8, True), (6, True), (4, True), (24, False),
                                      (12, False)])
def test_recommendation_for_a_cuda_gpu_is_the_best_ranked_model_whose_gpu_share_fits(gib, bnb):
    device = cuda(gib, bnb)
    choice = recommend(device)
    expected = first_fit(device, device.total_memory_bytes - GPU_HEADROOM_BYTES, bnb)
    assert choice.entry is not None and choice.entry.id == expected, choice.reason
    assert choice.entry.name in choice.reason
    assert choice.precision == ("4-bit" if bnb else "16-bit")
    assert choice.entry.gpu_memory_bytes(bnb) + GPU_HEADROOM_BYTES <= device.total_memory_bytes
    if choice.entry.cpu_memory_bytes:
        assert format_bytes(choice.entry.cpu_memory_bytes) + " of RAM" in choice.reason


def test_a_12gb_gpu_gets_qwen_omni_and_small_gpus_get_a_gemma_4_that_hears():
    assert recommend(cuda(12)).entry.id == "qwen2.5-omni-7b"
    for gib in (4, 4.5, 5, 6, 7, 8):
        entry = recommend(cuda(gib)).entry
        assert entry.backend == "gemma4" and entry.capabilities.audio, (gib, entry.id)


def test_gemma_4_e2b_is_offered_to_small_gpus_because_its_per_layer_table_stays_in_ram():
    e2b, e4b = get_entry("gemma-4-e2b"), get_entry("gemma-4-e4b")
    # The smallest GPU (in 0.25 GiB steps) that gets any recommendation gets Gemma 4 E2B, and only because the
    # per-layer embedding table is not counted on the GPU: the whole model would not fit there.
    smallest = next(q / 4 for q in range(4, 160) if recommend(cuda(q / 4)).entry is not None
                    and recommend(cuda(q / 4)).entry.capabilities.audio)
    device = cuda(smallest)
    assert recommend(device).entry.id == "gemma-4-e2b"
    budget = device.total_memory_bytes - GPU_HEADROOM_BYTES
    assert e2b.memory_4bit_bytes <= budget < e2b.memory_4bit_bytes + e2b.cpu_memory_bytes
    assert smallest <= 4  # a 4 GB card (the target: E2B under 4 GB)
    assert e4b.memory_4bit_bytes > budget
    for entry in (e2b, e4b):
        assert entry.cpu_memory_bytes > 0
        assert entry.gpu_memory_bytes(False) == entry.memory_16bit_bytes - entry.cpu_memory_bytes
    assert all(e.cpu_memory_bytes == 0 for e in CATALOG if e.backend != "gemma4")


@pytest.mark.parametrize(
    "device, ram_gib, expected",
    [
        (DeviceInfo(kind="mps", name="Apple GPU (MPS)"), 36, "qwen2.5-omni-7b"),
        (DeviceInfo(kind="cpu", name="CPU"), 64, "gemma-4-e2b"),
        (DeviceInfo(kind="cpu", name="CPU"), 16, "gemma-4-e2b"),
        (DeviceInfo(kind="cpu", name="CPU"), 8, "smolvlm2-2.2b"),
        (DeviceInfo(kind="cpu", name="CPU"), 2, "smolvlm2-256m"),
    ],
)
def test_recommendation_fits_the_device(device, ram_gib, expected):
    ram = None if ram_gib is None else ram_gib * GIB
    choice = recommend(device, ram_bytes=ram)
    assert choice.entry is not None and choice.entry.id == expected, choice.reason
    assert choice.entry.name in choice.reason
    assert choice.precision == "16-bit"
    assert choice.entry.memory_16bit_bytes <= ram  # the whole model, towers and tables, in the machine's memory
    if device.kind == "cpu":
        assert "slow" in choice.reason


@pytest.mark.parametrize("device, ram_gib", [(cuda(12), None), (cuda(4), None), (cuda(2), None),
                                             (DeviceInfo(kind="cpu", name="CPU"), 16)])
def test_preference_order_starts_with_the_recommendation_and_lists_every_model(device, ram_gib):
    ram = None if ram_gib is None else ram_gib * GIB
    order = preference_order(device, ram_bytes=ram)
    assert sorted(e.id for e in order) == sorted(e.id for e in CATALOG)
    assert order[0].id == recommend(device, ram_bytes=ram).entry.id


def test_no_model_fits_a_tiny_device():
    choice = recommend(cuda(0.5))
    assert choice.entry is None
    assert "No catalog model fits" in choice.reason
    assert recommend(DeviceInfo(kind="cpu", name="CPU"), ram_bytes=256 << 20).entry is None


def test_recommendation_never_picks_a_model_that_cannot_be_pulled():
    for gib in (8, 12, 24, 80):
        assert recommend(cuda(gib)).entry.downloadable
