"""What an OpenAI-compatible server serves, and what each model there takes, found out once and remembered.

    models = list_served_models(client, host)          # [ServedModel(id, max_model_len, owned_by)], from /v1/models
    support = probe_support(client, "Qwen/Qwen2.5-VL-7B-Instruct", host)
    support.image, support.video_url, support.audio    # what the server really took, request by request
    cache = SupportCache()                             # data_dir()/remote_servers.json, per endpoint and model
    cache.put(base_url, model, support); cache.get(base_url, model)

Servers differ: vLLM takes ``video_url`` (an MP4 data URL) and ``input_audio`` for the models that have those
towers; ``transformers serve`` takes images but needs torchcodec for video and soundfile for audio; llama-server and
Ollama take images only. A server may also accept a part and silently drop it, so a part counts as taken only when the
request succeeds *and* its prompt grew (``usage.prompt_tokens``) over a text-only request.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core_model.backends import openai_content
from core_model.backends.remote_errors import is_unreachable, remote_error
from core_model.backends.segment_frames import SegmentFrames

SUPPORT_FILENAME = "remote_servers.json"
PROBE_PROMPT = "Say one word."


@dataclass(frozen=True)
class ServedModel:
    """One entry of ``/v1/models``; ``max_model_len`` (tokens, prompt + answer) where the server says (vLLM)."""

    id: str
    max_model_len: int | None = None
    owned_by: str = ""


@dataclass(frozen=True)
class MediaSupport:
    """What a model on a server takes. ``video_url``: whole clips as MP4; else frames go as images."""

    image: bool = False
    video_url: bool = False
    audio: bool = False
    latency_ms: float = -1.0
    """Round trip of a one-token text request during the probe (-1: not measured)."""

    def describe(self) -> str:
        video = "video" if self.video_url else ("video as frames" if self.image else "")
        taken = [name for name, ok in ((video, bool(video)), ("images", self.image), ("audio", self.audio)) if ok]
        return ", ".join(taken) if taken else "text only"


def list_served_models(client, host: str) -> list[ServedModel]:
    """The models ``/v1/models`` lists. RemoteError (one line) when the server cannot be reached or refuses."""
    try:
        page = client.models.list()
        entries = list(page.data)
    except Exception as exc:  # noqa: BLE001  every client/network failure becomes one RemoteError line
        raise remote_error(exc, host=host) from exc
    models = []
    for entry in entries:
        extra = getattr(entry, "model_extra", None) or {}
        length = extra.get("max_model_len")
        models.append(ServedModel(id=str(entry.id), max_model_len=int(length) if isinstance(length, int) else None,
                                  owned_by=str(getattr(entry, "owned_by", "") or "")))
    return models


# ----------------------------------------------------------------------------------------------------------------
# Probing: tiny one-token requests, one per kind of part
# ----------------------------------------------------------------------------------------------------------------


def _probe_clip() -> SegmentFrames:
    """Two 64x64 frames, 0.5 s apart: the smallest clip every video processor takes."""
    frames = np.zeros((2, 64, 64, 3), dtype=np.uint8)
    frames[1, 16:48, 16:48] = 255
    return SegmentFrames(frames=frames, timestamps_s=[0.0, 0.5], start_s=0.0, end_s=1.0, source_fps=2.0)


def _probe_parts() -> dict[str, list[dict]]:
    picture = np.full((64, 64, 3), 128, dtype=np.uint8)
    return {
        "image": [openai_content.image_part(picture)],
        "video_url": openai_content.frames_as_video(_probe_clip(), max_side_px=64)[1:],
        "audio": [openai_content.audio_part(np.zeros(openai_content.AUDIO_SAMPLE_RATE, dtype=np.float32))],
    }


def _prompt_tokens(client, model: str, parts: list[dict]) -> int | None:
    """prompt_tokens of a one-token request with ``parts`` (-1 when the server reports no usage). Raises on failure."""
    response = client.chat.completions.create(
        model=model, max_tokens=1, temperature=0.0, stream=False,
        messages=[{"role": "user", "content": [*parts, {"type": "text", "text": PROBE_PROMPT}]}],
    )
    usage = getattr(response, "usage", None)
    return int(usage.prompt_tokens) if usage is not None and usage.prompt_tokens is not None else -1


def probe_support(client, model: str, host: str) -> MediaSupport:
    """Send a text-only, then an image, a video and an audio request of one token each; see which the model takes.

    RemoteError when even the text-only request fails (the server is down, the model is not served, the key is
    refused): that is not a capability question. A part the server rejects (4xx/5xx) is simply not taken.
    """
    started = time.perf_counter()
    try:
        baseline = _prompt_tokens(client, model, [])
    except Exception as exc:  # noqa: BLE001
        raise remote_error(exc, host=host, model=model) from exc
    latency_ms = (time.perf_counter() - started) * 1000.0
    taken: dict[str, bool] = {}
    for kind, parts in _probe_parts().items():
        taken[kind] = _takes(client, model, host, parts, baseline)
    return MediaSupport(image=taken["image"], video_url=taken["video_url"], audio=taken["audio"],
                        latency_ms=round(latency_ms, 1))


def _takes(client, model: str, host: str, parts: list[dict], baseline: int) -> bool:
    """Whether the model takes ``parts``: the request succeeds and its prompt grows over the text-only one.

    A refusal (an error status) is a "no". A dropped connection is asked once more, on a new connection: uvicorn
    closes a keep-alive connection after a 500, and the next request on it fails without reaching the server.
    A server that went away meanwhile (refused, unknown, TLS) is an error, not a "no".
    """
    for _attempt in range(2):
        try:
            tokens = _prompt_tokens(client, model, parts)
        except Exception as exc:  # noqa: BLE001
            if is_unreachable(exc):
                raise remote_error(exc, host=host, model=model) from exc
            if getattr(exc, "status_code", None) is not None:
                return False
            continue
        # a server that drops a part it cannot read answers fine, but its prompt does not grow
        return tokens < 0 or baseline < 0 or tokens > baseline
    return False


# ----------------------------------------------------------------------------------------------------------------
# Remembered per endpoint and model
# ----------------------------------------------------------------------------------------------------------------


class SupportCache:
    """``{base_url: {model: MediaSupport fields}}`` in a small JSON file, rewritten whole through a rename."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from core_model.models.registry import data_dir

            path = data_dir() / SUPPORT_FILENAME
        self.path = Path(path)
        self._lock = threading.Lock()

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or unreadable: probing again is cheap and rewrites it
        return data if isinstance(data, dict) else {}

    def get(self, base_url: str, model: str) -> MediaSupport | None:
        entry = self._read().get(base_url, {}).get(model)
        if not isinstance(entry, dict):
            return None
        try:
            fields = ("image", "video_url", "audio", "latency_ms")
            return MediaSupport(**{key: entry[key] for key in fields if key in entry})
        except TypeError:
            return None

    def put(self, base_url: str, model: str, support: MediaSupport) -> None:
        with self._lock:
            data = self._read()
            data.setdefault(base_url, {})[model] = asdict(support)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                temporary = self.path.with_suffix(f".tmp{os.getpid()}")
                temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
                os.replace(temporary, self.path)
            except OSError:
                pass  # remembering is an optimisation: the next load probes again

    def forget(self, base_url: str, model: str | None = None) -> None:
        with self._lock:
            data = self._read()
            if model is None:
                data.pop(base_url, None)
            else:
                data.get(base_url, {}).pop(model, None)
            try:
                self.path.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            except OSError:
                pass


