"""Shot boundaries at known frames, keyframes, resuming mid-video, stopping."""

import pytest

from core_model.errors import MediaError
from core_model.index.scenes import SceneSettings, content_change, detect_scenes, keyframe_times
from tests.fixtures.index_media import SCENE_CUT_FRAMES

FPS = 25


def test_cuts_are_found_at_the_known_frames_and_nowhere_else(scene_video):
    scenes = list(detect_scenes(scene_video))
    sample_gap_s = 1 / SceneSettings().sample_fps
    cuts_s = [scene.start_s for scene in scenes[1:]]
    assert len(cuts_s) == len(SCENE_CUT_FRAMES)
    for found_s, frame in zip(cuts_s, SCENE_CUT_FRAMES):
        assert frame / FPS <= found_s < frame / FPS + sample_gap_s  # the first compared frame after the cut
    assert scenes[0].start_s == 0.0 and scenes[-1].end_s == pytest.approx(12.0, abs=0.05)
    assert all(a.end_s == b.start_s for a, b in zip(scenes, scenes[1:]))
    for scene in scenes:
        assert len(scene.keyframes_s) == 1 and scene.start_s < scene.keyframes_s[0] < scene.end_s


def test_every_frame_compared_finds_the_exact_frames(scene_video):
    settings = SceneSettings(sample_fps=FPS, skip_non_reference=False)
    cuts_s = [
        scene.start_s for scene in list(detect_scenes(scene_video, settings=settings))[1:]]
    assert cuts_s == [pytest.approx(frame / FPS, abs=1e-3) for frame in SCENE_CUT_FRAMES]


def test_long_scenes_get_a_keyframe_per_share():
    assert keyframe_times(0.0, 10.0, 20.0) == (5.0,)
    assert keyframe_times(10.0, 70.0, 20.0) == (20.0, 40.0, 60.0)
    assert len(keyframe_times(0.0, 41.0, 20.0)) == 3


def test_resuming_from_a_time_finds_the_same_later_cuts(scene_video):
    whole = list(detect_scenes(scene_video))
    resumed = list(detect_scenes(scene_video, start_s=whole[1].end_s))
    assert [s.start_s for s in resumed] == [s.start_s for s in whole[2:]]


def test_stopping_yields_no_open_scene_and_reports_positions(scene_video):
    positions = []
    scenes = list(detect_scenes(scene_video, should_stop=lambda: len(positions) >= 14, on_position=positions.append))
    assert positions and positions == sorted(positions)
    assert all(scene.end_s <= positions[-1] + 0.3 for scene in scenes)  # nothing after where it stopped
    assert len(scenes) == 1  # the cut at 3 s closed the first scene; the second was open when it stopped


def test_identical_frames_score_zero():
    import numpy as np

    frame = np.full((4, 4, 3), 100, np.uint8)
    assert content_change(frame, frame) == 0.0
    other = frame.copy()
    other[..., 2] = 190
    assert content_change(frame, other) == pytest.approx(30.0)


def test_a_file_without_video_is_one_clear_error(audio_only):
    with pytest.raises(MediaError, match="no video stream"):
        list(detect_scenes(audio_only))
