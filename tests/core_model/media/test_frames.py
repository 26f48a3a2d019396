"""sample_frames: frame-accurate, uniformly spread, rotation honoured, decord first and PyAV as fallback."""

import math
import shutil
import subprocess

import numpy as np
import pytest

from core_model.media import MediaError, probe, sample_frames, sample_times_s
from core_model.media import pyav_frames as pyav_module
from tests.fixtures.media import VFR_FRAME_TIMES_S, read_frame_number

ENGINES = ["decord", "pyav"]


def _shown_index(frame_times_s, time_s):
    """Index of the frame shown at ``time_s``: the last one starting at or before it."""
    return max(0, int(np.searchsorted(frame_times_s, time_s + 1e-9, side="right")) - 1)


def _numbers(frames):
    return [read_frame_number(frame) for frame in frames]


def test_sample_times_are_centres_of_equal_sub_intervals():
    assert sample_times_s(1.0, 3.0, 4) == [1.25, 1.75, 2.25, 2.75]
    with pytest.raises(MediaError, match="at least 1"):
        sample_times_s(0.0, 1.0, 0)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("start_s", "end_s", "num_frames"), [(1.0, 4.0, 8), (None, None, 16), (0.0, 0.5, 32)])
def test_frames_are_the_ones_shown_at_the_sample_times(video_with_audio, engine, start_s, end_s, num_frames):
    frames, timestamps = sample_frames(video_with_audio, start_s, end_s, num_frames, engine=engine)
    assert frames.dtype == np.uint8 and frames.shape == (num_frames, 240, 320, 3)
    frame_times = [k / 30 for k in range(150)]
    start, end = (0.0, probe(video_with_audio).duration_s) if start_s is None else (start_s, end_s)
    expected = [_shown_index(frame_times, t) for t in sample_times_s(start, end, num_frames)]
    assert _numbers(frames) == expected
    assert timestamps == pytest.approx([k / 30 for k in expected], abs=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_time_exactly_on_a_frame_start_gives_that_frame(video_no_audio, engine):
    # one frame in [2.0, 2.08): its centre 2.04 s lies in frame 51 (25 fps: 2.04 = 51 / 25)
    frames, timestamps = sample_frames(video_no_audio, 2.0, 2.08, 1, engine=engine)
    assert _numbers(frames) == [51] and timestamps == pytest.approx([2.04])


def test_decord_and_pyav_give_identical_pixels(video_with_audio):
    by_decord, times_decord = sample_frames(video_with_audio, 0.3, 4.7, 6, engine="decord")
    by_pyav, times_pyav = sample_frames(video_with_audio, 0.3, 4.7, 6, engine="pyav")
    np.testing.assert_array_equal(by_decord, by_pyav)
    assert times_decord == pytest.approx(times_pyav, abs=1e-6)


def test_pyav_reader_gives_same_frames_when_it_seeks_between_targets(video_with_audio, monkeypatch):
    reading, _ = sample_frames(video_with_audio, None, None, 10, engine="pyav")
    monkeypatch.setattr(pyav_module, "_SEEK_GAP_S", 0.2)  # seek for every target instead of reading forward
    seeking, _ = sample_frames(video_with_audio, None, None, 10, engine="pyav")
    np.testing.assert_array_equal(reading, seeking)


@pytest.mark.parametrize("engine", ENGINES)
def test_variable_frame_rate(video_vfr, engine):
    info = probe(video_vfr)
    times = sample_times_s(0.0, info.duration_s, 13)
    frames, timestamps = sample_frames(video_vfr, 0.0, info.duration_s, 13, engine=engine)
    expected = [_shown_index(VFR_FRAME_TIMES_S, t) for t in times]
    assert _numbers(frames) == expected
    assert timestamps == pytest.approx([VFR_FRAME_TIMES_S[k] for k in expected], abs=1e-6)
    assert expected != [int(t * info.fps) for t in times]  # a constant-rate guess would pick other frames


@pytest.mark.parametrize("engine", ENGINES)
def test_rotation_is_honoured(video_rotated, engine):
    frames, timestamps = sample_frames(video_rotated, 0.5, 1.5, 3, engine=engine)
    assert frames.shape == (3, 320, 240, 3)  # portrait, as displayed
    stored = np.rot90(frames, k=-1, axes=(1, 2))  # turn back clockwise to the stored picture
    assert _numbers(stored) == [round(t * 30) for t in timestamps] == [20, 30, 40]
    corner = frames[0, -40:, -40:]  # stored bottom-left, turned a quarter counter-clockwise: bottom-right
    assert corner[..., 0].mean() > 150 and corner[..., 1].mean() < 80


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg binary as an outside reference")
@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_matches_ffmpeg_display(make_video, rotation):
    video = make_video(f"rotated_{rotation}.mp4", num_frames=40, fps=30, rotation_ccw=rotation)
    shown = subprocess.run(  # the ffmpeg command line turns frames by the display matrix itself
        ["ffmpeg", "-v", "error", "-i", str(video), "-vf", "select=eq(n\\,30)", "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout
    info = probe(video)
    reference = np.frombuffer(shown, np.uint8).reshape(info.height, info.width, 3)
    for engine in ENGINES:
        frames, _ = sample_frames(video, 1.0, 1.0 + 1 / 30, 1, engine=engine)
        assert frames.shape[1:] == reference.shape
        assert np.abs(frames[0].astype(int) - reference).mean() < 1.0, engine


def test_av1_falls_back_to_pyav(video_av1):
    with pytest.raises(MediaError, match="decord cannot open"):
        sample_frames(video_av1, engine="decord")
    frames, timestamps = sample_frames(video_av1, 0.0, 2.0, 5)
    assert _numbers(frames) == [round(t * 30) for t in timestamps] == [6, 18, 30, 42, 54]


@pytest.mark.parametrize("engine", ENGINES)
def test_webm_vp9(video_webm, engine):
    frames, timestamps = sample_frames(video_webm, 1.0, 2.0, 4, engine=engine)
    assert _numbers(frames) == [round(t * 30) for t in timestamps] == [33, 41, 48, 56]


@pytest.mark.parametrize("engine", ENGINES)
def test_one_frame_video_repeats_its_frame(video_one_frame, engine):
    frames, timestamps = sample_frames(video_one_frame, None, None, 4, engine=engine)
    assert frames.shape == (4, 240, 320, 3) and _numbers(frames) == [0, 0, 0, 0] and timestamps == [0.0] * 4


def test_more_frames_than_the_segment_holds_repeat_frames(video_with_audio):
    frames, timestamps = sample_frames(video_with_audio, 1.0, 1.1, 8)
    assert _numbers(frames) == [30, 30, 30, 31, 31, 32, 32, 32]  # frame 31 starts at 1.0333 s, 32 at 1.0667 s
    assert timestamps == sorted(timestamps)


@pytest.mark.parametrize(
    ("start_s", "end_s", "message"),
    [
        (12.0, 15.0, r"segment 12\.0-15\.0 s is outside the video \(length 5\.0 s\)"),
        (3.0, 9.0, "outside the video"),
        (3.0, 3.0, "start must be before end"),
        (4.0, 2.0, "start must be before end"),
        (-1.0, 2.0, "must not be negative"),
        (float("nan"), 2.0, "finite"),
    ],
)
def test_bad_segments(video_with_audio, start_s, end_s, message):
    with pytest.raises(MediaError, match=message):
        sample_frames(video_with_audio, start_s, end_s, 4)


def test_end_a_hair_past_the_end_is_the_end(video_with_audio):
    duration_s = probe(video_with_audio).duration_s
    frames, _ = sample_frames(video_with_audio, duration_s - 0.1, duration_s + 0.01, 1)
    assert _numbers(frames) == [148]


@pytest.mark.parametrize(
    ("fixture", "message"),
    [("empty_video", "empty"), ("truncated_video", "truncated"), ("text_as_video", "not a video file"),
     ("audio_only", "no video stream")],
)
def test_unreadable_files(request, fixture, message):
    with pytest.raises(MediaError, match=message):
        sample_frames(request.getfixturevalue(fixture), None, None, 4)


def test_file_cut_after_its_index_reports_truncation(media_dir, make_video):
    """A faststart-style file (index first) cut short: the index promises frames the data no longer holds."""
    source = make_video("long_for_cut.mp4", num_frames=90, fps=30)
    fixed = media_dir / "faststart.mp4"
    import av

    with av.open(str(source)) as inp, av.open(str(fixed), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    data = fixed.read_bytes()
    cut = media_dir / "faststart_cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    frames, _ = sample_frames(cut, 0.0, 0.5, 2, engine="pyav")  # the start is still there
    assert _numbers(frames) == [round(0.125 * 30 - 0.5), 11]
    with pytest.raises(MediaError, match="truncated"):
        sample_frames(cut, 2.5, 2.9, 2, engine="pyav")


def test_sample_segment_gives_frames_and_sound_of_the_same_span(video_with_audio, video_no_audio):
    from core_model.media import load_audio, sample_segment

    sample = sample_segment(video_with_audio, 1.0, 3.0, num_frames=4)
    assert _numbers(sample.frames) == [round(t * 30) for t in sample.timestamps_s] == [37, 52, 67, 82]
    np.testing.assert_array_equal(sample.audio, load_audio(video_with_audio, 1.0, 3.0))
    assert (sample.start_s, sample.end_s, sample.sample_rate) == (1.0, 3.0, 16000)
    assert sample_segment(video_with_audio, 1.0, 3.0, 2, with_audio=False).audio is None
    whole = sample_segment(video_no_audio, None, None, 2)
    assert whole.audio is None and whole.end_s == pytest.approx(4.0, abs=1e-3)


def test_parallel_readers_give_the_same_frames_as_one(video_with_audio):
    times_s = sample_times_s(0.2, 4.9, 9)
    one, one_times = pyav_module.pyav_frames(video_with_audio, times_s, workers=1)
    three, three_times = pyav_module.pyav_frames(video_with_audio, times_s, workers=3)
    np.testing.assert_array_equal(one, three)
    assert one_times == three_times


def test_auto_falls_back_to_the_other_engine_when_one_cannot_decode(video_with_audio, monkeypatch):
    from core_model.media import frames as frames_module

    expected, _ = sample_frames(video_with_audio, 1.0, 2.0, 3, engine="decord")

    def broken(*args, **kwargs):
        raise MediaError("file is truncated or damaged: simulated")

    monkeypatch.setattr(frames_module, "AUTO_ENGINE_ORDER", ("pyav", "decord"))
    monkeypatch.setattr(frames_module, "pyav_frames", broken)
    frames, _ = sample_frames(video_with_audio, 1.0, 2.0, 3)
    np.testing.assert_array_equal(frames, expected)
    monkeypatch.setattr(frames_module, "AUTO_ENGINE_ORDER", ("pyav",))
    with pytest.raises(MediaError, match="simulated"):
        sample_frames(video_with_audio, 1.0, 2.0, 3)


def test_inaccurate_mode_gives_the_keyframe_before_each_time(video_with_audio):
    frames, timestamps = sample_frames(video_with_audio, None, None, 6, accurate=False)  # keyframe every 30 frames
    times = sample_times_s(0.0, probe(video_with_audio).duration_s, 6)
    assert _numbers(frames) == [30 * int(t * 30 // 30) for t in times] == [0, 30, 60, 60, 90, 120]
    assert timestamps == pytest.approx([n / 30 for n in _numbers(frames)])


@pytest.mark.parametrize("suffix", ["mp4", "mkv"])
def test_b_frames_are_frame_accurate(make_video, suffix):
    """Frames decoded out of order (B-frames, pyramid) in MP4 and Matroska: still the frame shown at each time."""
    video = make_video(f"bframes.{suffix}", num_frames=90, fps=30, gop=45,
                       codec_options={"preset": "veryfast", "crf": "18", "x264-params": "bframes=3:b-pyramid=normal"})
    import av

    with av.open(str(video)) as container:
        assert any(p.pts != p.dts for p in container.demux(video=0) if p.dts is not None)  # really reordered
    times = sample_times_s(0.1, 2.9, 11)
    for engine in ENGINES:
        frames, timestamps = sample_frames(video, 0.1, 2.9, 11, engine=engine)
        expected = [_shown_index([k / 30 for k in range(90)], t) for t in times]
        assert _numbers(frames) == expected, engine
        assert timestamps == pytest.approx([k / 30 for k in expected], abs=1e-3)


@pytest.mark.parametrize("engine", ENGINES)
def test_times_count_from_the_start_of_a_file_whose_clock_starts_late(make_video, engine):
    video = make_video("late_clock.mkv", frame_times_s=[0.5 + k / 30 for k in range(60)], fps=30, gop=30)
    import av

    with av.open(str(video)) as container:
        assert container.start_time / av.time_base == pytest.approx(0.5, abs=0.01)  # the file's clock starts at 0.5 s
    frames, timestamps = sample_frames(video, 0.0, 1.0, 4, engine=engine)
    assert _numbers(frames) == [3, 11, 18, 26]  # frames shown at 0.125, 0.375, 0.625 and 0.875 s of the timeline
    assert timestamps == pytest.approx([n / 30 for n in (3, 11, 18, 26)], abs=1e-3)
