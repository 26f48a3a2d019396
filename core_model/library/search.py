"""Search the library: the moments of all its videos that match a query in words, best first.

    hits = search(library, "grandma speech", limit=5, filters=SearchFilters(has_speech=True))
    hits[0]     # LibraryMoment(video=Path('/videos/party.mp4'), start_s=96.0, end_s=111.0, score=3.2,
                #               text='Grandma gives her speech about the family', ...)

Text: one FTS5/BM25 query over the transcripts and captions of every video in the library (the ``index_text``
table every video's index writes; joined to ``library_files``, so a video whose folder was removed leaves the
results and a renamed one shows under its current path). The query's content words are searched by their stems as
prefixes, as for one video (core_model.index.retrieval). Hits of one video close in time become one moment (padded,
merged, as for one video). Images: an ``image_search`` (SigLIP text-to-image similarity over keyframes, when the
index has embeddings) gives its own ranked moments; the lists are fused by reciprocal rank, and a moment both find
rises above one found by one only.

``score``: higher is better. Text alone: the BM25 relevance (FTS5's value, negated); fused: the fusion's sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Protocol, Sequence

from core_model.errors import UsageError
from core_model.index.fusion import RRF_K, fuse_by_rank
from core_model.index.retrieval import content_words, merge_close, moment_of_hit, stem
from core_model.library.library_store import LibraryStore
from core_model.store.index_records import TextHit
from core_model.store.index_store import fts_query
from core_model.store.sql_lists import as_json, one_of

CANDIDATES_PER_RESULT = 20
"""Lines fetched from the text index per result asked for, before close ones are merged into moments."""


@dataclass(frozen=True)
class SearchFilters:
    """Which videos to search. ``folder``: under this folder (subfolders too); ``modified_from``/``modified_to``:
    the file's date (inclusive days); ``min_duration_s``/``max_duration_s``: its length; ``has_speech``: True for
    videos with a transcript that holds words, False for those without."""

    folder: str | Path | None = None
    modified_from: date | None = None
    modified_to: date | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    has_speech: bool | None = None


@dataclass(frozen=True)
class LibraryMoment:
    """A moment found: ``video`` is the file's current path; ``text`` the matching words (lines joined)."""

    video: Path
    start_s: float
    end_s: float
    score: float
    text: str
    fingerprint: str = ""
    sources: tuple[str, ...] = field(default=("transcript",))

    def to_json(self) -> dict:
        return {"video": str(self.video), "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "score": round(self.score, 6), "text": self.text}


@dataclass(frozen=True)
class ImageHit:
    fingerprint: str
    start_s: float
    end_s: float
    score: float


class ImageSearch(Protocol):
    """Text-to-image similarity over the keyframes of the given videos, best first (e.g. SigLIP vectors)."""

    def __call__(self, query: str, fingerprints: Sequence[str], limit: int) -> list[ImageHit]: ...


def search(library: LibraryStore, query: str, limit: int = 10, filters: SearchFilters = SearchFilters(),
           image_search: ImageSearch | None = None) -> list[LibraryMoment]:
    """The ``limit`` best moments for ``query`` across the library, best first. UsageError for an empty query
    or a limit below 1."""
    if not query.strip():
        raise UsageError("the search is empty: type a few words (e.g. vidi search \"grandma's speech\")")
    if limit < 1:
        raise UsageError(f"the number of results must be 1 or more, not {limit}")
    videos = _videos(library, filters)
    if not videos:
        return []
    text_ranked = _text_moments(library, query, videos, limit, filters == SearchFilters())
    if image_search is None:
        return text_ranked[:limit]
    image_hits = image_search(query, sorted(videos), limit * 4)
    image_ranked = [LibraryMoment(Path(videos[h.fingerprint][0]), h.start_s, h.end_s, h.score, "", h.fingerprint,
                                  ("image",)) for h in image_hits if h.fingerprint in videos]
    return fuse_moments([text_ranked, image_ranked])[:limit]


def _videos(library: LibraryStore, filters: SearchFilters) -> dict[str, tuple[str, float]]:
    """fingerprint -> (current path, duration_s) of the library videos the filters keep (one path per content).
    Paths stay strings: a Path per video was most of a search's time at 40k videos."""
    where, params = ["fingerprint != ''"], []
    if filters.folder is not None:
        prefix = str(Path(filters.folder).expanduser().resolve()).rstrip("/") + "/"
        where.append("substr(path, 1, ?) = ?")
        params += [len(prefix), prefix]
    if filters.modified_from is not None:
        where.append("mtime_ns >= ?")
        params.append(_day_start_ns(filters.modified_from))
    if filters.modified_to is not None:
        where.append("mtime_ns < ?")
        params.append(_day_start_ns(filters.modified_to) + 86_400 * 10**9)
    if filters.min_duration_s is not None:
        where.append("duration_s >= ?")
        params.append(float(filters.min_duration_s))
    if filters.max_duration_s is not None:
        where.append("duration_s <= ?")
        params.append(float(filters.max_duration_s))
    if filters.has_speech is not None:
        spoken = "EXISTS (SELECT 1 FROM transcript_cues c WHERE c.fingerprint = library_files.fingerprint)"
        where.append(spoken if filters.has_speech else f"NOT {spoken}")
    with library.reading() as db:
        rows = db.execute(f"SELECT fingerprint, path, duration_s FROM library_files WHERE {' AND '.join(where)}"
                          " ORDER BY id", params).fetchall()
    videos: dict[str, tuple[str, float]] = {}
    for row in rows:
        videos.setdefault(row["fingerprint"], (row["path"], float(row["duration_s"] or 0.0)))
    return videos


def _day_start_ns(day: date) -> int:
    """Local midnight at the start of ``day``, in ns since the epoch (a file's mtime)."""
    if isinstance(day, datetime):
        return int(day.timestamp() * 10**9)
    return int(datetime.combine(day, time()).astimezone(timezone.utc).timestamp() * 10**9)


def _text_moments(library: LibraryStore, query: str, videos: dict[str, tuple[str, float]], limit: int,
                  filters_are_default: bool) -> list[LibraryMoment]:
    match = fts_query(" ".join(stem(w) for w in content_words(query)), prefix=True)
    if not match:
        return []
    wanted = limit * CANDIDATES_PER_RESULT
    rows = []
    if filters_are_default:
        # the whole library: filtering a few non-library videos out in Python costs less than SQLite testing
        # every matching line against the list of videos (~40% of the query at 200k lines)
        rows = _match(library, match, (), 2 * wanted)
        kept = [row for row in rows if row["fingerprint"] in videos]
        rows = kept[:wanted] if len(kept) >= wanted or len(rows) < 2 * wanted else None
    if not filters_are_default or rows is None:
        # narrowed to the kept videos in SQL, so a filter never starves the result of candidates
        rows = _match(library, match, sorted(videos), wanted)
    by_video: dict[str, list[TextHit]] = {}
    for row in rows:
        hits = by_video.setdefault(row["fingerprint"], [])
        hits.append(TextHit(row["kind"], float(row["start_s"]), float(row["end_s"]), row["text"], len(hits),
                            float(row["score"])))
    moments: list[LibraryMoment] = []
    for fingerprint, hits in by_video.items():
        path, duration_s = videos[fingerprint]
        for moment in merge_close([moment_of_hit(hit, duration_s) for hit in hits]):
            inside = sorted((h for h in hits if h.start_s < moment.end_s and moment.start_s < h.end_s),
                            key=lambda h: h.start_s)
            text = " … ".join(dict.fromkeys(" ".join(h.text.split()) for h in inside))
            sources = tuple(dict.fromkeys("transcript" if h.kind == "cue" else "captions" for h in inside))
            moments.append(LibraryMoment(Path(path), moment.start_s, moment.end_s, -moment.score, text, fingerprint,
                                         sources or (moment.source,)))
    moments.sort(key=lambda m: -m.score)
    return moments


def _match(library: LibraryStore, match: str, fingerprints: Sequence[str], limit: int) -> list:
    """Lines matching ``match``, best BM25 first; only of ``fingerprints`` when some are given."""
    among, params = (f" AND {one_of('fingerprint')}", (as_json(fingerprints),)) if fingerprints else ("", ())
    with library.reading() as db:
        return db.execute(
            "SELECT fingerprint, kind, start_s, end_s, text, bm25(index_text) AS score FROM index_text"
            f" WHERE index_text MATCH ?{among} ORDER BY score LIMIT ?", (match, *params, limit),
        ).fetchall()


def fuse_moments(rankings: Sequence[Sequence[LibraryMoment]], k: int = RRF_K) -> list[LibraryMoment]:
    """One ranking from several by reciprocal rank fusion (core_model.index.fusion): moments of one video that
    overlap in time are one moment (the first list's time range and words are kept, the sources add up)."""

    def merge(kept: LibraryMoment, moment: LibraryMoment) -> LibraryMoment:
        return replace(kept, text=kept.text or moment.text, sources=tuple(dict.fromkeys(kept.sources + moment.sources)))

    fused = fuse_by_rank(rankings, overlap=lambda kept, moment: kept.fingerprint == moment.fingerprint
                         and moment.start_s < kept.end_s and kept.start_s < moment.end_s, merge=merge, k=k)
    return [replace(moment, score=score) for moment, score in fused]
