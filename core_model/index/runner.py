"""``build_index``: build or complete a video's index, part by part, resumable and cancellable.

    report = build_index("wedding.mp4", parts=("transcript", "scenes"), progress=print, should_stop=stop.is_set)
    report.built        # ["transcript", "scenes"]: parts finished by this run
    report.skipped      # {"transcript": "no subtitles and no speech model: run 'vidi models pull whisper-base'"}

Parts, in order: the transcript (subtitles, else Whisper), the scenes, the captions (the answering model describes
each scene window: core_model.index.captions), the keyframe embeddings (SigLIP: core_model.index.keyframes) and the
chapters (titled by the answering model, loaded once for captions and chapters).

Each part commits as it goes (a window of speech, a scene, a caption, a batch of keyframes, a chapter's title; the
chapters' grouping first) together with how far it got, so a build killed at any moment resumes where its last
commit was; a part already done costs nothing.
``should_stop()`` is checked between steps: the build then returns with ``stopped=True`` and what it did kept. A
part whose model is not on the machine (no subtitles and no Whisper; no answering model; no SigLIP) or cannot be
loaded is skipped with a notice naming what to pull; the other parts are still built, and building again later
completes the missing ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from core_model.errors import MediaError, ModelLoadError, UsageError, VidiError, user_message
from core_model.index import keyframes
from core_model.index.captions import caption_video, caption_windows
from core_model.index.chapters import group_scenes, title_chapter
from core_model.index.keyframes import find_embedding_model
from core_model.index.progress import PartClock, ProgressCallback
from core_model.index.scenes import SceneSettings, scan_scenes
from core_model.index.speech_model import find_speech_model, speech_pull_hint
from core_model.index.transcript import find_sidecar, find_transcript
from core_model.media import probe
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_records import PART_NAMES, PartState
from core_model.store.index_store import IndexStore
from core_model.timefmt import format_clock_s

BUILDABLE_PARTS: tuple[str, ...] = ("transcript", "scenes", "captions", "embeddings", "chapters")
"""The parts this version builds, in the order they are built (captions and keyframes follow the scenes; chapters
are titled from the transcript and the captions)."""


@dataclass
class IndexReport:
    """What a build did. ``parts``: every part's state afterwards."""

    video: Path
    fingerprint: str
    duration_s: float
    built: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    stopped: bool = False
    parts: dict[str, PartState] = field(default_factory=dict)
    model_error: str = ""
    """The answering model could not be loaded (its one line): the parts needing it are in ``skipped``."""


@dataclass
class _Build:
    """One run's shared context (the video, the store, the callbacks), handed to each part's builder."""

    video: Path
    fingerprint: str
    duration_s: float
    has_audio: bool
    store: IndexStore
    progress: ProgressCallback | None
    should_stop: Callable[[], bool]
    asr_model: str | None
    chapter_model: str | None
    scene_settings: SceneSettings
    manager: object | None
    part_count: int
    embed_model: str | None = None
    part_number: int = 0
    backend: object | None = None
    """The answering model, loaded once for the captions and the chapters, unloaded when the build ends."""
    load_error: str = ""

    def answering_backend(self, model: str):
        """The loaded answering model; a model that cannot be loaded is a VidiError, raised again (not retried) for
        each part that needs it."""
        if self.load_error:
            raise ModelLoadError(self.load_error)
        if self.backend is None:
            from core_model.backends import load_backend  # torch and transformers: only when a model is used

            try:
                backend = load_backend(model)
                backend.load(None)
            except VidiError as exc:
                self.load_error = user_message(exc)
                raise
            self.backend = backend
        return self.backend

    def release(self) -> None:
        if self.backend is not None:
            self.backend.unload()
            self.backend = None


