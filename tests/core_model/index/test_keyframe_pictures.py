"""Keyframe pictures taken during the scene pass: each of its own scene and near its keyframe time, a bounded
candidate buffer whatever the scene's length, stored as JPEG with their scene (one commit, so a killed build stays
consistent), read by the embeddings part instead of decoding the video, with a fallback to decoding for an index
built before they were stored (a v6 database migrates)."""

import signal
import sqlite3

import cv2
import numpy as np
import pytest

import core_model.media
from core_model.index import keyframes
from core_model.index import keyframe_pictures
from core_model.index.keyframe_pictures import CandidateBuffer, decode_jpeg
from core_model.index.runner import build_index
from core_model.index.scenes import detect_scenes, scan_scenes
from core_model.media import FrameStream, sample_frames
from core_model.models.manager import ModelManager
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_records import Scene
from core_model.store.index_store import IndexStore
from core_model.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.core_model.index.test_keyframe_stream import (  # noqa: F401  (the fixture is used by name)
    FPS,
    SHOT_FRAMES,
    _RecordingEmbedder,
    _scene_colour,
    coloured_scenes,
)
from tests.core_model.index.test_runner import _build_and_die
from tests.fixtures.tiny_siglip import tiny_siglip_dir  # noqa: F401


@pytest.fixture
def index(tmp_path):
    with IndexStore(tmp_path / "vidi.sqlite3") as opened:
        yield opened


@pytest.fixture
def no_models(tmp_path):
    return ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hub")


class _NoDecoding:
    """Stands for core_model.media.FrameStream: fails the test if the embeddings part opens the video."""

    opened: list = []

    def __init__(self, path, **_options):
        _NoDecoding.opened.append(path)
        raise AssertionError(f"the video was decoded again: {path}")


# ----------------------------------------------------------------------------------------------------------------
# The candidate buffer
# ----------------------------------------------------------------------------------------------------------------


def test_a_long_scene_keeps_at_most_the_cap_of_candidates_evenly_spread():
    buffer = CandidateBuffer(cap=64)
    converted = []
    sizes = []
    for number in range(4 * 3600):  # one hour of one scene at 4 samples a second
        time_s = number / 4
        buffer.offer(time_s, lambda: converted.append(time_s) or np.zeros((2, 2, 3), np.uint8))
        sizes.append(len(buffer))
    assert max(sizes) <= 64 and len(buffer) >= 32  # flat memory, and never thinned below half the cap
    gaps = np.diff(buffer.times_s)
    assert gaps.min() == gaps.max() == buffer.stride / 4  # evenly spread over the scene from its start
    assert buffer.times_s[0] == 0.0 and buffer.times_s[-1] >= 3600 - buffer.stride / 4
    assert len(converted) < 2 * 64 * np.log2(4 * 3600)  # only kept samples are converted, not all 14 400
    picked = buffer.pictures([1800.0])[0]
    assert abs(picked.shown_s - 1800.0) <= buffer.stride / 8 and picked.time_s == 1800.0
    buffer.clear()
    assert len(buffer) == 0 and buffer.stride == 1


def test_a_short_scene_keeps_every_sample_and_picks_the_nearest():
    buffer = CandidateBuffer(cap=64)
    for number in range(20):
        buffer.offer(number * 0.25, lambda n=number: np.full((4, 6, 3), n * 10, np.uint8))
    assert len(buffer) == 20 and buffer.stride == 1
    found = buffer.pictures([2.4, 0.0, 9.0])
    assert [p.shown_s for p in found] == [2.5, 0.0, 4.75]  # the nearest kept sample (the last for a late time)
    middle = decode_jpeg(found[0].jpeg)
    assert middle.shape == (4, 6, 3) and abs(int(middle.mean()) - 100) <= 2
    turned = decode_jpeg(buffer.pictures([2.4], rotation=90)[0].jpeg)
    assert turned.shape == (6, 4, 3)  # as displayed


def test_a_busy_picture_is_encoded_at_the_lower_quality_to_keep_the_index_small():
    noise = np.random.default_rng(0).integers(0, 256, (144, 256, 3), dtype=np.uint8)
    flat = np.full((144, 256, 3), 120, np.uint8)
    assert len(keyframe_pictures.encode_jpeg(flat)) < keyframe_pictures.BUSY_PICTURE_BYTES
    busy = keyframe_pictures.encode_jpeg(noise)
    at_full_quality = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, keyframe_pictures.JPEG_QUALITY])[1]
    assert len(at_full_quality) > keyframe_pictures.BUSY_PICTURE_BYTES and len(busy) < 0.8 * len(at_full_quality)
    assert decode_jpeg(busy).shape == (144, 256, 3)
    assert decode_jpeg(b"not a picture") is None


# ----------------------------------------------------------------------------------------------------------------
# The scene pass
# ----------------------------------------------------------------------------------------------------------------


