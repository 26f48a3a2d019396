"""Retrieval: the moments of an indexed video that matter to a question, best first.

    moments = text_moments(store, fingerprint, "when does grandma give her speech?", duration_s=180.0)
    moments[0]            # Moment(start_s=94.0, end_s=108.0, why='said: "Grandma gives her speech"', ...)
    best = fuse_rankings([moments, image_moments])[:4]    # any other ranked list (e.g. SigLIP) fuses in by rank

A moment is a time range around a matching transcript cue or caption, padded so the model sees what leads to it and
follows it, clipped to the video, and merged with the moments close to it (one moment per happening, not one per
line). Text search is SQLite FTS5 with BM25 (IndexStore.search_text) over the question's content words: words such as
"when", "does", "the" match nearly every line and would drown the one that names the thing asked about, so they are
left out of the search, and each word is searched by its stem as a prefix ("dance" finds "dancing"). Each source
(text here; image similarity in core_model.index.keyframes) gives its own ranked list; lists are fused by reciprocal
rank, so scores of different kinds never need to be compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from core_model.index.fusion import RRF_K, fuse_by_rank
from core_model.store.index_records import TextHit
from core_model.timefmt import format_clock_s

PAD_BEFORE_S = 4.0
"""Seconds of video shown before a matching line: what leads to it."""
PAD_AFTER_S = 6.0
"""Seconds after a matching line's end: what follows (an answer, a reaction)."""
MERGE_GAP_S = 5.0
"""Moments closer than this are one happening and become one moment."""
MAX_MOMENT_S = 30.0
"""A merged moment longer than this is not grown further: one model pass sees a moment in enough detail."""
SEARCH_LIMIT = 40
"""Lines fetched from the text index per question, before merging."""
MAX_WHY_CHARS = 160

STOPWORDS = frozenset("""
a about above after again all am an and any are as at be been before being between both but by can could did do
does doing done during each for from further had has have having he her here hers him his how i if in into is it
its just me more most my no nor not now of off on once only or other our out over own same she should so some such
than that the their them then there these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours tell show say said video film clip part moment time
happen happens happened give gives given
""".split())
"""Words that say how a question is asked rather than what it is about (kept out of the text search). "say",
"give", "happen" are here because questions phrase themselves with them ("what did the guide say"), while the lines
that answer rarely repeat them."""

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Moment:
    """A time range of the video that may answer a question. ``why``: what was found there, for the user and the
    prompt (e.g. 'said: "Welcome to the castle"'); ``source``: which search found it ("transcript", "captions",
    "image": core_model.index.keyframes); ``rank``: 0 is the best in its list."""

    start_s: float
    end_s: float
    why: str
    source: str
    rank: int = 0
    score: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def label(self) -> str:
        return f"{format_clock_s(self.start_s)}–{format_clock_s(self.end_s)}"


def content_words(question: str) -> list[str]:
    """The words of ``question`` that say what it is about (stopwords and one-letter words left out), in order,
    each once. Falls back to every word when all are stopwords ("what happens?" still searches something)."""
    words = [w.lower() for w in _WORD.findall(question)]
    kept = [w for w in words if w not in STOPWORDS and len(w) > 1]
    return list(dict.fromkeys(kept or words))


_SUFFIXES = ("ing", "ies", "ied", "ed", "es", "er", "s", "e", "y")
MIN_STEM_CHARS = 4