def build_index(
    video: str | os.PathLike,
    parts: Sequence[str] = BUILDABLE_PARTS,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    store: IndexStore | None = None,
    *,
    asr_model: str | None = None,
    chapter_model: str | None = None,
    scene_settings: SceneSettings = SceneSettings(),
    manager=None,
    embed_model: str | None = None,
) -> IndexReport:
    """Build (or complete) the ``parts`` of ``video``'s index in ``store`` (default: Vidi's database).

    ``asr_model``: a Whisper catalog id or folder (default: the best one on this machine), used only when the
    video has no subtitles. ``chapter_model``: the model that titles chapters, a catalog id or folder (default:
    the best one on this machine); it also captions the scenes. ``embed_model``: the SigLIP model for the keyframes,
    a catalog id or folder (default: the one on this machine). ``manager``: the ModelManager to find models with
    (default: a new one). UsageError for an unknown part, MediaError for an unreadable video, StoreError for the
    database.
    """
    unknown = [p for p in parts if p not in PART_NAMES]
    if unknown:
        raise UsageError(f"unknown index part {unknown[0]!r} (known: {', '.join(PART_NAMES)})")
    video = Path(video).expanduser()
    info = probe(video)
    try:
        fingerprint = fingerprint_file(video)
    except OSError as exc:
        raise MediaError(f"cannot read {video}: {exc.strerror or exc}") from exc
    own_store = store is None
    store = store if store is not None else IndexStore()
    build: _Build | None = None
    try:
        build = _Build(video, fingerprint, float(info.duration_s or 0.0), bool(info.has_audio), store, progress,
                       should_stop or (lambda: False), asr_model, chapter_model, scene_settings, manager, len(parts),
                       embed_model=embed_model)
        report = IndexReport(video, fingerprint, build.duration_s)
        for part in parts:
            build.part_number += 1
            if store.part(fingerprint, part).done and not _outdated(build, part):
                report.already_done.append(part)
                continue
            builder = _BUILDERS.get(part)
            outcome = builder(build) if builder is not None else "not built by this version of Vidi yet"
            if outcome == "done":
                report.built.append(part)
            elif outcome == "stopped":
                report.stopped = True
                break
            else:
                report.skipped[part] = outcome
                if store.part(fingerprint, part).state == "missing":  # kept, so `vidi chapters` can say why
                    store.set_part(fingerprint, part, "missing", notice=outcome)
        report.parts = store.parts(fingerprint)
        report.model_error = build.load_error
        return report
    finally:
        if build is not None:
            build.release()
        if own_store:
            store.close()


# ----------------------------------------------------------------------------------------------------------------
# Parts: each builder returns "done", "stopped", or the notice saying why the part was skipped
# ----------------------------------------------------------------------------------------------------------------


def _build_transcript(build: _Build) -> str:
    store, fingerprint = build.store, build.fingerprint
    found = find_transcript(build.video)
    if found is not None:
        # subtitles the user has win over speech recognition, even over a partial one from an earlier run
        if store.part(fingerprint, "transcript").state != "missing":
            store.reset_part(fingerprint, "chapters")  # titled from the words that are being replaced
        store.reset_part(fingerprint, "transcript")
        store.add_cues(fingerprint, found.cues, until_s=build.duration_s, done=True, source=found.source,
                       model_id=found.origin)
        _clock(build, "transcript", 0.0).report(build.duration_s, f"from {found.origin}", force=True)
        return "done"
    if not build.has_audio:
        store.reset_part(fingerprint, "transcript")
        store.add_cues(fingerprint, [], until_s=build.duration_s, done=True, source="asr", model_id="")
        return "done"  # nothing said: an empty transcript is the whole truth
    speech = find_speech_model(build.asr_model, build.manager)
    if speech is None:
        notice = f"no subtitles beside or inside the video, and no speech model: run '{speech_pull_hint()}'"
        store.set_part(fingerprint, "transcript", "missing", notice=notice)
        return notice
    state = store.part(fingerprint, "transcript")
    start_s = state.done_until_s if state.state == "partial" and state.model_id == speech.model_id else 0.0
    if start_s == 0.0:
        store.reset_part(fingerprint, "transcript")
    from core_model.index.asr import WhisperTranscriber  # torch and transformers: only when speech is recognised

    clock = _clock(build, "transcript", start_s)
    clock.report(start_s, f"loading {speech.model_id}", force=True)
    transcriber = WhisperTranscriber.load(speech.folder, speech.model_id)
    for window in transcriber.transcribe(build.video, start_s, build.should_stop, build.duration_s):
        done = window.end_s >= build.duration_s - 1e-3
        store.add_cues(fingerprint, window.cues, until_s=window.end_s, done=done, source="asr",
                       model_id=speech.model_id)
        clock.report(window.end_s, f"speech recognised up to {window.end_s:.0f} s", force=done)
    if store.part(fingerprint, "transcript").done:
        return "done"
    if build.should_stop():
        return "stopped"
    # the audio track ended before the video: what it held is all there is to hear
    store.set_part(fingerprint, "transcript", "done", model_id=speech.model_id, source="asr",
                   done_until_s=build.duration_s)
    return "done"