def test_each_keyframe_picture_is_of_its_own_scene_and_near_its_time(coloured_scenes):
    found = list(scan_scenes(coloured_scenes, settings=_two_second_keyframes()))
    cuts_s = _cuts_s()
    # every cut (found at the next 4-fps sample) but the one after the 12-frame shot (closer than min_scene_s)
    assert [f.scene.start_s for f in found] == pytest.approx(cuts_s[:3] + cuts_s[4:-1], abs=0.3)
    assert [f.scene for f in found] == list(detect_scenes(coloured_scenes, settings=_two_second_keyframes()))
    assert sum(len(f.pictures) for f in found) > len(found)  # long shots have several keyframes, each a picture
    for item in found:
        assert [p.time_s for p in item.pictures] == list(item.scene.keyframes_s)  # the exact centres kept
        for picture in item.pictures:
            assert abs(picture.shown_s - picture.time_s) <= 0.125 + 1 / FPS  # half a 4-fps sample gap
            assert item.scene.start_s <= picture.shown_s < item.scene.end_s
            rgb = decode_jpeg(picture.jpeg)
            assert rgb.shape == (192, 256, 3)  # 320x240 at KEYFRAME_SIDE_PX on the long side
            assert _scene_colour(rgb) == _shot_at(picture.shown_s) == _shot_at(picture.time_s)
            assert len(picture.jpeg) < 20_000


def _cuts_s() -> list[float]:
    return (np.cumsum((0, *SHOT_FRAMES)) / FPS).tolist()


def _shot_at(time_s: float) -> int:
    return int(np.searchsorted(_cuts_s(), time_s, side="right")) - 1


def test_a_capped_buffer_still_gives_each_long_scene_its_own_pictures(long_scene_video):
    found = list(scan_scenes(long_scene_video, settings=_two_second_keyframes(), candidate_cap=4))
    assert [f.scene.start_s for f in found] == pytest.approx([0, 10, 20, 30, 40, 50, 60], abs=0.3)
    for item in found:
        assert len(item.pictures) == len(item.scene.keyframes_s) >= 5
        for picture in item.pictures:
            # 4 candidates over a 10-s scene (40 samples): within a quarter of the scene of the keyframe's time
            assert item.scene.start_s <= picture.shown_s < item.scene.end_s
            assert abs(picture.shown_s - picture.time_s) <= 10 / 4 + 0.25
            _assert_is_the_frame_shown_at(long_scene_video, picture)


def test_a_picture_is_exactly_the_frame_the_embeddings_part_would_decode(coloured_scenes, video_rotated,
                                                                        monkeypatch):
    before_jpeg = {}  # JPEG bytes -> the picture they were encoded from
    real_encode = keyframe_pictures.encode_jpeg

    def encode_and_keep(rgb):
        jpeg = real_encode(rgb)
        before_jpeg[jpeg] = rgb.copy()
        return jpeg

    monkeypatch.setattr(keyframe_pictures, "encode_jpeg", encode_and_keep)
    for video in (coloured_scenes, video_rotated):
        for item in scan_scenes(video):
            for picture in item.pictures:
                with FrameStream(video, max_side_px=keyframe_pictures.KEYFRAME_SIDE_PX) as stream:
                    expected, shown_s = stream.frames(picture.shown_s, picture.shown_s + 0.001, 1)
                assert shown_s == pytest.approx([picture.shown_s], abs=1e-3)
                assert np.array_equal(before_jpeg[picture.jpeg], expected[0])  # same pixels, rotation applied
    assert any(rgb.shape[0] > rgb.shape[1] for rgb in before_jpeg.values())  # the rotated one came out portrait


def _two_second_keyframes():
    from core_model.index.scenes import SceneSettings

    return SceneSettings(keyframe_every_s=2.0)


def _assert_is_the_frame_shown_at(video, picture):
    expected, _ = sample_frames(video, picture.shown_s, picture.shown_s + 0.01, 1, max_side_px=256)
    stored = decode_jpeg(picture.jpeg)
    assert stored.shape == expected[0].shape
    assert np.abs(stored.astype(int) - expected[0].astype(int)).mean() < 12  # the same picture, JPEG's loss aside


# ----------------------------------------------------------------------------------------------------------------
# Stored with the scenes, read by the embeddings part
# ----------------------------------------------------------------------------------------------------------------


def test_scenes_store_one_picture_per_keyframe_and_a_reset_forgets_them(long_scene_video, index, no_models):
    report = build_index(long_scene_video, parts=["scenes"], store=index, manager=no_models)
    fingerprint = report.fingerprint
    scenes = index.scenes(fingerprint)
    stored = index.keyframe_pictures(fingerprint, 0.0, 70.0)
    assert [p.time_s for p in stored] == [t for s in scenes for t in s.keyframes_s]
    for picture in stored:
        _assert_is_the_frame_shown_at(long_scene_video, picture)
    index.reset_part(fingerprint, "scenes")
    assert index.keyframe_pictures(fingerprint, 0.0, 70.0) == []


