"""probe(path) -> MediaInfo, and the plain-words errors for unreadable files."""

import pytest

from core_model.media import MediaError, MediaInfo, probe


def test_probe_video_with_audio(video_with_audio):
    info = probe(video_with_audio)
    assert isinstance(info, MediaInfo)
    assert info.fps == pytest.approx(30.0)
    assert info.num_frames == 150
    assert info.duration_s == pytest.approx(5.0, abs=0.05)
    assert (info.width, info.height, info.rotation) == (320, 240, 0)
    assert info.has_audio and info.video_codec == "h264" and info.audio_codec == "aac"


def test_probe_video_without_audio(video_no_audio):
    info = probe(video_no_audio)
    assert not info.has_audio and info.audio_codec is None
    assert info.num_frames == 100 and info.fps == pytest.approx(25.0)
    assert info.duration_s == pytest.approx(4.0, abs=1e-3)


def test_probe_reports_displayed_size_of_rotated_video(video_rotated):
    info = probe(video_rotated)
    assert info.rotation == 90
    assert (info.width, info.height) == (240, 320)  # stored 320x240, shown portrait


def test_probe_webm_estimates_frame_count(video_webm):
    info = probe(video_webm)
    assert (info.video_codec, info.audio_codec) == ("vp9", "opus")
    assert info.num_frames == pytest.approx(90, abs=1)


def test_probe_av1_names_the_format_not_the_decoder(video_av1):
    assert probe(video_av1).video_codec == "av1"


def test_probe_variable_frame_rate_gives_average(video_vfr):
    from tests.fixtures.media import VFR_FRAME_TIMES_S

    info = probe(video_vfr)
    assert info.num_frames == len(VFR_FRAME_TIMES_S)
    assert info.fps == pytest.approx(len(VFR_FRAME_TIMES_S) / info.duration_s, rel=0.05)


def test_probe_one_frame_video(video_one_frame):
    info = probe(video_one_frame)
    assert info.num_frames == 1 and info.duration_s > 0


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("empty_video", "the file is empty"),
        ("truncated_video", "file is truncated"),
        ("text_as_video", "not a video file"),
        ("audio_only", "no video stream"),
        ("image_png", "not a video file"),
    ],
)
def test_unreadable_files_give_media_error(request, fixture, message):
    with pytest.raises(MediaError, match=message):
        probe(request.getfixturevalue(fixture))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(MediaError, match="file not found"):
        probe(tmp_path / "nowhere.mp4")
    with pytest.raises(MediaError, match="is a folder"):
        probe(tmp_path)