# ----------------------------------------------------------------------------------------------------------------
# One call for "Test connection" and ``vidi models list --server``
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerReport:
    """What a server serves: ``models`` as (ServedModel, MediaSupport or None when not probed); ``latency_ms`` of
    ``/v1/models``."""

    host: str
    base_url: str
    latency_ms: float
    models: list[tuple[ServedModel, MediaSupport | None]]
    warning: str = ""


def check_server(server: str, key: str | None = None, *, probe: bool = True,
                 cache: SupportCache | None = None, max_probed: int = 8) -> ServerReport:
    """List ``server``'s models and what each takes (probed once, remembered in ``cache``). RemoteError/UsageError."""
    from core_model.backends.remote_endpoint import Endpoint, make_client

    endpoint = Endpoint.parse(server)
    client = make_client(endpoint, key, read_timeout_s=60.0)
    try:
        started = time.perf_counter()
        served = list_served_models(client, endpoint.host)
        latency_ms = round((time.perf_counter() - started) * 1000.0, 1)
        cache = cache if cache is not None else SupportCache()
        rows: list[tuple[ServedModel, MediaSupport | None]] = []
        for index, model in enumerate(served):
            support = cache.get(endpoint.base_url, model.id)
            if support is None and probe and index < max_probed:
                support = probe_support(client, model.id, endpoint.host)
                cache.put(endpoint.base_url, model.id, support)
            rows.append((model, support))
        return ServerReport(endpoint.host, endpoint.base_url, latency_ms, rows, endpoint.warning)
    finally:
        client.close()
