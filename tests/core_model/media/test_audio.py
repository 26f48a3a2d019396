"""load_audio: a segment's sound as 16 kHz mono float32, decoding only that segment; None without a track."""

import numpy as np
import pytest

from core_model.media import MediaError, load_audio, load_audio_native
from tests.fixtures.media import tone_hz


def _pitch_hz(waveform: np.ndarray, sample_rate: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(waveform * np.hanning(waveform.size)))
    return float(np.fft.rfftfreq(waveform.size, 1 / sample_rate)[spectrum.argmax()])


def test_segment_has_the_right_length_rate_and_pitch(video_with_audio):
    audio = load_audio(video_with_audio, 2.2, 2.8)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size == round(0.6 * 16000)
    assert _pitch_hz(audio) == pytest.approx(tone_hz(2.5), abs=5)  # 700 Hz in the third second
    assert 0.3 < np.abs(audio).max() <= 0.55  # the tone's amplitude is 0.5


def test_segment_equals_the_same_span_of_the_whole_track(video_with_audio):
    whole = load_audio(video_with_audio)
    segment = load_audio(video_with_audio, 3.25, 4.5)
    begin = round(3.25 * 16000)
    np.testing.assert_allclose(segment, whole[begin : begin + segment.size], atol=2e-3)


def test_whole_file_at_another_rate(video_with_audio):
    audio = load_audio(video_with_audio, None, None, sample_rate=8000)
    assert audio.size == pytest.approx(5.0 * 8000, abs=0.03 * 8000)
    assert _pitch_hz(audio[:8000], 8000) == pytest.approx(300, abs=5)


def test_native_whole_track_keeps_every_decoded_sample(video_with_audio):
    waveform, rate = load_audio_native(video_with_audio)
    assert rate == 48000 and waveform.shape[0] == 2 and waveform.dtype == np.float32
    assert waveform.shape[1] >= 5.0 * 48000  # AAC's last frame padding is kept, as torchaudio.load does


def test_native_segment(video_with_audio):
    waveform, rate = load_audio_native(video_with_audio, 1.0, 2.0)
    assert waveform.shape == (2, 48000)
    assert _pitch_hz(waveform[0], rate) == pytest.approx(tone_hz(1.5), abs=5)


def test_video_without_audio_gives_none(video_no_audio, video_av1):
    assert load_audio(video_no_audio, 1.0, 2.0) is None
    assert load_audio(video_av1) is None
    assert load_audio_native(video_no_audio) is None


def test_audio_only_file(audio_only):
    audio = load_audio(audio_only, 0.5, 1.5)
    assert audio.size == 16000
    assert _pitch_hz(audio[:8000]) == pytest.approx(300, abs=5)
    assert _pitch_hz(audio[8000:]) == pytest.approx(500, abs=5)


def test_webm_opus(video_webm):
    audio = load_audio(video_webm, 1.2, 1.8)
    assert audio.size == round(0.6 * 16000)
    assert _pitch_hz(audio) == pytest.approx(500, abs=5)


@pytest.mark.parametrize(
    ("start_s", "end_s", "message"),
    [(12.0, 15.0, "outside the video"), (2.0, 1.0, "start must be before end"), (2.0, 2.0, "start must be before")],
)
def test_bad_segments(video_with_audio, start_s, end_s, message):
    with pytest.raises(MediaError, match=message):
        load_audio(video_with_audio, start_s, end_s)


def test_segment_outside_audio_only_file_says_audio(audio_only):
    with pytest.raises(MediaError, match=r"outside the audio \(length 3\.0 s\)"):
        load_audio(audio_only, 4.0, 5.0)


@pytest.mark.parametrize(
    ("fixture", "message"),
    [("empty_video", "empty"), ("truncated_video", "truncated"), ("text_as_video", "not a video file"),
     ("image_png", "still image")],
)
def test_unreadable_files(request, fixture, message):
    with pytest.raises(MediaError, match=message):
        load_audio(request.getfixturevalue(fixture))


def test_sound_starting_late_is_preceded_by_silence(make_video):
    video = make_video("late_sound.mp4", num_frames=90, fps=30, audio_codec="aac", audio_delay_s=1.0)
    audio = load_audio(video, 0.5, 1.5)
    assert audio.size == 16000
    assert np.abs(audio[: 7000]).max() < 0.01  # before 1.0 s: nothing yet (AAC smears a few ms)
    assert np.abs(audio[9000:]).max() > 0.3


@pytest.mark.skipif(__import__("shutil").which("ffmpeg") is None, reason="needs the ffmpeg binary as a reference")
def test_native_whole_track_equals_the_ffmpeg_command_line(video_with_audio):
    """What torchaudio.load gives Video-LLaMA (spec errata 4): every decoded sample, priming dropped, padding kept."""
    import subprocess

    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(video_with_audio), "-vn", "-f", "f32le", "-acodec", "pcm_f32le", "-"],
        capture_output=True, check=True,
    ).stdout
    reference = np.frombuffer(raw, np.float32).reshape(-1, 2).T  # [channels, samples]
    waveform, rate = load_audio_native(video_with_audio)
    assert waveform.shape == reference.shape
    np.testing.assert_allclose(waveform, reference, atol=1e-6)
