"""Questions about a whole video: plan what the model sees (retrieved moments, or chapters to sum up) and answer.

    plan = plan_whole_video_question("wedding.mp4", "when does grandma give her speech?", index_store,
                                     duration_s=7200.0, num_frames=8)
    plan.kind               # "moments" (re-watch the moments that matter) or "summary" (map-reduce over chapters)
    plan.sources            # [Source(start_s=94.0, end_s=112.0, why='said: "Grandma gives her speech"'), ...]
    for piece in answer_whole_video(plan, backend, options, history=earlier_turns):
        print(piece, end="")  # the answer, citing times as M:SS

Moments: text retrieval (core_model.index.retrieval) ranks time ranges around matching transcript lines and
captions; the best ``MAX_MOMENTS`` go to the model as one SegmentRef each (frames + sound), in time order, and the
prompt lists each with its times and what was found there, asking for M:SS citations. The frames of one question are
shared among its moments (``frames_per_moment``), so more moments never mean more frames than one segment would
get; the budget planner then fits those to memory. Nothing matched (no transcript, or a question about what is seen):
moments spread evenly over the video are looked at instead.

Summary ("summarise this", "what is this video about"): map-reduce. Map: each chapter's stored one-line summary, or,
when a chapter has none, the model's summary of its transcript lines; with fewer than two chapters, chunks of the
transcript stand in for chapters. Reduce: one text-only question that lists the parts' times and summaries. Every
source is a part of the video, never the whole of it. A video with no text at all is summed up from spread moments.

Qt-free: the window's worker thread calls ``plan_question`` then ``answer_whole_video``, as ``vidi ask`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

from core_model.backends.base import GenerationOptions, MediaRef, SegmentRef, Turn
from core_model.index.chapters import chapter_text
from core_model.index.embeddings import TextEmbedding
from core_model.index.retrieval import Moment, fuse_rankings, spread_moments, text_moments
from core_model.store.fingerprint import fingerprint_file
from core_model.timefmt import format_clock_s

MAX_MOMENTS = 4
"""Moments re-watched for one question: enough to compare and cite, few enough to see each in detail."""
MIN_FRAMES_PER_MOMENT = 2
ONE_PASS_MAX_S = 60.0
"""An unindexed video up to this long is answered in one pass over the whole file (as a segment question is);
a longer one is indexed first."""
SUMMARY_CHUNKS = 8
MIN_CHUNK_S = 30.0
MAP_OPTIONS = GenerationOptions(max_new_tokens=96)
MAX_EXCERPT_CHARS = 300

_SUMMARY_QUESTION = re.compile(
    r"\b(summar(y|ies|i[sz]e[sd]?|i[sz]ing)|sum (it|this|that) up|recap|overview|outline|tl;?dr|gist|"
    r"what (is|was) (this|the) (video|film|clip|recording) about|what happens in (this|the) (video|film|clip))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Source:
    """A moment the answer drew on. ``as_json()`` gives the pinned `vidi ask --json` shape."""

    start_s: float
    end_s: float
    why: str

    def as_json(self) -> dict:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3), "why": self.why}


@dataclass(frozen=True)
class MapStep:
    """A part of the video the model sums up before the final answer (``prompt`` None: its summary is known)."""

    source: Source
    title: str
    prompt: str | None = None
    summary: str = ""
    excerpt: str = ""
    """The start of the part's own lines: stands in for its summary where only one model call is allowed."""


@dataclass
class WholeVideoPlan:
    """What to ask the model for a whole-video question. ``kind``: "moments" or "summary"; ``turn``: the last
    turn for the moments kind (its media are the moments); ``map_steps``: the summary kind's parts; ``notice``: a
    line for the user about how the question is answered (e.g. nothing in the transcript matched)."""

    kind: str
    question: str
    duration_s: float
    sources: list[Source]
    num_frames: int
    turn: Turn | None = None
    map_steps: list[MapStep] = field(default_factory=list)
    notice: str = ""
    attachments: tuple[MediaRef, ...] = ()

    def attach(self, media: Sequence[MediaRef]) -> None:
        """Add the user's own attachments (images, recordings) to the final question."""
        self.attachments = (*self.attachments, *media)

    def final_turn(self, summaries: Sequence[str] = ()) -> Turn:
        """The last turn sent to the model, with the attachments: the moments' question, or the summary's reduce
        step from each map step's summary."""
        turn = self.turn if self.kind == "moments" else self.reduce_turn(summaries)
        return replace(turn, media=(*turn.media, *self.attachments))

    def options_for(self, options: GenerationOptions) -> GenerationOptions:
        """``options`` with the frames per moment of this plan."""
        return replace(options, num_frames=self.num_frames)

    def one_call_turn(self) -> Turn:
        """The final turn when only one model call is possible (the GUI sends one request per question): for a
        summary, parts without a summary are given by the start of their lines instead of the model's map step."""
        return self.final_turn([step.summary or step.excerpt for step in self.map_steps])

    def reduce_turn(self, summaries: Sequence[str]) -> Turn:
        """The summary kind's final question, from each map step's summary (in order)."""
        lines = []
        for step, summary in zip(self.map_steps, summaries):
            title = f" {step.title}:" if step.title else ""
            text = " ".join(summary.split()) or "(nothing said)"
            lines.append(f"- {format_clock_s(step.source.start_s)}–{format_clock_s(step.source.end_s)}{title} {text}")
        prompt = (
            f"Here are the parts of a video ({format_clock_s(self.duration_s)} long), in order, each with its "
            "times and a short summary:\n" + "\n".join(lines) + f"\n\nQuestion: {self.question}\n"
            "Answer from these parts. Cite the time of each part you mention as M:SS (for example 1:40)."
        )
        return Turn("user", prompt)


