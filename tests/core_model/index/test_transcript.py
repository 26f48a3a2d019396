"""A transcript that needs no model: a sidecar file beside the video, else an embedded text subtitle track."""

import shutil

from core_model.index.transcript import find_sidecar, find_transcript, read_embedded

EXPECTED = [(0.5, 1.5, "Hello there"), (2.0, 3.25, "The castle is old and tall")]


def _times_and_text(cues):
    return [(c.start_s, c.end_s, c.text) for c in cues]


def test_embedded_mov_text_track_in_mp4(subtitled_mp4):
    found = read_embedded(subtitled_mp4)
    assert found is not None and found.source == "embedded" and "mov_text" in found.origin
    assert _times_and_text(found.cues) == EXPECTED


def test_embedded_subrip_track_in_matroska(subtitled_mkv):
    found = find_transcript(subtitled_mkv)
    assert found.source == "embedded"
    assert _times_and_text(found.cues) == EXPECTED


def test_a_video_without_subtitles_has_no_transcript_to_find(scene_video):
    assert find_transcript(scene_video) is None


def test_a_sidecar_with_the_same_base_name_wins_over_the_embedded_track(tmp_path, subtitled_mp4):
    video = tmp_path / "holiday.mp4"
    shutil.copy(subtitled_mp4, video)
    (tmp_path / "holiday.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nFrom the sidecar\n")
    (tmp_path / "other.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nNot this one\n")
    found = find_transcript(video)
    assert (found.source, found.origin) == ("sidecar", "holiday.vtt")
    assert _times_and_text(found.cues) == [(1.0, 2.0, "From the sidecar")]


def test_a_language_tagged_latin1_sidecar_is_found_and_read(tmp_path, scene_video):
    video = tmp_path / "fête.mp4"
    shutil.copy(scene_video, video)
    (tmp_path / "fête.fr.srt").write_bytes("1\n00:00:01,000 --> 00:00:02,000\nÉté à la fête\n".encode("latin-1"))
    assert find_sidecar(video).name == "fête.fr.srt"
    [cue] = find_transcript(video).cues
    assert (cue.text, cue.language, cue.source) == ("Été à la fête", "fr", "sidecar")
