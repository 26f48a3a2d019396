"""The models Vidi supports, what each takes and needs, and which one fits a given machine.

    entry = get_entry("gemma-4-e2b")        # CatalogEntry(repo_id="google/gemma-4-E2B-it", ...)
    choice = recommend(detect_device())     # Recommendation(entry=..., reason="fits the 8.0 GB GPU in 4-bit")

Figures are planning figures, not promises: ``size_bytes`` is the download's approximate size (the hub's file
list gives the exact figure when a pull starts, and the free-space check uses that); ``memory_4bit_bytes`` is the
peak GPU memory planned for a question about a 15-s segment (with its audio where the model hears) with the
language model in 4-bit NF4 and the vision/audio towers in 16-bit, placed as the backend places it under CUDA
(bench/gpu_check.py --dry-run prints how each figure splits); ``cpu_memory_bytes`` is what that placement keeps in
the CPU's RAM instead (Gemma 4's per-layer embedding table, 16-bit; 0 for models wholly on the GPU);
``memory_16bit_bytes`` is the whole model unquantized on one device (Apple MPS, the CPU); CUDA without bitsandbytes
needs it less ``cpu_memory_bytes`` on the GPU (``gpu_memory_bytes``). Nothing here touches the network or imports
torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from core_model.backends.base import Capabilities

GB = 1_000_000_000
"""Sizes are shown in decimal gigabytes, as the hub and file managers show them."""

GPU_HEADROOM_BYTES = int(0.5 * GB)
"""GPU memory kept free for the CUDA context, the desktop and other programs when judging whether a model fits."""

RAM_FRACTION = {"cpu": 0.75, "mps": 0.6}
"""Share of the system's RAM a model may take on the CPU, or on Apple's unified memory (shared with the GPU)."""


@dataclass(frozen=True)
class CatalogEntry:
    """One supported model.

    ``backend`` names the Vidi backend family that runs it ("qwen2_5_omni", "gemma4", "image_text_to_text",
    "videollama"). ``repo_id`` is None for a model that is built locally rather than downloaded as one repo
    (``how_to_get`` then says how). ``gated`` is True when the hub asks the user to accept terms before it serves
    the files; ``access_note`` says what must be accepted and where (also for licence-bound models that are not
    gated). ``rank``: lower is better when several models fit.
    """

    id: str
    name: str
    repo_id: str | None
    backend: str
    size_bytes: int
    licence: str
    licence_url: str
    capabilities: Capabilities
    memory_4bit_bytes: int
    memory_16bit_bytes: int
    rank: int
    cpu_memory_bytes: int = 0
    """RAM the backend keeps weights in under CUDA (Gemma 4's per-layer embeddings); not in the GPU figures."""
    gated: bool = False
    access_note: str = ""
    how_to_get: str = ""
    notes: str = ""
    purpose: str = "answer"
    """"answer": a model that answers questions; "speech": speech recognition for the index (never asked)."""

    @property
    def downloadable(self) -> bool:
        return self.repo_id is not None

    @property
    def hub_url(self) -> str | None:
        return f"https://huggingface.co/{self.repo_id}" if self.repo_id else None

    def gpu_memory_bytes(self, four_bit: bool) -> int:
        """GPU memory planned under CUDA, 4-bit or 16-bit, with what the backend keeps in RAM left out."""
        if four_bit:
            return self.memory_4bit_bytes
        return self.memory_16bit_bytes - self.cpu_memory_bytes

    @property
    def capability_names(self) -> list[str]:
        """["video", "audio", "image"] filtered to what the model takes."""
        caps = self.capabilities
        return [name for name, flag in (("video", caps.video), ("audio", caps.audio), ("image", caps.image)) if flag]


_AV = Capabilities(video=True, audio=True, image=True)
_V = Capabilities(video=True, audio=False, image=True)
_APACHE = ("Apache-2.0", "https://www.apache.org/licenses/LICENSE-2.0")

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        id="qwen2.5-omni-7b",
        name="Qwen2.5-Omni 7B",
        repo_id="Qwen/Qwen2.5-Omni-7B",
        backend="qwen2_5_omni",
        size_bytes=int(22.4 * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        capabilities=_AV,
        memory_4bit_bytes=int(9.5 * GB),
        memory_16bit_bytes=int(19.5 * GB),
        rank=10,
        notes="Sees the segment's frames and hears its audio together. Vidi runs the Thinker only (text out); "
        "the download also holds the speech Talker, which is not loaded.",
    ),
    CatalogEntry(
        id="gemma-4-e4b",
        name="Gemma 4 E4B",
        repo_id="google/gemma-4-E4B-it",
        backend="gemma4",
        size_bytes=int(16.0 * GB),
        licence=_APACHE[0],
        licence_url="https://ai.google.dev/gemma/docs/gemma_4_license",
        capabilities=_AV,
        memory_4bit_bytes=int(5.56 * GB),
        memory_16bit_bytes=int(17.5 * GB),
        rank=20,
        cpu_memory_bytes=int(5.64 * GB),
        notes="Audio, video and images. Its per-layer embeddings (2.8 B of its 8 B parameters, 5.6 GB in bf16) are "
        "a lookup table that Vidi keeps in the computer's RAM on an NVIDIA GPU: only the rest takes GPU memory.",
    ),
    CatalogEntry(
        id="gemma-4-e2b",
        name="Gemma 4 E2B",
        repo_id="google/gemma-4-E2B-it",
        backend="gemma4",
        size_bytes=int(10.2 * GB),
        licence=_APACHE[0],
        licence_url="https://ai.google.dev/gemma/docs/gemma_4_license",
        capabilities=_AV,
        memory_4bit_bytes=int(3.75 * GB),
        memory_16bit_bytes=int(11.5 * GB),
        rank=30,
        cpu_memory_bytes=int(4.70 * GB),
        notes="Audio, video and images; the small omni model for small GPUs and the CPU. Its per-layer embeddings "
        "(2.3 B of its 5.1 B parameters, 4.7 GB in bf16) are a lookup table that Vidi keeps in the computer's RAM "
        "on an NVIDIA GPU: only the rest takes GPU memory.",
    ),
    CatalogEntry(
        id="videollama2-7b",
        name="Video-LLaMA-2 7B (converted)",
        repo_id=None,
        backend="videollama",
        size_bytes=int(15.9 * GB),
        licence="BSD-3-Clause (Video-LLaMA) + Llama 2 Community License",
        licence_url="https://ai.meta.com/llama/license/",
        capabilities=_AV,
        memory_4bit_bytes=int(7.3 * GB),
        memory_16bit_bytes=int(17.0 * GB),
        rank=40,
        access_note="Its language model is Llama-2-7B-Chat, bound by the Llama 2 Community License "
        "(https://ai.meta.com/llama/license/): you accept it by using the model; Meta's own copy "
        "(https://huggingface.co/meta-llama/Llama-2-7b-chat-hf) is gated: accept the licence there while logged in.",
        how_to_get="Not downloadable as one repo: Vidi builds it from the official files. Download "
        "VL_LLaMA_2_7B_Finetuned.pth, AL_LLaMA_2_7B_Finetuned.pth, imagebind_huge.pth and the llama-2-7b-chat-hf "
        "folder from https://huggingface.co/DAMO-NLP-SG/Video-LLaMA-2-7B-Finetuned, plus eva_vit_g.pth and "
        "blip2_pretrained_flant5xxl.pth (LAVIS), then run: vidi convert videollama --llm DIR --vl FILE --al FILE "
        "--eva FILE --blip2 FILE --imagebind FILE --out DIR, and register the result with: "
        "vidi models import DIR --id videollama2-7b",
        notes="The model Vidi started from (DAMO-NLP-SG, 2023), run as its authors released it.",
    ),
    CatalogEntry(
        id="qwen2.5-vl-7b",
        name="Qwen2.5-VL 7B",
        repo_id="Qwen/Qwen2.5-VL-7B-Instruct",
        backend="image_text_to_text",
        size_bytes=int(16.6 * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        capabilities=_V,
        memory_4bit_bytes=int(8.4 * GB),
        memory_16bit_bytes=int(19.0 * GB),
        rank=50,
        notes="Strong on what is seen; does not hear audio.",
    ),
    CatalogEntry(
        id="qwen2.5-vl-3b",
        name="Qwen2.5-VL 3B",
        repo_id="Qwen/Qwen2.5-VL-3B-Instruct",
        backend="image_text_to_text",
        size_bytes=int(7.5 * GB),
        licence="Qwen Research License (non-commercial)",
        licence_url="https://huggingface.co/Qwen/Qwen2.5-VL-3B-Instruct/blob/main/LICENSE",
        capabilities=_V,
        memory_4bit_bytes=int(4.4 * GB),
        memory_16bit_bytes=int(9.5 * GB),
        rank=60,
        access_note="Licence-bound: the Qwen Research License allows research and non-commercial use only "
        "(https://huggingface.co/Qwen/Qwen2.5-VL-3B-Instruct/blob/main/LICENSE).",
        notes="Does not hear audio.",
    ),
    CatalogEntry(
        id="smolvlm2-2.2b",
        name="SmolVLM2 2.2B",
        repo_id="HuggingFaceTB/SmolVLM2-2.2B-Instruct",
        backend="image_text_to_text",
        size_bytes=int(4.5 * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        capabilities=_V,
        memory_4bit_bytes=int(2.4 * GB),
        memory_16bit_bytes=int(6.0 * GB),
        rank=70,
        notes="Small video model; does not hear audio.",
    ),
    CatalogEntry(
        id="llava-onevision-0.5b",
        name="LLaVA-OneVision 0.5B",
        repo_id="llava-hf/llava-onevision-qwen2-0.5b-ov-hf",
        backend="image_text_to_text",
        size_bytes=int(1.8 * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        capabilities=_V,
        memory_4bit_bytes=int(1.4 * GB),
        memory_16bit_bytes=int(3.0 * GB),
        rank=80,
        notes="Tiny video model; does not hear audio.",
    ),
    CatalogEntry(
        id="smolvlm2-500m",
        name="SmolVLM2 500M",
        repo_id="HuggingFaceTB/SmolVLM2-500M-Video-Instruct",
        backend="image_text_to_text",
        size_bytes=int(1.0 * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        capabilities=_V,
        memory_4bit_bytes=int(0.95 * GB),
        memory_16bit_bytes=int(1.8 * GB),
        rank=90,
        notes="Tiny video model for machines with little memory; does not hear audio.",
    ),
    CatalogEntry(
        id="smolvlm2-256m",
        name="SmolVLM2 256M",
        repo_id="HuggingFaceTB/SmolVLM2-256M-Video-Instruct",
        backend="image_text_to_text",
        size_bytes=int(0.51 * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        capabilities=_V,
        memory_4bit_bytes=int(0.7 * GB),
        memory_16bit_bytes=int(1.1 * GB),
        rank=100,
        notes="The smallest video model; quick but shallow answers; does not hear audio.",
    ),
)


_SPEECH = Capabilities(video=False, audio=True, image=False)
_MIT = ("MIT", "https://github.com/openai/whisper/blob/main/LICENSE")

SPEECH_MODELS: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        id="whisper-large-v3-turbo",
        name="Whisper large-v3 turbo",
        repo_id="openai/whisper-large-v3-turbo",
        backend="whisper",
        purpose="speech",
        size_bytes=int(1.6 * GB),
        licence=_MIT[0],
        licence_url=_MIT[1],
        capabilities=_SPEECH,
        memory_4bit_bytes=int(2.0 * GB),
        memory_16bit_bytes=int(2.0 * GB),
        rank=110,
        notes="Speech recognition for a video's transcript (the index), for a GPU: 809 M parameters, "
        "about 100 languages.",
    ),
    CatalogEntry(
        id="whisper-base",
        name="Whisper base",
        repo_id="openai/whisper-base",
        backend="whisper",
        purpose="speech",
        size_bytes=int(0.29 * GB),
        licence=_MIT[0],
        licence_url=_MIT[1],
        capabilities=_SPEECH,
        memory_4bit_bytes=int(0.5 * GB),
        memory_16bit_bytes=int(0.5 * GB),
        rank=120,
        notes="Speech recognition for a video's transcript (the index) on the CPU: 74 M parameters; less accurate "
        "than turbo.",
    ),
)
"""Speech-recognition models for the index's transcript. Not answering models: never suggested for questions (not
in CATALOG), but the model manager lists and pulls them (ALL_MODELS)."""


EMBEDDING_MODELS: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        id="siglip2-base",
        name="SigLIP 2 base (patch 16, 224 px)",
        repo_id="google/siglip2-base-patch16-224",
        backend="siglip",
        purpose="embedding",
        size_bytes=int(1.5 * GB),
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        capabilities=Capabilities(video=False, audio=False, image=True),
        memory_4bit_bytes=int(0.8 * GB),
        memory_16bit_bytes=int(0.8 * GB),
        rank=210,
        notes="Image and text embeddings (768 numbers each) for the index: finds moments by what is seen, from "
        "words. 375 M parameters; a fixed-resolution SigLIP 2 checkpoint, run by transformers' SiglipModel.",
    ),
)
"""Embedding models for the index's keyframes (core_model.index.embeddings), ``purpose`` "embedding": never
suggested for questions (not in CATALOG), listed and pulled by the model manager (ALL_MODELS)."""

ALL_MODELS: tuple[CatalogEntry, ...] = CATALOG + SPEECH_MODELS + EMBEDDING_MODELS
"""Every model the manager knows: the answering models, then the speech and embedding models."""


def get_entry(model_id: str, catalog: Sequence[CatalogEntry] = CATALOG) -> CatalogEntry | None:
    """The catalog entry for ``model_id`` (case-insensitive), or None."""
    wanted = model_id.strip().lower()
    for entry in catalog:
        if entry.id == wanted:
            return entry
    return None


def format_bytes(num_bytes: int | float | None) -> str:
    """ "22.4 GB", "512 MB", "3 KB": decimal units, as the hub shows sizes."""
    if num_bytes is None:
        return "?"
    value = float(num_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if unit == "GB" else f"{value:.0f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover  (loop always returns)


# ----------------------------------------------------------------------------------------------------------------
# Recommendation
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """The model to suggest and why, in words fit for the status bar or the model dialog."""

    entry: CatalogEntry | None
    reason: str
    precision: str = ""
    """"4-bit" or "16-bit": how the model would run on that device."""


def system_memory_bytes() -> int | None:
    """Total RAM of this machine, or None where the OS does not say (stdlib only)."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def recommend(
    device_info,
    *,
    ram_bytes: int | None = None,
    catalog: Sequence[CatalogEntry] = CATALOG,
    downloadable_only: bool = True,
) -> Recommendation:
    """The best-ranked catalog model that fits ``device_info`` (a core_model.device.DeviceInfo).

    CUDA with bitsandbytes: 4-bit GPU figures against the GPU's total memory less ``GPU_HEADROOM_BYTES``; CUDA
    without bitsandbytes: the 16-bit GPU figures (both leave out what the backend keeps in RAM, which the reason
    mentions). Apple MPS (no 4-bit) and the CPU: the 16-bit figures against
    ``RAM_FRACTION`` of the RAM (``ram_bytes``, detected when None). On the CPU only small models are suggested
    (everything there is slow), those that also hear audio first: Gemma 4 E2B where it fits.
    ``downloadable_only`` leaves out models built locally (Video-LLaMA), which cannot be pulled.
    """
    # embedding and speech models are pulled for the index but answer no question
    candidates = [e for e in catalog if (e.downloadable or not downloadable_only) and e.purpose == "answer"]
    ordered, budget, four_bit, on_gpu, where = _device_plan(device_info, ram_bytes, candidates)
    choice = _best_fit(ordered, budget, four_bit, where, on_gpu=on_gpu)
    if choice.entry is not None and getattr(device_info, "kind", "cpu") == "cpu":
        return Recommendation(choice.entry, choice.reason + "; answers on the CPU are slow", "16-bit")
    return choice


def preference_order(
    device_info,
    *,
    ram_bytes: int | None = None,
    catalog: Sequence[CatalogEntry] = CATALOG,
) -> list[CatalogEntry]:
    """Every answering catalog model, best first for ``device_info``: those that fit, in the order ``recommend`` prefers
    them (its first one is the recommendation, Video-LLaMA included when it fits), then the rest by rank.

    Used to pick among the models already on disk (``vidi ask`` without --model).
    """
    answering = [e for e in catalog if e.purpose == "answer"]
    ordered, budget, four_bit, on_gpu, _where = _device_plan(device_info, ram_bytes, answering)
    fitting = [e for e in ordered if _need(e, four_bit, on_gpu) <= budget]
    return fitting + sorted((e for e in answering if e not in fitting), key=lambda e: e.rank)


def _device_plan(device_info, ram_bytes, candidates: Sequence[CatalogEntry]):
    """(candidates in preference order, memory budget, 4-bit?, on a CUDA GPU?, where in words) for a device."""
    candidates = sorted(candidates, key=lambda e: e.rank)
    kind = getattr(device_info, "kind", "cpu")
    name = getattr(device_info, "name", kind)
    if kind == "cuda":
        total = getattr(device_info, "total_memory_bytes", None) or 0
        four_bit = bool(getattr(device_info, "bitsandbytes_available", False))
        return candidates, total - GPU_HEADROOM_BYTES, four_bit, True, f"your {gpu_size(total)} GPU ({name})"
    ram = ram_bytes if ram_bytes is not None else system_memory_bytes()
    budget = int((ram or 0) * RAM_FRACTION.get(kind, 0.6))
    where = f"{format_bytes(ram)} of RAM on {'Apple MPS' if kind == 'mps' else 'the CPU'}"
    if kind == "cpu":
        # Big models on the CPU take minutes per answer: only the small ones are worth suggesting.
        candidates = sorted((e for e in candidates if e.memory_16bit_bytes <= 12 * GB),
                            key=lambda e: (not e.capabilities.audio, e.rank))
    return candidates, budget, False, False, where


def gpu_size(total_bytes: int) -> str:
    """A GPU's memory as its maker sells it: binary gigabytes, "12 GB" for 12 GiB (format_bytes would say 12.9)."""
    gib = total_bytes / 2**30
    return f"{round(gib)} GB" if abs(gib - round(gib)) < 0.05 else f"{gib:.1f} GB"


def _need(entry: CatalogEntry, four_bit: bool, on_gpu: bool) -> int:
    return entry.gpu_memory_bytes(four_bit) if on_gpu else entry.memory_16bit_bytes


def _best_fit(candidates: Sequence[CatalogEntry], budget: int, four_bit: bool, where: str,
              on_gpu: bool = False) -> Recommendation:
    precision = "4-bit" if four_bit else "16-bit"
    for entry in candidates:
        need = _need(entry, four_bit, on_gpu)
        if need <= budget:
            ram = f" + {format_bytes(entry.cpu_memory_bytes)} of RAM" if on_gpu and entry.cpu_memory_bytes else ""
            return Recommendation(entry, f"{entry.name} fits {where} in {precision} ({format_bytes(need)}{ram})",
                                  precision)
    return Recommendation(None, f"No catalog model fits {where} in {precision}", precision)
