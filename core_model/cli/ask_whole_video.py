"""``vidi ask VIDEO "question"`` without --start/--end: the whole-video plan, indexing a long video first.

- An indexed video (any part built): the question is planned from its index (core_model.index.whole_video):
  retrieved moments (its words through FTS5, its look through the keyframes' SigLIP embeddings, fused by rank), or
  chapters for a summary.
- An unindexed video up to ONE_PASS_MAX_S: answered in one pass over the whole file, as before (no plan).
- A longer unindexed video: its transcript, scenes and keyframe embeddings are indexed now, with a notice and the
  index's progress bar on stderr, then planned. An existing index is never rebuilt here (`vidi index` completes it).
"""

from __future__ import annotations

import sys
from pathlib import Path

ON_DEMAND_PARTS = ("transcript", "scenes", "embeddings")
"""What a question builds on demand: what retrieval needs, with no model but Whisper and SigLIP, each skipped with a
notice when it is not here (captions and chapters need the answering model loaded twice; `vidi index` builds
them)."""


def notice(line: str) -> None:
    print(f"vidi: notice: {line}", file=sys.stderr)


def whole_video_plan(video: str, question: str, duration_s: float, *, num_frames: int, include_audio: bool):
    """The WholeVideoPlan for ``question``, or None when the video is short and unindexed (one pass)."""
    from core_model.index.keyframes import image_rankings
    from core_model.index.whole_video import ONE_PASS_MAX_S, plan_whole_video_question
    from core_model.store.fingerprint import fingerprint_file
    from core_model.store.index_store import IndexStore

    path = Path(video).resolve()
    fingerprint = fingerprint_file(path)
    with IndexStore() as store:
        if not store.has_index(fingerprint):
            if duration_s <= ONE_PASS_MAX_S:
                return None
            _index_now(path, store, duration_s)
        else:
            _say_if_incomplete(path, store.part(fingerprint, "transcript"))
        plan = plan_whole_video_question(path, question, store, duration_s=duration_s, fingerprint=fingerprint,
                                         num_frames=num_frames, include_audio=include_audio,
                                         other_rankings=image_rankings(store, fingerprint, question, duration_s))
    if plan.notice:
        notice(plan.notice)
    return plan


def _index_now(video: Path, store, duration_s: float) -> None:
    from core_model.cli.index import IndexProgressBar
    from core_model.index.runner import build_index
    from core_model.timefmt import format_clock_s

    notice(f"{video.name} ({format_clock_s(duration_s)}) has no index yet: indexing its transcript, scenes and "
           "keyframes first, once ('vidi index' builds the rest)")
    bar = IndexProgressBar(sys.stderr)
    try:
        report = build_index(video, parts=ON_DEMAND_PARTS, progress=bar.update, store=store)
    finally:
        bar.close()
    for part, why in report.skipped.items():
        notice(f"{part} skipped: {why}")



def _say_if_incomplete(video: Path, transcript) -> None:
    """An index without its whole transcript answers from less than it could: say so, and how to complete it (a
    question never rebuilds an index by itself)."""
    from core_model.timefmt import format_clock_s

    if transcript.done:
        return
    how_far = (f"only built up to {format_clock_s(transcript.done_until_s)}" if transcript.state == "partial"
               else "missing" + (f" ({transcript.notice})" if transcript.notice else ""))
    notice(f"the transcript of {video.name} is {how_far}: 'vidi index {video}' completes it")


def source_lines(plan) -> list[str]:
    """The plan's sources for a reader, after the answer: "Sources:" then one "  1:36–1:51  said: ..." line each."""
    from core_model.timefmt import format_clock_s

    if not plan.sources:
        return []
    return ["Sources:"] + [f"  {format_clock_s(s.start_s)}–{format_clock_s(s.end_s)}  {s.why}" for s in plan.sources]