def _outdated(build: _Build, part: str) -> bool:
    """A done part to build again: a transcript by speech recognition once the user put subtitles beside it."""
    if part != "transcript":
        return False
    state = build.store.part(build.fingerprint, part)
    return state.source == "asr" and find_sidecar(build.video) is not None


def _build_scenes(build: _Build) -> str:
    store, fingerprint = build.store, build.fingerprint
    state = store.part(fingerprint, "scenes")
    start_s = state.done_until_s if state.state == "partial" else 0.0
    if start_s == 0.0:
        store.reset_part(fingerprint, "scenes")
    clock = _clock(build, "scenes", start_s)
    end_s = start_s
    for found in scan_scenes(build.video, start_s, build.scene_settings, build.should_stop,
                             on_position=clock.report):
        # the keyframes' pictures with their scene, in one commit: the embeddings part reads them, not the video
        store.add_scenes(fingerprint, [found.scene], until_s=found.scene.end_s, done=False, pictures=found.pictures)
        end_s = found.scene.end_s
    if build.should_stop():
        return "stopped"
    store.set_part(fingerprint, "scenes", "done", done_until_s=max(end_s, start_s))
    clock.report(build.duration_s, force=True)
    return "done"


def _build_chapters(build: _Build) -> str:
    store, fingerprint = build.store, build.fingerprint
    waiting = [p for p in ("transcript", "scenes") if not store.part(fingerprint, p).done]
    if waiting:
        return f"waits for the {' and the '.join(waiting)}"
    model = _chapter_model(build)
    if model is None:
        from core_model.models.choice import pull_hint

        return f"no model on this machine to title chapters: {pull_hint(_device_info())}"
    state = store.part(fingerprint, "chapters")
    resume_s = state.done_until_s if state.state == "partial" else 0.0
    _clock(build, "chapters", resume_s).report(resume_s, f"loading {model}", force=True)
    try:
        backend = build.answering_backend(model)
    except VidiError as exc:
        return user_message(exc)
    spans = store.chapter_spans(fingerprint)
    if not (state.state == "partial" and state.model_id == backend.model_id and spans):
        # the grouping is saved before any title, so a resumed build titles the same chapters, only those left
        store.plan_chapters(fingerprint, group_scenes(store.scenes(fingerprint), build.duration_s),
                            model_id=backend.model_id)
        spans = store.chapter_spans(fingerprint)
    titled_until_s = max((end_s for _, end_s, titled in spans if titled), default=0.0)
    clock = _clock(build, "chapters", titled_until_s)
    cues, captions = store.cues(fingerprint), store.captions(fingerprint)
    for number, (start_s, end_s, titled) in enumerate(spans, start=1):
        if titled:
            continue
        if build.should_stop():
            return "stopped"
        chapter = title_chapter(number, start_s, end_s, cues, captions, backend)
        store.add_chapter_title(fingerprint, chapter, done=number == len(spans), model_id=backend.model_id)
        clock.report(end_s, f"chapter {number} of {len(spans)} titled", force=number == len(spans))
    if not store.part(fingerprint, "chapters").done:  # nothing was left to title
        store.set_part(fingerprint, "chapters", "done", model_id=backend.model_id, done_until_s=build.duration_s)
    return "done"


