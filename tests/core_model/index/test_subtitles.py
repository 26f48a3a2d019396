"""SRT / WebVTT parsing as players tolerate it, and writing cues back."""

from core_model.index.subtitles import format_timestamp, parse_subtitles, to_srt, to_text, to_vtt
from core_model.store.index_records import Cue

SRT = "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> there\r\n\r\n2\r\n00:01:02,040 --> 00:01:03,000\r\n" \
      "{\\an8}Two\r\nlines\r\n"

VTT = """WEBVTT - a title

NOTE this is a comment --> with an arrow-like thing? no, NOTE blocks have no time line

STYLE
::cue { color: yellow }

intro
00:01.000 --> 00:02.000 align:start position:10%
<c.yellow>Short</c> form

01:00:00.500 --> 01:00:01.000
An hour in
"""


def test_srt_with_bom_crlf_and_markup():
    cues = parse_subtitles(SRT)
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(1.0, 2.5, "Hello there"), (62.04, 63.0, "Two lines")]
    assert {c.source for c in cues} == {"sidecar"}


def test_vtt_with_cue_ids_settings_short_times_and_blocks_without_times():
    cues = parse_subtitles(VTT)
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(1.0, 2.0, "Short form"), (3600.5, 3601.0, "An hour in")]


def test_garbage_and_empty_cues_are_skipped_not_fatal():
    text = "1\nnot a time\nwords\n\n2\n00:00:05,000 --> 00:00:04,000\nbackwards\n\n3\n00:00:06,000 --> 00:00:07,000\n\n"
    assert parse_subtitles(text) == []
    assert parse_subtitles("") == []


def test_written_srt_and_vtt_parse_back_to_the_same_cues():
    cues = [Cue(0.5, 1.25, "one"), Cue(3661.001, 3662.0, "two words")]
    for written in (to_srt(cues), to_vtt(cues)):
        assert [(c.start_s, c.end_s, c.text) for c in parse_subtitles(written)] == [
            (0.5, 1.25, "one"), (3661.001, 3662.0, "two words")]
    assert to_vtt(cues).startswith("WEBVTT\n")
    assert to_text(cues) == "one\ntwo words\n"
    assert format_timestamp(3661.001) == "01:01:01,001"
