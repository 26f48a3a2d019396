"""A model on an OpenAI-compatible server (vLLM, ``transformers serve``, llama-server, Ollama) behind the Backend API.

    backend = RemoteBackend("https://gpu-box:8000", "Qwen/Qwen2.5-VL-7B-Instruct")   # key: keyring or $VIDI_API_KEY
    backend.load()                      # /v1/models (is it served? its max length), then what it takes (remembered)
    for piece in backend.answer([Turn("user", "What happens?", (SegmentRef("talk.mp4", 65, 80),))]):
        print(piece, end="")

What is sent: the question's segment as frames with their times (one MP4 ``video_url`` where the server takes it, else
JPEG ``image_url`` parts each after its time), the segment's sound as ``input_audio`` WAV when the model hears,
images, and earlier turns as their text only. Nothing is sent before the user chose this backend.

Streaming runs in a helper thread that fills a queue; ``answer`` reads the queue, so ``cancel()`` ends the answer at
once in every phase (decoding media, waiting for the server, streaming) and closes the connection, which makes the
server stop generating. Every failure is a RemoteError/MediaError/UnsupportedMediaError with one line.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from typing import Iterator

from core_model.backends import openai_content
from core_model.backends.base import (
    AudioRef,
    CancelToken,
    Capabilities,
    Conversation,
    GenerationOptions,
    ImageRef,
    MemoryEstimate,
    RunInfo,
    SegmentRef,
    BackendInfo,
    ProgressCallback,
    check_media_supported,
)
from core_model.backends.remote_endpoint import Endpoint, make_client
from core_model.backends.remote_errors import StreamCutError, remote_error, retry_delay_s
from core_model.backends.remote_probe import MediaSupport, SupportCache, list_served_models, probe_support
from core_model.backends.failpoints import failpoint
from core_model.errors import Cancelled, RemoteError, UsageError, VidiError, as_vidi_error

FRAMES_ENV = "VIDI_REMOTE_FRAMES"
"""Override how frames travel for every server: "video" (one MP4) or "images" (JPEG list); unset = as probed."""
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 300.0
"""Longest wait for the next piece of an answer (a busy server may queue a question for a while)."""
_POLL_S = 0.02

# Rough prompt costs, for fitting a question into the server's max model length (Qwen2.5-VL at 640x360: ~300
# tokens per image, half per video frame with its temporal merge; Qwen2.5-Omni's audio: 25 tokens per second).
TOKENS_PER_IMAGE = 300
TOKENS_PER_VIDEO_FRAME = 150
AUDIO_TOKENS_PER_S = 25
TEXT_TOKEN_CHARS = 3


class RemoteBackend:
    """A model served elsewhere; ``device`` is "remote" and ``host`` (in describe()) names the server."""

    device = "remote"
    load_in_4bit = False

    def __init__(self, server: str, model: str, *, api_key_value: str | None = None, frames_as: str = "auto",
                 max_side_px: int = openai_content.DEFAULT_MAX_SIDE_PX, support_cache: SupportCache | None = None,
                 probe: bool = True) -> None:
        if not model or not model.strip():
            raise UsageError("no model name given for the remote server: use --model NAME")
        self.endpoint = Endpoint.parse(server)
        self.model_id = model.strip()
        self.notice = self.endpoint.warning
        self.frames_as = (os.environ.get(FRAMES_ENV) or frames_as).strip().lower()
        if self.frames_as not in ("auto", "video", "images"):
            raise UsageError(f"frames travel as 'video' or 'images', not '{self.frames_as}'")
        self.max_side_px = int(max_side_px)
        self._api_key = api_key_value  # never logged; None: looked up at load time
        self._cache = support_cache
        self._probe = probe
        self.support: MediaSupport | None = None
        self.max_model_len: int | None = None
        self._capabilities: Capabilities | None = None  # known once probed (now, before, or at load)
        self._asked_early = False
        self.last_run = RunInfo(model_id=self.model_id)
        self._client = None
        self._cancel = CancelToken()
        self._aborted = False
        self._active: "_Exchange | None" = None

    def __repr__(self) -> str:  # never the key
        return f"RemoteBackend({self.endpoint.base_url!r}, {self.model_id!r})"

    @property
    def capabilities(self) -> Capabilities:
        """What the model takes, known before ``load`` too: the GUI enables "Include audio" from it before the
        first question. Remembered from an earlier probe, else probed now (once; four tiny synthetic requests, no
        user media); a server that cannot be asked yet gives video + images, and ``load`` reports the problem."""
        if self._capabilities is None and not self._asked_early:
            self._asked_early = True
            known = self._cached_support()
            if known is None and self._probe:
                try:
                    client = self._make_client()
                    try:
                        known = self._known_support(client)
                    finally:
                        client.close()
                except VidiError:
                    known = None
            if known is not None:
                self._capabilities = _capabilities_of(known)
        return self._capabilities or Capabilities(video=True, image=True, audio=False)

    @property
    def host(self) -> str:
        return self.endpoint.host

    # -- Backend protocol -------------------------------------------------------------------------------------------

    def describe(self) -> BackendInfo:
        return BackendInfo(model_id=self.model_id, capabilities=self.capabilities, device="remote",
                           load_in_4bit=False, dtype="", notice=self.notice, loaded=self._client is not None,
                           host=self.host, memory_used_bytes=-1, memory_estimate=self.memory_estimate())

    def memory_estimate(self) -> MemoryEstimate:
        return MemoryEstimate(device="remote", parts_bytes={})  # nothing on this machine

    def load(self, progress: ProgressCallback | None = None) -> None:
        """Connect: is the model served (and its max length), and what it takes (probed once per endpoint)."""
        report = progress or (lambda fraction, message: None)
        if self._aborted:
            raise RemoteError("Vidi is closing.")
        report(0.05, f"Connecting to {self.host}")
        client = self._make_client()
        served = list_served_models(client, self.host)
        match = next((entry for entry in served if entry.id == self.model_id), None)
        if match is None:
            names = ", ".join(entry.id for entry in served[:8]) or "none"
            raise RemoteError(f"Server {self.host} does not serve model '{self.model_id}' (it serves: {names}).")
        self.max_model_len = match.max_model_len
        report(0.4, f"Checking what {self.model_id} takes")
        self.support = self._known_support(client)
        self._capabilities = _capabilities_of(self.support)
        self._client = client
        report(1.0, "Ready")

    def _cached_support(self) -> MediaSupport | None:
        try:
            cache = self._cache if self._cache is not None else SupportCache()
            return cache.get(self.endpoint.base_url, self.model_id)
        except Exception:  # noqa: BLE001  an unreadable data folder: the server is asked at load time
            return None

    def _known_support(self, client) -> MediaSupport:
        known = self._cached_support()
        if known is not None:
            return known
        cache = self._cache if self._cache is not None else SupportCache()
        if not self._probe:
            return MediaSupport(image=True)
        support = probe_support(client, self.model_id, self.host)
        cache.put(self.endpoint.base_url, self.model_id, support)
        return support

    def _make_client(self):
        return make_client(self.endpoint, self._api_key, read_timeout_s=READ_TIMEOUT_S,
                           connect_timeout_s=CONNECT_TIMEOUT_S)

    def cancel(self) -> None:
        self._cancel.cancel()
        exchange = self._active
        if exchange is not None:
            exchange.close()

    def abort(self) -> None:
        self._aborted = True
        self.cancel()

    def unload(self) -> None:
        self.cancel()
        client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- answering --------------------------------------------------------------------------------------------------

    def answer(self, conversation: Conversation, options: GenerationOptions | None = None) -> Iterator[str]:
        if not conversation or conversation[-1].role != "user":
            raise UsageError("the conversation must end with the user's question")
        check_media_supported(self.capabilities, conversation[-1].media, self.model_id)  # before any work
        self._cancel.reset()  # here, not in the generator: a Stop before the first piece is asked for still counts
        return self._answer(conversation, options or GenerationOptions())

    def _answer(self, conversation: Conversation, options: GenerationOptions) -> Iterator[str]:
        run = self.last_run = RunInfo(model_id=self.model_id, notice=self.notice)
        started = time.perf_counter()
        try:
            if self._client is None:
                self.load()
            self._checkpoint("decoding")
            parts = self._question_parts(conversation[-1], options, run)
            self._checkpoint("processor")
            messages = openai_content.build_messages(conversation, parts)
            run.prepare_s = time.perf_counter() - started
            self._checkpoint("generation")
            yield from self._stream(messages, options, run, started)
        except Cancelled:
            run.stopped = True
        except VidiError:
            raise
        except Exception as exc:  # noqa: BLE001  a decoding library's error: one line, never a traceback
            raise as_vidi_error(exc) from exc
        finally:
            run.total_s = time.perf_counter() - started

    def _checkpoint(self, phase: str) -> None:
        """Entering ``phase``: run its failpoint (tests) and stop here if the user pressed Stop."""
        failpoint(phase, lambda: self._cancel.cancelled)
        if self._cancel.cancelled:
            raise Cancelled(f"Stopped while {phase}.")

    def _question_parts(self, question, options: GenerationOptions, run: RunInfo) -> list[dict]:
        from core_model import media
        from core_model.backends.segment_frames import sample_segment

        parts: list[dict] = []
        segments = [m for m in question.media if isinstance(m, SegmentRef)]
        num_frames = self._frames_that_fit(question, options)
        as_video = self._frames_as_video()
        for item in question.media:
            if self._cancel.cancelled:
                return parts
            if isinstance(item, SegmentRef):
                clip = sample_segment(item, num_frames, max_side_px=self.max_side_px,
                                      should_stop=lambda: self._cancel.cancelled)
                run.frame_timestamps_s.extend(clip.timestamps_s)
                encode = openai_content.frames_as_video if as_video else openai_content.frames_as_images
                parts.extend(encode(clip, self.max_side_px))
                wave = None
                if item.include_audio and self.capabilities.audio:
                    wave = media.load_audio(item.path, clip.start_s, clip.end_s)
                if wave is not None and wave.size:
                    parts.append(openai_content.audio_part(wave))
                    run.used_audio = True
                side = f", {self.max_side_px} px" if clip.frames.shape[1] else ""
                how = "as one video" if as_video else "as images"
                run.plan = (f"{clip.describe()}{side}, {how}{', with audio' if run.used_audio else ''} "
                            f"-> {self.host}")
            elif isinstance(item, ImageRef):
                parts.append(openai_content.image_part(media.load_image(item.path)))
            elif isinstance(item, AudioRef):
                wave = media.load_audio(item.path)
                if wave is not None and wave.size:
                    parts.append(openai_content.audio_part(wave))
                    run.used_audio = True
        if not segments:
            run.plan = f"sent to {self.host}"
        return parts

    def _frames_as_video(self) -> bool:
        if self.frames_as != "auto":
            return self.frames_as == "video"
        return bool(self.support and self.support.video_url)

    def _frames_that_fit(self, question, options: GenerationOptions) -> int:
        """options.num_frames, fewer when the server's max model length cannot hold them (rough token costs)."""
        wanted = int(options.num_frames)
        if not self.max_model_len:
            return wanted
        per_frame = TOKENS_PER_VIDEO_FRAME if self._frames_as_video() else TOKENS_PER_IMAGE
        fixed = len(question.text) // TEXT_TOKEN_CHARS + 64 + options.max_new_tokens
        fixed += TOKENS_PER_IMAGE * sum(isinstance(m, ImageRef) for m in question.media)
        for item in question.media:
            if isinstance(item, SegmentRef) and item.include_audio and self.capabilities.audio \
                    and item.start_s is not None and item.end_s is not None:
                fixed += int((item.end_s - item.start_s) * AUDIO_TOKENS_PER_S)
        room = self.max_model_len - fixed
        if room < per_frame:
            raise RemoteError(
                f"The question does not fit in {self.model_id}'s {self.max_model_len} tokens on {self.host}: "
                "ask about a shorter segment, or lower the answer length."
            )
        return max(1, min(wanted, room // per_frame))

    def _stream(self, messages: list[dict], options: GenerationOptions, run: RunInfo, started: float) -> Iterator[str]:
        exchange = _Exchange(self._client, self.model_id, self.host, messages, options)
        self._active = exchange
        if self._cancel.cancelled:  # Stop came while the media were encoded
            exchange.close()
        exchange.start()
        received: list[str] = []
        try:
            while True:
                if self._cancel.cancelled:
                    exchange.close()
                    run.stopped = True
                    return
                try:
                    kind, value = exchange.events.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
                if kind == "piece":
                    if not received:
                        run.first_token_s = time.perf_counter() - started
                    received.append(value)
                    run.num_new_tokens += 1
                    yield value
                elif kind == "done":
                    if value is not None:
                        run.num_new_tokens = value
                    return
                else:  # an error
                    if self._cancel.cancelled:
                        run.stopped = True
                        return
                    error = remote_error(value, host=self.host, model=self.model_id)
                    if not received:
                        raise error
                    if getattr(value, "status_code", None) is None and not isinstance(error, StreamCutError):
                        # a network failure after pieces arrived (reset, timeout): the stream was cut
                        error = StreamCutError(f"The connection to {self.host} was cut before the answer was complete.")
                    yield openai_content.CUT_MARK  # the partial answer stays, marked as cut
                    raise StreamCutError(f"{error} The part received is kept.")
        finally:
            exchange.close()
            self._active = None


def _capabilities_of(support: MediaSupport) -> Capabilities:
    """Video whenever frames can travel (as one video or as images), images, and audio as the server takes them."""
    return Capabilities(video=support.image or support.video_url, image=support.image, audio=support.audio)


class _Exchange:
    """One streaming request in a helper thread; ``events`` gets ("piece", text), ("done", tokens) or ("error", exc)."""

    def __init__(self, client, model: str, host: str, messages: list[dict], options: GenerationOptions) -> None:
        self.client, self.model, self.host = client, model, host
        self.messages, self.options = messages, options
        self.events: queue.Queue = queue.Queue()
        self._closed = threading.Event()
        self._stream = None
        self._thread = threading.Thread(target=self._run, name="vidi-remote-stream", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop now: no further retries, and the connection is shut so the server stops generating."""
        self._closed.set()
        stream = self._stream
        if stream is None:
            return
        try:  # shut the socket first: it wakes the helper thread blocked reading it (close alone would not)
            network = stream.response.extensions.get("network_stream")
            sock = network.get_extra_info("socket") if network is not None else None
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass

    def _request(self):
        options = self.options
        extra = {"seed": options.seed} if options.seed is not None else {}
        return self.client.chat.completions.create(
            model=self.model, messages=self.messages, stream=True, max_tokens=options.max_new_tokens,
            temperature=options.temperature, top_p=options.top_p if options.temperature > 0 else 1.0,
            stream_options={"include_usage": True}, **extra,
        )

    def _run(self) -> None:
        try:
            attempt = 0
            while True:
                try:
                    stream = self._request()
                    break
                except Exception as exc:  # noqa: BLE001  a 429/503 is retried after its Retry-After
                    delay_s = retry_delay_s(exc, attempt)
                    if delay_s is None or self._closed.wait(delay_s):
                        raise
                    attempt += 1
            self._stream = stream
            if self._closed.is_set():
                self.close()
                stream.close()
                return
            tokens, finished = None, False
            with stream:
                for chunk in stream:
                    if self._closed.is_set():
                        return
                    usage = getattr(chunk, "usage", None)
                    if usage is not None and usage.completion_tokens is not None:
                        tokens = int(usage.completion_tokens)
                    for choice in chunk.choices or ():
                        text = getattr(choice.delta, "content", None)
                        if text:
                            self.events.put(("piece", text))
                        finished = finished or bool(getattr(choice, "finish_reason", None))
            if not finished:  # the stream ended without saying why: the connection was cut
                raise StreamCutError(f"The connection to {self.host} was cut before the answer was complete.")
            self.events.put(("done", tokens))
        except BaseException as exc:  # noqa: BLE001  handed to the reading thread, which turns it into one line
            self.events.put(("error", exc))


def load_remote_backend(server: str, model: str, api_key_value: str | None = None, **kwargs) -> RemoteBackend:
    """An unloaded RemoteBackend for ``model`` on ``server`` (call ``.load()``)."""
    return RemoteBackend(server, model, api_key_value=api_key_value, **kwargs)
