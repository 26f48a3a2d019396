"""A stored chat (core_model's TurnRecords) as the chat pane shows it: one Exchange per question, with its answer,
how it ended, what the model saw and heard, and a whole-video answer's sources. Plain data; no Qt."""

from __future__ import annotations

from desktop_app.chat.evidence import evidence_of
from desktop_app.chat.exchange import AnswerState, Exchange, exchange_for

_STATES = {"complete": AnswerState.DONE, "stopped": AnswerState.STOPPED}
"""A stored answer's status -> its state in the chat; any other (error, interrupted, pending) is FAILED."""


def set_evidence(exchange: Exchange, frame_times_s, used_audio: bool, has_sound: bool | None) -> None:
    """The question's own frames, the earlier ones the model saw again, and whether it heard this segment."""
    evidence = evidence_of(frame_times_s, used_audio, exchange.segment_ms, exchange.whole_video, has_sound)
    exchange.frame_times_s, exchange.earlier_frames = evidence.frame_times_s, evidence.earlier_frames
    exchange.heard_audio = evidence.heard_audio


def sources_of(run: dict) -> list[tuple[int, int, str]]:
    """A stored answer's sources (``{"start_s", "end_s", "why"}`` each, as `vidi ask --json` gives them) as chips'
    (start_ms, end_ms, why)."""
    return [(round(s["start_s"] * 1000), round(s["end_s"] * 1000), str(s.get("why", "")))
            for s in run.get("sources", []) if isinstance(s, dict) and "start_s" in s and "end_s" in s]


def exchanges_of(turns, duration_ms: int, has_sound: bool | None) -> list[Exchange]:
    """The chat's exchanges from its turns in order (keys: minus the question turn's id, apart from live ones)."""
    exchanges: list[Exchange] = []
    for turn in turns:
        if turn.role == "user":
            exchanges.append(exchange_for(-turn.id, turn.text, turn.media, duration_ms))
            continue
        if not exchanges or exchanges[-1].state != AnswerState.QUEUED:
            continue
        exchange = exchanges[-1]
        exchange.answer, exchange.model_id = turn.text, turn.model_id
        exchange.state = _STATES.get(turn.status, AnswerState.FAILED)
        exchange.detail = turn.error if exchange.state == AnswerState.FAILED else turn.model_id
        set_evidence(exchange, turn.run.get("frame_timestamps_s", []), bool(turn.run.get("used_audio")), has_sound)
        exchange.sources = sources_of(turn.run)
    for exchange in exchanges:
        if exchange.state == AnswerState.QUEUED:  # a question whose answer was never written
            exchange.state, exchange.detail = AnswerState.FAILED, "no answer was stored"
    return exchanges