def is_summary_question(question: str) -> bool:
    return bool(_SUMMARY_QUESTION.search(question))


def frames_per_moment(num_frames: int, moment_count: int) -> int:
    """The question's ``num_frames`` shared among its moments (at least MIN_FRAMES_PER_MOMENT each)."""
    return max(MIN_FRAMES_PER_MOMENT, num_frames // max(1, moment_count))


def plan_whole_video_question(
    video: str | Path,
    question: str,
    store,
    *,
    duration_s: float,
    fingerprint: str | None = None,
    num_frames: int = 8,
    include_audio: bool = True,
    max_moments: int = MAX_MOMENTS,
    other_rankings: Sequence[Sequence[Moment]] = (),
) -> WholeVideoPlan:
    """The plan for ``question`` about the whole of ``video``, from its index in ``store`` (an IndexStore).

    ``other_rankings``: ranked moments from other searches (e.g. image similarity), fused with the text search by
    rank. ``num_frames``: the frames one segment question would get; shared among the moments. StoreError for the
    database, MediaError when the video cannot be read for its fingerprint.
    """
    video = str(Path(video).resolve())
    fingerprint = fingerprint or fingerprint_file(video)
    if is_summary_question(question):
        steps = _summary_steps(store, fingerprint, duration_s)
        if steps:
            return WholeVideoPlan("summary", question, duration_s, [s.source for s in steps], num_frames,
                                  map_steps=steps)
    found = fuse_rankings([text_moments(store, fingerprint, question, duration_s), *other_rankings])
    notice = ""
    if not found:
        found = spread_moments(duration_s, max_moments)
        notice = "nothing in the video's transcript matched the question: looking at moments spread over it"
    chosen = sorted(found[:max_moments], key=lambda m: m.start_s)
    frames = frames_per_moment(num_frames, len(chosen))
    media = tuple(SegmentRef(video, m.start_s, m.end_s, include_audio=include_audio) for m in chosen)
    turn = Turn("user", moments_prompt(question, chosen, duration_s), media)
    sources = [Source(m.start_s, m.end_s, m.why) for m in sorted(found[:max_moments], key=lambda m: m.rank)]
    return WholeVideoPlan("moments", question, duration_s, sources, frames, turn=turn, notice=notice)


def plan_if_indexed(db_path: str | Path, video: str | Path, question: str, *, duration_s: float,
                    num_frames: int = 8, include_audio: bool = True, image_search: bool = False,
                    embed_texts: TextEmbedding | None = None) -> WholeVideoPlan | None:
    """The plan for ``question`` when ``video`` has an index in the database at ``db_path``; None when it has none
    (the caller then asks about the whole file in one pass).

    ``image_search``: also find moments by their look (the question through the video's SigLIP, fused by rank),
    embedded by ``embed_texts`` (default: in this process, which then imports torch and keeps SigLIP loaded).
    Without it the plan reads a few rows only.
    """
    from core_model.index.keyframes import image_rankings
    from core_model.store.index_store import IndexStore

    fingerprint = fingerprint_file(video)
    with IndexStore(db_path) as store:
        if not store.has_index(fingerprint):
            return None
        looks = (image_rankings(store, fingerprint, question, duration_s, embed_texts=embed_texts)
                 if image_search else ())
        return plan_whole_video_question(video, question, store, duration_s=duration_s, fingerprint=fingerprint,
                                         num_frames=num_frames, include_audio=include_audio, other_rankings=looks)


def plan_question(db_path: str | Path, question: Turn, *, duration_s: float, num_frames: int = 8,
                  image_search: bool = True, embed_texts: TextEmbedding | None = None) -> WholeVideoPlan | None:
    """The plan for a chat's question turn whose media hold the whole of an indexed video (a SegmentRef with no
    start and end), by words and by look, with the turn's other media attached; None for any other question or a
    video without an index (asked in one pass, as a segment is). The window's worker thread calls this before it
    answers with ``answer_whole_video``; ``embed_texts`` then runs SigLIP in a child process."""
    whole = [m for m in question.media if isinstance(m, SegmentRef) and m.start_s is None and m.end_s is None]
    if not whole:
        return None
    plan = plan_if_indexed(db_path, whole[0].path, question.text, duration_s=duration_s, num_frames=num_frames,
                           include_audio=whole[0].include_audio, image_search=image_search,
                           embed_texts=embed_texts)
    if plan is not None:
        plan.attach([m for m in question.media if m is not whole[0]])
    return plan


def moments_prompt(question: str, moments: Sequence[Moment], duration_s: float) -> str:
    """The question with the moments listed in the order their clips are attached."""
    lines = [f"Moment {number}, {format_clock_s(m.start_s)}–{format_clock_s(m.end_s)}: {m.why}"
             for number, m in enumerate(moments, start=1)]
    return (
        f"These moments of a video ({format_clock_s(duration_s)} long) were found to matter to the question; "
        "their clips are attached in this order:\n" + "\n".join(lines) + f"\n\nQuestion: {question}\n"
        "Answer from these moments. When you say when something happens, cite the time as M:SS (for example 1:40)."
    )


def answer_whole_video(plan: WholeVideoPlan, backend, options: GenerationOptions | None = None,
                       history: Sequence[Turn] = (),
                       should_stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
    """Stream the answer to ``plan`` from ``backend`` (loaded, or loading on first use). The summary kind first
    asks the model for each part still without a summary (not streamed), then streams the final answer.
    ``history``: earlier turns of the chat, before the question."""
    options = options or GenerationOptions()
    if plan.kind == "moments":
        yield from backend.answer([*history, plan.final_turn()], plan.options_for(options))
        return
    summaries = []
    for step in plan.map_steps:
        if should_stop():
            return
        if step.prompt is None:
            summaries.append(step.summary)
            continue
        map_options = replace(MAP_OPTIONS, max_new_tokens=min(MAP_OPTIONS.max_new_tokens, options.max_new_tokens))
        summaries.append("".join(backend.answer([Turn("user", step.prompt)], map_options)).strip())
    yield from backend.answer([*history, plan.final_turn(summaries)], options)


def _summary_steps(store, fingerprint: str, duration_s: float) -> list[MapStep]:
    """Map steps over the chapters (two or more), else over chunks of the transcript; [] when there is no text."""
    cues, captions = store.cues(fingerprint), store.captions(fingerprint)
    chapters = store.chapters(fingerprint)
    if len(chapters) >= 2:
        spans = [(c.start_s, c.end_s, c.title, c.summary) for c in chapters]
    else:
        count = max(1, min(SUMMARY_CHUNKS, int(duration_s // MIN_CHUNK_S)))
        count = max(count, 2) if duration_s >= 2 * MIN_CHUNK_S or len(cues) > 1 else count
        spans = [(duration_s * i / count, duration_s * (i + 1) / count, "", "") for i in range(count)]
    steps = []
    for start_s, end_s, title, summary in spans:
        text = chapter_text(start_s, end_s, cues, captions)
        if not text and not summary:
            continue  # nothing said or seen there: nothing to sum up
        why = f"{title}: {summary}" if title and summary else (title or summary or _first_line(text))
        source = Source(round(start_s, 3), round(end_s, 3), why)
        excerpt = " ".join(line.split(": ", 1)[-1] for line in text.splitlines())[:MAX_EXCERPT_CHARS]
        if summary:
            steps.append(MapStep(source, title, summary=summary, excerpt=excerpt))
        else:
            steps.append(MapStep(source, title, prompt=_map_prompt(start_s, end_s, text), excerpt=excerpt))
    if len(steps) == 1 and steps[0].source.end_s - steps[0].source.start_s >= duration_s - 1e-3 and len(cues) > 1:
        return []  # one part spanning the whole video is not a source: let retrieval pick moments instead
    return steps


def _map_prompt(start_s: float, end_s: float, text: str) -> str:
    return (
        f"Here is what is said and seen in one part of a video, from {format_clock_s(start_s)} to "
        f"{format_clock_s(end_s)}:\n\n{text}\n\nSum this part up in one or two sentences."
    )


def _first_line(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    return line[:160]