def test_embeddings_read_the_stored_pictures_without_the_video(tmp_path, coloured_scenes, index):
    video = tmp_path / "colours.mp4"
    video.write_bytes(coloured_scenes.read_bytes())
    fingerprint = fingerprint_file(video)
    for item in scan_scenes(video, settings=_two_second_keyframes()):
        index.add_scenes(fingerprint, [item.scene], until_s=item.scene.end_s, done=False, pictures=item.pictures)
    video.rename(tmp_path / "moved away.mp4")  # no video to decode any more
    scenes = index.scenes(fingerprint)
    embedder = _RecordingEmbedder()
    batches = list(keyframes.embed_keyframes(video, scenes, embedder, scenes[-1].end_s, batch_keyframes=4,
                                             pictures_of=keyframes.stored_pictures(index, fingerprint)))
    assert [t for _, times_s, _ in batches for t in times_s] == [t for s in scenes for t in s.keyframes_s]
    colours = [int(v.argmax()) for _, _, vectors in batches for v in vectors]
    assert colours == [_shot_at(t) for s in scenes for t in s.keyframes_s]  # each the picture of its time's shot
    assert batches[-1][0] == scenes[-1].end_s


def test_the_embeddings_part_decodes_nothing_when_pictures_are_stored(long_scene_video, index, no_models,
                                                                      tiny_siglip_dir, monkeypatch):  # noqa: F811
    build_index(long_scene_video, parts=["scenes"], store=index, manager=no_models)
    _NoDecoding.opened = []
    monkeypatch.setattr(core_model.media, "FrameStream", _NoDecoding)
    report = build_index(long_scene_video, parts=["embeddings"], store=index, manager=no_models,
                         embed_model=str(tiny_siglip_dir))
    assert report.built == ["embeddings"], report.skipped
    assert _NoDecoding.opened == []
    assert len(index.keyframe_times(report.fingerprint)) == 7


def test_scenes_without_pictures_are_decoded_from_the_video(long_scene_video, index, no_models, tiny_siglip_dir,
                                                            monkeypatch):  # noqa: F811
    fingerprint = fingerprint_file(long_scene_video)
    # as an index built before v7 holds them: scenes, no pictures
    for scene in detect_scenes(long_scene_video):
        index.add_scenes(fingerprint, [scene], until_s=scene.end_s, done=False)
    index.set_part(fingerprint, "scenes", "done", done_until_s=70.0)
    opened = []
    real = core_model.media.FrameStream
    monkeypatch.setattr(core_model.media, "FrameStream", lambda path, **kw: opened.append(path) or real(path, **kw))
    report = build_index(long_scene_video, parts=["embeddings"], store=index, manager=no_models,
                         embed_model=str(tiny_siglip_dir))
    assert report.built == ["embeddings"], report.skipped
    assert opened == [long_scene_video]  # one pass over the video, as before pictures were stored
    assert len(index.keyframe_times(fingerprint)) == 7


def test_a_version_6_database_migrates_and_its_scenes_fall_back_to_decoding(tmp_path, long_scene_video):
    path = tmp_path / "vidi.sqlite3"
    with sqlite3.connect(path) as raw:
        for script in MIGRATIONS[:6]:
            raw.executescript(script)
        raw.execute("PRAGMA user_version = 6")
        raw.execute("INSERT INTO scenes (fingerprint, start_s, end_s, keyframes_json) VALUES ('fp', 0, 10, '[5.0]')")
    with IndexStore(path) as index:
        assert index._query_one("PRAGMA user_version")[0] == SCHEMA_VERSION == 7
        assert index.scenes("fp") == [Scene(0.0, 10.0, (5.0,))]
        assert keyframes.stored_pictures(index, "fp")(index.scenes("fp")[0]) is None  # decoded instead
        frames = list(keyframes.embed_keyframes(long_scene_video, index.scenes("fp"), _RecordingEmbedder(), 70.0,
                                                pictures_of=keyframes.stored_pictures(index, "fp")))
        assert frames[0][1] == [5.0]


def test_a_killed_scene_pass_keeps_pictures_only_with_their_scenes_and_resumes(tmp_path, long_scene_video,
                                                                               no_models):
    db = tmp_path / "vidi.sqlite3"
    child = _build_and_die(long_scene_video, db, "scenes", kill_at_s=35)
    assert child.returncode == -signal.SIGKILL, child.stderr
    fingerprint = fingerprint_file(long_scene_video)
    with IndexStore(db) as index:
        state = index.part(fingerprint, "scenes")
        assert state.state == "partial" and 0 < state.done_until_s < 70
        kept = [p.time_s for p in index.keyframe_pictures(fingerprint, 0.0, 70.0)]
        assert kept == [t for s in index.scenes(fingerprint) for t in s.keyframes_s]  # none without its scene
        build_index(long_scene_video, parts=["scenes"], store=index, manager=no_models)
        scenes = index.scenes(fingerprint)
        stored = index.keyframe_pictures(fingerprint, 0.0, 70.0)
    assert [s.start_s for s in scenes] == pytest.approx([0, 10, 20, 30, 40, 50, 60], abs=0.3)
    assert [p.time_s for p in stored] == [t for s in scenes for t in s.keyframes_s]  # nothing lost, nothing twice
    for picture in stored:
        _assert_is_the_frame_shown_at(long_scene_video, picture)
