"""Turns what the user does into requests for the worker, keeps the queue, and writes chats to the store.

Owns the per-video state (path, duration, selection, current chat) and the live requests. It creates no widgets:
it receives intents (method calls wired by the main window) and reports through signals that the chat pane, the
timeline and the status bar show. Times are ms on the widget side and seconds toward core_model.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from core_model.backends.base import (
    AudioRef,
    BackendInfo,
    Capabilities,
    GenerationOptions,
    ImageRef,
    RunInfo,
    SegmentRef,
    Turn,
)
from core_model.chat_session import ChatSession
from core_model.chat_session import Exchange as Recording
from core_model.errors import StoreError, user_message
from desktop_app.chat.evidence import spread
from desktop_app.chat.exchange import AnswerState, Exchange, exchange_for, refusal_for
from desktop_app.chat.stored_chat import exchanges_of, set_evidence
from desktop_app.status_text import model_text, run_summary
from desktop_app.workers.chat_request import ChatRequest, ModelSpec, WholeVideoAsk
from desktop_app.workers.inference_client import InferenceClient

log = logging.getLogger(__name__)

STORE_FLUSH_INTERVAL_MS = 500
MAX_FRAME_THUMBS = 16
REFUSED_KINDS = ("usage", "unsupported_media", "model_load")
"""core_model.errors kinds of a question the model never worked on: its text goes back to the composer."""


def _model_name(model: str) -> str:
    """A model's short name for the status bar: a folder's name, or "MODEL on HOST" for a remote model."""
    from desktop_app.remote_models import remote_host, remote_model_label

    return remote_model_label(model) if remote_host(model) else (Path(model).name or model)


@dataclass
class _Live:
    """A question sent to the worker and not finished yet."""

    exchange: Exchange
    video_path: str | None
    recording: Recording | None  # how the question and its answer are kept in the store (None: not kept)
    stopped: bool = False


class SessionController(QObject):
    exchange_added = Signal(object)  # Exchange
    piece_added = Signal(int, str)  # key, text piece
    state_changed = Signal(int, object, str)  # key, AnswerState, detail
    frames_wanted = Signal(int, str, list)  # key, video path, times_s (the frames the model saw)
    history_loaded = Signal(list)  # list[Exchange] of the current chat
    chats_changed = Signal(list, object)  # [(chat_id, title)], current chat id or None
    notice = Signal(str, bool)  # text, is_error
    busy_changed = Signal(bool, int)  # an answer is running, number of questions waiting
    asked_segments_changed = Signal(list)  # [(start_ms, end_ms)]
    model_status_changed = Signal(str)  # one line for the status bar
    backend_info_changed = Signal(object)  # BackendInfo of the model as it really runs (None: not loaded)
    sources_found = Signal(int, object)  # key, Exchange whose sources (a whole-video answer's moments) are set
    evidence_ready = Signal(int, object)  # key, Exchange whose frame_times_s / earlier_frames / heard_audio are set
    question_returned = Signal(str, list, object)  # a refused question's text, image paths, audio clip: back in the box
    capabilities_changed = Signal(object)  # Capabilities (None: not known yet)

    def __init__(self, client: InferenceClient, store=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.store = store
        self.spec: ModelSpec | None = None
        self.options = GenerationOptions()
        self.capabilities: Capabilities | None = None
        self.video_path: str | None = None
        self.video_id: int | None = None
        self.duration_ms = 0
        self.has_sound: bool | None = None  # the open video's probe: does it have an audio track
        self.selection_ms: tuple[int, int] | None = None
        self.include_audio = True
        self.chat_id: int | None = None
        self._live: dict[int, _Live] = {}  # request id -> live request, in submission order
        self._running_id: int | None = None
        self._stopped: dict[int, _Live] = {}  # stopped by the user, run info still to come
        self._store_errors_shown: set[str] = set()
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(STORE_FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush_store)
        self._init_worker_signals()

    def _init_worker_signals(self) -> None:
        w = self.client.worker
        w.inspected.connect(self._on_inspected)
        w.inspect_failed.connect(lambda m: self.model_status_changed.emit(f"Model: {m}"))
        w.load_started.connect(self._on_load_started)
        w.load_progressed.connect(self._on_load_progressed)
        w.loaded.connect(self._on_loaded)
        w.load_failed.connect(self._on_load_failed)
        w.request_started.connect(self._on_request_started)
        w.piece_received.connect(self._on_piece_received)
        w.request_finished.connect(self._on_request_finished)
        w.request_failed.connect(self._on_request_failed)
        w.request_cancelled.connect(self._on_request_cancelled)
        w.planned.connect(self._on_planned)

    # ---- model --------------------------------------------------------------------------------------------
    def set_model(self, spec: ModelSpec | None, options: GenerationOptions) -> None:
        self.options = options
        if spec == self.spec:
            return
        self.spec = spec
        self.capabilities = None
        self.capabilities_changed.emit(None)
        self.backend_info_changed.emit(None)
        if spec is None or not spec.model:
            self.model_status_changed.emit("No model chosen (Settings… or Models…)")
            return
        self.model_status_changed.emit(f"Model: {_model_name(spec.model)} (not loaded)")
        self.client.inspect(spec)

    def load_model(self) -> None:
        if self.spec is None or not self.spec.model:
            self.notice.emit("No model chosen: pick one in Settings (Ctrl+,).", True)
            return
        self.client.load(self.spec)

    def _on_inspected(self, info: BackendInfo) -> None:
        self.capabilities = info.capabilities
        self.capabilities_changed.emit(info.capabilities)
        if not info.loaded:
            self.model_status_changed.emit(model_text(info))

    def _on_load_started(self, model: str) -> None:
        self.model_status_changed.emit(f"Loading {_model_name(model)}…")

    def _on_load_progressed(self, fraction: float, message: str) -> None:
        self.model_status_changed.emit(f"Loading the model: {fraction:.0%} {message}".rstrip())
        for key, live in self._live.items():
            if live.exchange.state in (AnswerState.QUEUED, AnswerState.LOADING) and key == self._first_waiting():
                self._set_state(key, AnswerState.LOADING, f"{fraction:.0%}")

    def _on_loaded(self, info: BackendInfo) -> None:
        self.capabilities = info.capabilities
        self.capabilities_changed.emit(info.capabilities)
        self.model_status_changed.emit(model_text(info))
        self.backend_info_changed.emit(info)

    def _on_load_failed(self, _message: str) -> None:
        self.model_status_changed.emit("Model failed to load")
        self.backend_info_changed.emit(None)

    # ---- video and selection ------------------------------------------------------------------------------
    def open_video(self, path: str, duration_s: float, has_sound: bool | None = None) -> None:
        self.video_path, self.duration_ms = str(path), round(duration_s * 1000)
        self.has_sound = has_sound
        self.selection_ms = None
        self.video_id = self.chat_id = None
        if self.store is not None:
            try:
                self.video_id = self.store.add_video(path, duration_s).id
            except Exception as exc:  # noqa: BLE001  (history is a nicety: the video still plays)
                self.notice.emit(f"This video's chats cannot be stored: {exc}", True)
        chats = self._chats()
        self.select_chat(chats[0][0] if chats else None)
        self._emit_asked_segments()

    def set_selection_ms(self, start_ms: int, end_ms: int) -> None:
        self.selection_ms = (int(start_ms), int(end_ms))

    def clear_selection(self) -> None:
        self.selection_ms = None

    def set_include_audio(self, include: bool) -> None:
        self.include_audio = include

    # ---- chats --------------------------------------------------------------------------------------------
    def _chats(self) -> list[tuple[int, str]]:
        if self.store is None:
            return []
        chats = self._from_store(lambda: self.store.list_chats(self.video_id), [])
        return [(c.id, c.title or f"Chat {c.id}") for c in chats]

    def select_chat(self, chat_id: int | None) -> None:
        self.chat_id = chat_id
        exchanges = [] if chat_id is None or self.store is None else self._from_store(
            lambda: exchanges_of(self.store.list_turns(chat_id), self.duration_ms, self.has_sound), [])
        self.history_loaded.emit(exchanges)
        self.chats_changed.emit(self._chats(), chat_id)
        for exchange in exchanges[-10:]:
            if exchange.frame_times_s and self.video_path:
                self.frames_wanted.emit(exchange.key, self.video_path, spread(exchange.frame_times_s, MAX_FRAME_THUMBS))

    def new_chat(self) -> None:
        self.select_chat(None)  # the chat is created with its first question

    def delete_chat(self) -> None:
        if self.store is not None and self.chat_id is not None:
            self.stop()
            self._from_store(lambda: self.store.delete_chat(self.chat_id), None)
        chats = self._chats()
        self.select_chat(chats[0][0] if chats else None)
        self._emit_asked_segments()

    def export_markdown(self) -> str | None:
        if self.store is None or self.chat_id is None:
            return None
        self._flush_store()
        return self._from_store(lambda: self.store.export_markdown(self.chat_id), None)

    def _from_store(self, call, default):
        """``call()`` on the store for the window; a StoreError (a damaged file, a full disk) is shown, each
        message once, and ``default`` used instead: the window goes on without its history."""
        try:
            return call()
        except StoreError as exc:
            log.warning("the conversation store failed", exc_info=True)
            if str(exc) not in self._store_errors_shown:
                self._store_errors_shown.add(str(exc))
                self.notice.emit(str(exc), True)
            return default

    def _exchange_for(self, key: int, text: str, media) -> Exchange:
        return exchange_for(key, text, media, self.duration_ms)

    def _emit_asked_segments(self) -> None:
        segments = []
        if self.store is not None and self.video_id is not None:
            stored = self._from_store(lambda: self.store.list_segments(self.video_id), [])
            segments = [(round(s.start_s * 1000), round(s.end_s * 1000)) for s in stored]
        self.asked_segments_changed.emit(segments)

    # ---- asking -------------------------------------------------------------------------------------------
    def ask(self, text: str, image_paths: list[str], audio_path: str | None = None, with_segment: bool = True) -> int | None:
        """Queue a question; returns its request id, or None when it is refused (a notice says why; the caller keeps
        the question where the user wrote it)."""
        media = self._media_for(image_paths, audio_path, with_segment)
        refusal = refusal_for(media, self.spec.model if self.spec is not None else "", self.capabilities)
        if refusal:
            self.notice.emit(refusal, True)
            return None
        text = text or ("Describe this." if not audio_path else "Answer the question in the recording.")
        request_id = self.client.new_request_id()
        exchange = self._exchange_for(request_id, text, media)
        self.exchange_added.emit(exchange)
        recording, conversation = self._record_question(text, media)
        self._live[request_id] = _Live(exchange, self.video_path, recording)
        self.client.submit(ChatRequest(request_id, self.spec, conversation, tuple(media), self.options,
                                       whole_video=self._whole_video_ask(media)))
        self._update_queue()
        self._emit_asked_segments()
        return request_id

    def _whole_video_ask(self, media: list) -> WholeVideoAsk | None:
        """For a question about the whole open video: where its index may be, so that the worker thread plans it
        from there (the moments that matter, found by words and by look; or the chapters to sum up)."""
        whole = any(isinstance(m, SegmentRef) and m.start_s is None and m.end_s is None for m in media)
        if not whole or self.store is None:
            return None
        return WholeVideoAsk(str(self.store.path), self.duration_ms / 1000)

    def _on_planned(self, request_id: int, plan) -> None:
        """The moments a whole-video answer draws on: chips under it, saved with it."""
        live = self._live.get(request_id)
        if live is None:
            return
        live.exchange.sources = [(round(s.start_s * 1000), round(s.end_s * 1000), s.why) for s in plan.sources]
        self.sources_found.emit(request_id, live.exchange)
        if plan.notice:
            self.notice.emit(plan.notice[0].upper() + plan.notice[1:] + ".", False)

    def _media_for(self, image_paths, audio_path, with_segment: bool) -> list:
        media: list = []
        if self.video_path is not None and with_segment:
            audio_ok = self.capabilities is None or self.capabilities.audio
            include_audio = self.include_audio and audio_ok and self.has_sound is not False  # a silent file: no ask
            if self.selection_ms is None:
                media.append(SegmentRef(self.video_path, None, None, include_audio=include_audio))
            else:
                start_ms, end_ms = self.selection_ms
                media.append(SegmentRef(self.video_path, start_ms / 1000, end_ms / 1000, include_audio=include_audio))
        media += [ImageRef(str(p)) for p in image_paths]
        if audio_path:
            media.append(AudioRef(str(audio_path)))
        return media

    def _record_question(self, text: str, media: list) -> tuple[Recording | None, tuple[Turn, ...]]:
        """Write the question and its pending answer now, before the model loads (core_model.chat_session), and
        build what to send: the chat's answered history, then this question. Saving may fail: the question is
        asked all the same, and the user is told once."""
        question = (Turn("user", text, tuple(media)),)
        if self.store is None:
            return None, question
        try:
            if self.chat_id is None:
                title = text if len(text) <= 40 else text[:39] + "…"
                session = ChatSession.start(self.store, self.video_id, title=title)
                self.chat_id = session.chat_id
                self.chats_changed.emit(self._chats(), self.chat_id)
            else:
                session = ChatSession(self.store, self.chat_id)
            conversation = tuple(session.conversation_for(text, media))
            recording = session.ask(text, media, model_id=self.spec.model if self.spec else "",
                                    on_save_error=self._on_save_failed)
            return recording, conversation
        except Exception as exc:  # noqa: BLE001  (a StoreError, or anything else: the question still goes out)
            log.warning("storing the question failed", exc_info=True)
            self.notice.emit(f"This question could not be saved: {user_message(exc)}", True)
            return None, question

    def _on_save_failed(self, error: StoreError) -> None:
        """Saving an answer failed (e.g. the disk is full): it still streams; say so once for this answer."""
        self.notice.emit(f"This answer could not be saved (it still streams): {error}", True)

    def stop(self) -> None:
        """Stop the running answer and everything queued, at once; late pieces are dropped."""
        if not self._live:
            return
        self.client.cancel_all()
        for request_id in list(self._live):
            live = self._live[request_id]
            detail = "" if live.exchange.state == AnswerState.ANSWERING else "not asked"
            self._finish(request_id, AnswerState.STOPPED, detail, status="stopped")

    # ---- worker signals -----------------------------------------------------------------------------------
    def _on_request_started(self, request_id: int) -> None:
        if request_id in self._live:
            self._running_id = request_id
            self._set_state(request_id, AnswerState.ANSWERING)
            self._update_queue()

    def _on_piece_received(self, request_id: int, piece: str) -> None:
        live = self._live.get(request_id)
        if live is None or live.stopped:
            return  # a late piece of a stopped request
        live.exchange.answer += piece
        if live.recording is not None:
            live.recording.append(piece)  # written at most every 0.5 s; the timer below writes a pause's tail
        if not self._flush_timer.isActive():
            self._flush_timer.start()
        self.piece_added.emit(request_id, piece)

    def _on_request_finished(self, request_id: int, run: RunInfo) -> None:
        """``run`` is this request's own RunInfo (the worker never hands on an earlier one): the evidence."""
        live = self._live.get(request_id) or self._stopped.pop(request_id, None)
        if live is None:
            return
        exchange = live.exchange
        set_evidence(exchange, run.frame_timestamps_s, run.used_audio, self.has_sound)
        self.evidence_ready.emit(request_id, exchange)
        if request_id in self._live:
            state = AnswerState.STOPPED if run.stopped else AnswerState.DONE
            self._finish(request_id, state, run_summary(run, self._remote_host()), run=run)
        if exchange.frame_times_s and live.video_path:
            self.frames_wanted.emit(request_id, live.video_path, spread(exchange.frame_times_s, MAX_FRAME_THUMBS))

    def _on_request_failed(self, request_id: int, message: str, kind: str) -> None:
        self._stopped.pop(request_id, None)
        live = self._live.get(request_id)
        if live is None:
            return
        if live.exchange.sources:  # no answer drew on them: no chips under the error, none saved with it
            live.exchange.sources = []
            self.sources_found.emit(request_id, live.exchange)
        self._finish(request_id, AnswerState.FAILED, message, status="error", error=message)
        if kind in REFUSED_KINDS and not live.exchange.answer:
            exchange = live.exchange
            self.question_returned.emit(exchange.question, list(exchange.image_paths), exchange.audio_path)

    def _on_request_cancelled(self, request_id: int) -> None:
        if request_id in self._live:
            self._finish(request_id, AnswerState.STOPPED, "not asked", status="stopped")
        self._stopped.pop(request_id, None)

    # ---- bookkeeping --------------------------------------------------------------------------------------
    def _finish(self, request_id: int, state: AnswerState, detail: str, *, status: str | None = None,
                error: str = "", run: RunInfo | None = None) -> None:
        live = self._live.pop(request_id)
        live.stopped = True
        if state == AnswerState.STOPPED and run is None:
            self._stopped[request_id] = live
        if live.recording is not None:
            status = status or ("stopped" if state == AnswerState.STOPPED else "complete")
            run_dict = asdict(run) if run is not None else None
            if live.exchange.sources:  # kept with the answer, so a reopened chat shows its chips again
                run_dict = {**(run_dict or {}), "sources": [{"start_s": a / 1000, "end_s": b / 1000, "why": why}
                                                            for a, b, why in live.exchange.sources]}
            live.recording.finish(status, error=error, run=run_dict)
        self._set_state(request_id, state, detail)
        if self._running_id == request_id:
            self._running_id = None
        self._update_queue()

    def _flush_store(self) -> None:
        for live in self._live.values():
            if live.recording is not None:
                live.recording.flush()
        if not self._live:
            self._flush_timer.stop()

    def _set_state(self, key: int, state: AnswerState, detail: str = "") -> None:
        live = self._live.get(key)
        if live is not None:
            live.exchange.state, live.exchange.detail = state, detail
        self.state_changed.emit(key, state, detail)

    def _first_waiting(self) -> int | None:
        return next((k for k in self._live if k != self._running_id), None)

    def _update_queue(self) -> None:
        waiting = [k for k in self._live if k != self._running_id]
        for place, key in enumerate(waiting, start=1):
            live = self._live[key]
            if live.exchange.state == AnswerState.QUEUED:
                ahead = place - 1 + (1 if self._running_id is not None else 0)
                self._set_state(key, AnswerState.QUEUED, f"{ahead} question{'s' if ahead != 1 else ''} ahead" if ahead else "")
        busy = bool(self._live)
        self.busy_changed.emit(busy, len(waiting) if self._running_id is not None else max(0, len(waiting) - 1))

    def _remote_host(self) -> str:
        """The server the chosen model runs on ("" for a local model): the chat names it under each answer."""
        from desktop_app.remote_models import remote_host

        return remote_host(self.spec.model) if self.spec is not None else ""

    def shutdown(self) -> None:
        """Save what streamed so far; mark running answers stopped (the window is closing)."""
        for request_id in list(self._live):
            self._finish(request_id, AnswerState.STOPPED, "Vidi was closed", status="stopped")