def _build_captions(build: _Build) -> str:
    store, fingerprint = build.store, build.fingerprint
    if not store.part(fingerprint, "scenes").done:
        return "waits for the scenes"
    model = _chapter_model(build)
    if model is None:
        from core_model.models.choice import pull_hint

        return f"no model on this machine to caption the scenes: {pull_hint(_device_info())}"
    state = store.part(fingerprint, "captions")
    clock = _clock(build, "captions", 0.0)
    clock.report(0.0, f"loading {model}", force=True)
    try:
        backend = build.answering_backend(model)
    except VidiError as exc:  # not downloaded, no memory: the other parts are built all the same
        return user_message(exc)
    if not backend.capabilities.video:
        return f"{backend.model_id} does not watch video: give --model a model that does to caption the scenes"
    resume = state.state == "partial" and state.model_id == backend.model_id
    start_s = state.done_until_s if resume else 0.0
    if not resume:
        store.reset_part(fingerprint, "captions")
        store.reset_part(fingerprint, "chapters")  # titled without these captions: title them again with them
    clock = _clock(build, "captions", start_s)
    windows = [w for w in caption_windows(store.scenes(fingerprint), build.duration_s) if w[0] >= start_s - 1e-3]
    with_sound = bool(backend.capabilities.audio and build.has_audio)
    for number, caption in enumerate(caption_video(build.video, windows, backend, with_sound=with_sound,
                                                   should_stop=build.should_stop), start=1):
        done = number == len(windows)
        store.add_captions(fingerprint, [caption] if caption.text else [], until_s=caption.end_s, done=done,
                           model_id=backend.model_id)
        clock.report(caption.end_s, f"captioned up to {format_clock_s(caption.end_s)}", force=done)
    if store.part(fingerprint, "captions").done:
        return "done"
    if build.should_stop():
        return "stopped"
    store.set_part(fingerprint, "captions", "done", model_id=backend.model_id, done_until_s=build.duration_s)
    return "done"  # nothing (more) to caption


def _build_embeddings(build: _Build) -> str:
    store, fingerprint = build.store, build.fingerprint
    if not store.part(fingerprint, "scenes").done:
        return "waits for the scenes"
    model = find_embedding_model(build.embed_model, build.manager)
    if model is None:
        return f"no image embedding model on this machine: run '{keyframes.PULL_HINT}'"
    state = store.part(fingerprint, "embeddings")
    resume = state.state == "partial" and state.model_id == model.model_id
    start_s = state.done_until_s if resume else 0.0
    if not resume:
        store.reset_part(fingerprint, "embeddings")
    from core_model.index.embeddings import SiglipEmbedder  # torch and transformers: only when frames are embedded

    clock = _clock(build, "embeddings", start_s)
    clock.report(start_s, f"loading {model.model_id}", force=True)
    embedder = SiglipEmbedder(model.folder)
    try:
        embedder.load()
    except VidiError as exc:  # a damaged or foreign folder: the other parts are built all the same
        return user_message(exc)
    scenes = [s for s in store.scenes(fingerprint) if s.start_s >= start_s - 1e-3]
    try:
        stored = keyframes.stored_pictures(store, fingerprint)
        for until_s, times_s, vectors in keyframes.embed_keyframes(build.video, scenes, embedder, build.duration_s,
                                                                   build.should_stop, pictures_of=stored):
            done = bool(scenes) and until_s >= scenes[-1].end_s
            store.add_keyframe_vectors(fingerprint, times_s, vectors, until_s=until_s, done=done,
                                       model_id=model.model_id, source=str(model.folder))
            clock.report(until_s, f"keyframes embedded up to {format_clock_s(until_s)}", force=done)
    finally:
        embedder.unload()
    if store.part(fingerprint, "embeddings").done:
        return "done"
    if build.should_stop():
        return "stopped"
    store.set_part(fingerprint, "embeddings", "done", model_id=model.model_id, source=str(model.folder),
                   done_until_s=build.duration_s)
    return "done"


def _chapter_model(build: _Build) -> str | None:
    if build.chapter_model:
        return build.chapter_model
    from core_model.models.choice import model_on_disk
    from core_model.models.manager import ModelManager

    return model_on_disk(build.manager if build.manager is not None else ModelManager(), _device_info())


def _device_info():
    from core_model.device import detect_device

    try:
        return detect_device()
    except Exception:  # noqa: BLE001  (the order of preference is a nicety: never fail a build over it)
        return None


def _clock(build: _Build, part: str, start_s: float) -> PartClock:
    return PartClock(part, build.part_number, build.part_count, start_s, build.duration_s, build.progress)


_BUILDERS: dict[str, Callable[[_Build], str]] = {
    "transcript": _build_transcript, "scenes": _build_scenes, "captions": _build_captions,
    "embeddings": _build_embeddings, "chapters": _build_chapters,
}
