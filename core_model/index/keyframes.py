"""Keyframe embeddings: the scenes' keyframes through SigLIP into the index, and moments found by their look.

    model = find_embedding_model("siglip2-base")            # or a folder; None: nothing on this machine
    for until_s, times_s, vectors in embed_keyframes(video, scenes, embedder, duration_s):
        store.add_keyframe_vectors(fingerprint, times_s, vectors, until_s=until_s, done=..., model_id=...)
    image_moments(store, fingerprint, "a red car in the snow", duration_s=600.0)   # [Moment(...), ...] best first

Keyframes are the scenes' own (core_model.index.scenes.keyframe_times: the middle of a scene, more for long ones),
their pictures taken small during the scene pass and stored with the scenes (KEYFRAME_SIDE_PX: SigLIP sees 224 px
anyway; core_model.index.keyframe_pictures); the video is decoded again only for an index built before that. They
are embedded ``BATCH_KEYFRAMES`` at a time; each batch is committed with how far it got, so a stopped or killed
build resumes at the next scene. A question's words are embedded by the same model (the one recorded with the part)
and the video's nearest keyframes become moments: a few seconds around each, merged when close, ranked by
similarity, to be fused by rank with the text search's moments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from core_model.errors import ModelsError
from core_model.index.embeddings import TextEmbedding
from core_model.index.keyframe_pictures import KEYFRAME_SIDE_PX, decode_jpeg
from core_model.index.retrieval import Moment
from core_model.store.index_records import Scene
from core_model.timefmt import format_clock_s

BATCH_KEYFRAMES = 32
"""Keyframes embedded (and committed) together: one SigLIP batch."""
IMAGE_PAD_S = 5.0
"""Seconds of video either side of a matching keyframe that make its moment."""
IMAGE_LIMIT = 10
"""Keyframes fetched per question, before merging."""
PULL_HINT = "vidi models pull siglip2-base"


@dataclass(frozen=True)
class EmbeddingModel:
    model_id: str
    folder: Path


def find_embedding_model(spec: str | None = None, manager=None) -> EmbeddingModel | None:
    """The SigLIP to use: ``spec`` (a catalog id or a model folder) when given, else the first embedding model of
    the catalog on this machine. None when there is none; a ``spec`` that is neither is a ModelsError line."""
    from core_model.index.speech_model import find_local_model
    from core_model.models.catalog import EMBEDDING_MODELS

    found = find_local_model(spec, EMBEDDING_MODELS, "embedding", manager)
    return EmbeddingModel(*found) if found is not None else None


def embed_keyframes(video: str | Path, scenes: Sequence[Scene], embedder, duration_s: float,
                    should_stop: Callable[[], bool] = lambda: False,
                    batch_keyframes: int | None = None,
                    pictures_of: Callable[[Scene], list[np.ndarray] | None] | None = None,
                    ) -> Iterator[tuple[float, list[float], np.ndarray]]:
    """(until_s, keyframe times, vectors [N, D]) per batch of whole scenes, in time order. Stops between scenes
    once ``should_stop()`` is true (the open batch is dropped: it is embedded again on resuming).

    ``pictures_of(scene)``: the scene's keyframe pictures taken during the scene pass (``stored_pictures``), one
    per keyframe time, or None when it has none (an index built before they were stored). Only the scenes without
    them are decoded: the video is then read once, front to back (core_model.media.FrameStream: one open file, GOPs
    without a keyframe skipped undecoded), opened only if some scene needs it; only the open batch's small frames
    are held.
    """
    from core_model.media import FrameStream

    batch_keyframes = batch_keyframes or BATCH_KEYFRAMES
    times_s: list[float] = []
    frames: list[np.ndarray] = []
    until_s = 0.0
    stream: FrameStream | None = None
    try:
        for scene in scenes:
            if should_stop():
                return
            end_s = min(scene.end_s, duration_s) if duration_s > 0 else scene.end_s
            count = max(1, len(scene.keyframes_s))
            stored = pictures_of(scene) if pictures_of is not None and scene.keyframes_s else None
            if stored is not None:
                frames.extend(stored)
                times_s.extend(scene.keyframes_s)
            elif end_s > scene.start_s:
                if stream is None:
                    stream = FrameStream(video, max_side_px=KEYFRAME_SIDE_PX)
                # the scene's keyframes are the centres of equal parts of it: what FrameStream.frames takes
                picture, _ = stream.frames(scene.start_s, end_s, count)
                frames.extend(picture)
                times_s.extend(scene.keyframes_s or [round((scene.start_s + end_s) / 2, 3)])
            until_s = scene.end_s
            if len(frames) >= batch_keyframes:
                yield until_s, times_s, embedder.embed_images(frames)
                times_s, frames = [], []
    finally:
        if stream is not None:
            stream.close()
    if frames or until_s:
        yield until_s, times_s, embedder.embed_images(frames) if frames else np.zeros((0, 1), np.float32)


def stored_pictures(store, fingerprint: str) -> Callable[[Scene], list[np.ndarray] | None]:
    """``pictures_of`` for ``embed_keyframes``: a scene's keyframe pictures from the index (IndexStore), decoded
    from JPEG; None unless every keyframe time of the scene has a readable one (the video is decoded instead)."""

    def pictures_of(scene: Scene) -> list[np.ndarray] | None:
        found = {round(p.time_s, 3): p.jpeg
                 for p in store.keyframe_pictures(fingerprint, scene.start_s, scene.end_s)}
        jpegs = [found.get(round(t, 3)) for t in scene.keyframes_s]
        if not jpegs or any(j is None for j in jpegs):
            return None
        pictures = [decode_jpeg(j) for j in jpegs]
        return None if any(p is None for p in pictures) else pictures

    return pictures_of


_LOADED: dict[str, object] = {}
"""The last SigLIP used for questions, kept loaded: a second question about a video costs no model load."""


def question_embedder(folder: Path):
    """The SigLIP in ``folder``, loaded in this process and kept for the next question."""
    from core_model.index.embeddings import SiglipEmbedder

    key = str(folder)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = SiglipEmbedder(folder)
    return _LOADED[key]


def embed_texts_here(folder: Path, texts: Sequence[str]) -> np.ndarray:
    """A ``TextEmbedding`` run in this process (the CLI's): ``texts`` through the SigLIP in ``folder``."""
    return question_embedder(folder).embed_texts(list(texts))


def image_rankings(store, fingerprint: str, question: str, duration_s: float, *, manager=None,
                   embed_texts: TextEmbedding | None = None) -> list[list[Moment]]:
    """``[image_moments(...)]`` to hand to plan_whole_video_question's ``other_rankings``: [] for a summary question
    (it is answered from chapters, not moments) and when the keyframes cannot be searched (no embeddings, their
    model gone or failing to load: the text search still answers; the failure is not the question's)."""
    from core_model.errors import VidiError
    from core_model.index.whole_video import is_summary_question

    if is_summary_question(question):
        return []
    try:
        found = image_moments(store, fingerprint, question, duration_s, manager=manager, embed_texts=embed_texts)
    except VidiError:
        return []
    return [found] if found else []


def image_moments(store, fingerprint: str, question: str, duration_s: float, *, manager=None,
                  limit: int = IMAGE_LIMIT, embed_texts: TextEmbedding | None = None) -> list[Moment]:
    """Moments around the keyframes whose look is nearest to ``question``, best first. [] when the video has no
    keyframe embeddings or their model is no longer on this machine (text search still answers).
    ``embed_texts``: where the question is embedded (default: this process, ``embed_texts_here``)."""
    state = store.part(fingerprint, "embeddings")
    if state.state == "missing" or not question.strip():
        return []
    folder = Path(state.source) if state.source else None
    if folder is None or not folder.is_dir():
        try:
            found = find_embedding_model(state.model_id, manager)
        except ModelsError:
            return []
        folder = found.folder if found is not None else None
    if folder is None:
        return []
    query = (embed_texts or embed_texts_here)(folder, [question])[0]
    hits = store.search_keyframes(fingerprint, query, model_id=state.model_id, limit=limit)
    moments: list[Moment] = []
    for time_s, score in hits:
        start_s = max(0.0, time_s - IMAGE_PAD_S)
        end_s = min(duration_s, time_s + IMAGE_PAD_S) if duration_s > 0 else time_s + IMAGE_PAD_S
        if any(start_s < kept.end_s and kept.start_s < end_s for kept in moments):
            # a better keyframe's moment already covers this happening; every keyframe is somebody's nearest, so
            # merging neighbours (as text hits are) would join a run of weak matches into one long, vague moment
            continue
        moments.append(Moment(round(start_s, 3), round(end_s, 3),
                              f"looks like what was asked (the picture at {format_clock_s(time_s)})", "image",
                              len(moments), score))
    return moments