def stem(word: str) -> str:
    """A crude English stem, searched as a prefix, so a question's "dance" finds a line's "dancing" and "castles"
    finds "castle": the longest common suffix is cut when at least MIN_STEM_CHARS letters remain."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM_CHARS:
            return word[: -len(suffix)]
    return word


def text_moments(store, fingerprint: str, question: str, duration_s: float,
                 limit: int = SEARCH_LIMIT) -> list[Moment]:
    """Moments around the cues and captions matching ``question``'s content words, best (lowest BM25) first,
    close ones merged. Empty when nothing matches or the video has no text index."""
    words = content_words(question)
    if not words:
        return []
    hits = store.search_text(fingerprint, " ".join(stem(w) for w in words), limit=limit, prefix=True)
    return merge_close([moment_of_hit(hit, duration_s) for hit in hits])


def moment_of_hit(hit: TextHit, duration_s: float) -> Moment:
    """The padded, clipped time range around one matching line."""
    start_s = max(0.0, hit.start_s - PAD_BEFORE_S)
    end_s = hit.end_s + PAD_AFTER_S
    if duration_s > 0:
        end_s = min(end_s, duration_s)
        start_s = min(start_s, max(0.0, end_s - PAD_BEFORE_S))
    if end_s - start_s > MAX_MOMENT_S:
        # a long line (a caption describes a scene window of up to 30 s): the padding gives way first, then the
        # line's tail, so no moment is longer than one model pass sees in detail
        start_s = max(start_s, min(hit.start_s, end_s - MAX_MOMENT_S))
        end_s = min(end_s, start_s + MAX_MOMENT_S)
    kind = "said" if hit.kind == "cue" else "seen"
    text = " ".join(hit.text.split())
    if len(text) > MAX_WHY_CHARS:
        text = text[:MAX_WHY_CHARS].rsplit(" ", 1)[0] + "…"
    source = "transcript" if hit.kind == "cue" else "captions"
    return Moment(round(start_s, 3), round(end_s, 3), f'{kind}: "{text}"', source, hit.rank, hit.score)


def merge_close(ranked: Sequence[Moment], gap_s: float = MERGE_GAP_S,
                max_moment_s: float = MAX_MOMENT_S) -> list[Moment]:
    """``ranked`` (best first) with moments that overlap or lie within ``gap_s`` of a better one folded into it,
    as long as the result stays within ``max_moment_s``; the order of the best member is kept and ranks renumbered."""
    merged: list[Moment] = []
    for moment in ranked:
        for index, kept in enumerate(merged):
            near = moment.start_s <= kept.end_s + gap_s and kept.start_s <= moment.end_s + gap_s
            start_s, end_s = min(kept.start_s, moment.start_s), max(kept.end_s, moment.end_s)
            if near and (end_s - start_s <= max_moment_s or _inside(moment, kept)):
                why = kept.why if moment.why in kept.why else f"{kept.why}; {moment.why}"
                merged[index] = replace(kept, start_s=start_s, end_s=end_s, why=why[:2 * MAX_WHY_CHARS])
                break
        else:
            merged.append(moment)
    return [replace(m, rank=rank) for rank, m in enumerate(merged)]


def _inside(inner: Moment, outer: Moment) -> bool:
    return outer.start_s <= inner.start_s and inner.end_s <= outer.end_s


def fuse_rankings(rankings: Sequence[Sequence[Moment]], k: int = RRF_K) -> list[Moment]:
    """One ranked list from several (one per source: text, image similarity, ...), by reciprocal rank fusion
    (core_model.index.fusion): moments of different lists that overlap in time are the same happening and become
    one moment spanning both (within MAX_MOMENT_S), its reasons joined. A single list comes back in its own order."""

    def merge(kept: Moment, moment: Moment) -> Moment:
        start_s, end_s = min(kept.start_s, moment.start_s), max(kept.end_s, moment.end_s)
        if end_s - start_s > MAX_MOMENT_S:
            start_s, end_s = kept.start_s, kept.end_s
        why = kept.why if moment.why in kept.why else f"{kept.why}; {moment.why}"
        return replace(kept, start_s=start_s, end_s=end_s, why=why)

    fused = fuse_by_rank(rankings, overlap=lambda kept, moment: moment.start_s < kept.end_s
                         and kept.start_s < moment.end_s, merge=merge, k=k)
    return [replace(moment, rank=rank, score=score) for rank, (moment, score) in enumerate(fused)]


def spread_moments(duration_s: float, count: int, length_s: float = 10.0) -> list[Moment]:
    """``count`` moments of ``length_s`` spread evenly over the video: what to look at when nothing in its text
    matched (no transcript, or a question about what is seen rather than said)."""
    if duration_s <= 0 or count <= 0:
        return []
    length_s = min(length_s, duration_s / count)
    moments = []
    for index in range(count):
        centre_s = duration_s * (index + 0.5) / count
        start_s = max(0.0, centre_s - length_s / 2)
        moments.append(Moment(round(start_s, 3), round(min(duration_s, start_s + length_s), 3),
                              "a look at this part (nothing in the transcript matched)", "spread", index))
    return moments
