"""The catalog's content and the recommendation for a few machines (fake DeviceInfo values, no torch)."""

import pytest

from core_model.device import DeviceInfo
from core_model.models.catalog import CATALOG, GB, format_bytes, get_entry, recommend

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


@pytest.mark.parametrize(
    "device, ram_gib, expected",
    [
        (cuda(80), None, "qwen2.5-omni-7b"),
        (cuda(12), None, "qwen2.5-omni-7b"),
        (cuda(8), None, "qwen2.5-vl-3b"),  # the omni models need more in 4-bit (bench/gpu_check.py --dry-run)
        (cuda(6), None, "qwen2.5-vl-3b"),
        (cuda(4), None, "smolvlm2-2.2b"),
        (cuda(24, bnb=False), None, "qwen2.5-omni-7b"),
        (cuda(12, bnb=False), None, "gemma-4-e2b"),
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
    if device.kind == "cuda" and device.bitsandbytes_available:
        assert choice.precision == "4-bit"
        assert choice.entry.memory_4bit_bytes <= device.total_memory_bytes
    else:
        assert choice.precision == "16-bit"
    if device.kind == "cpu":
        assert "slow" in choice.reason


def test_no_model_fits_a_tiny_device():
    choice = recommend(cuda(0.5))
    assert choice.entry is None
    assert "No catalog model fits" in choice.reason
    assert recommend(DeviceInfo(kind="cpu", name="CPU"), ram_bytes=256 << 20).entry is None


def test_recommendation_never_picks_a_model_that_cannot_be_pulled():
    for gib in (8, 12, 24, 80):
        assert recommend(cuda(gib)).entry.downloadable
