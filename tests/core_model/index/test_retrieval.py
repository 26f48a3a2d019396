"""Retrieval over a real IndexStore (SQLite FTS5/BM25): the moment whose words match comes first, moments lie inside
the video, close lines merge, and other rankings (image similarity, later) fuse in by rank."""

import pytest

from core_model.index.retrieval import (
    MAX_MOMENT_S,
    Moment,
    content_words,
    fuse_rankings,
    merge_close,
    spread_moments,
    stem,
    text_moments,
)
from core_model.store.index_records import Caption, Cue
from core_model.store.index_store import IndexStore
from tests.fixtures.whole_video_media import PARTY_DURATION_S, SPEECH_AT_S, party_cues  # noqa: F401

FINGERPRINT = "party-fingerprint"


@pytest.fixture
def store(tmp_path, party_cues):  # noqa: F811
    with IndexStore(tmp_path / "vidi.sqlite3") as index:
        index.add_cues(FINGERPRINT, party_cues, until_s=PARTY_DURATION_S, done=True, source="sidecar")
        yield index


def _covers(moment: Moment, time_s: float) -> bool:
    return moment.start_s <= time_s <= moment.end_s


def test_question_words_keep_what_it_is_about():
    assert content_words("When does grandma give her speech?") == ["grandma", "speech"]
    assert content_words("What did the guide say about the castle?") == ["guide", "castle"]
    assert content_words("what happens?") == ["what", "happens"]  # all stopwords: search something anyway


@pytest.mark.parametrize(("question", "time_s"), [
    ("when does grandma give her speech?", SPEECH_AT_S),
    ("When is the cake cut?", 60.0),
    ("where do the kids play football", 30.0),
    ("did they sing happy birthday?", 130.0),
])
def test_the_moment_whose_words_match_comes_first(store, question, time_s):
    moments = text_moments(store, FINGERPRINT, question, PARTY_DURATION_S)
    assert moments and _covers(moments[0], time_s), moments
    assert moments[0].source == "transcript" and moments[0].why.startswith('said: "')


def test_a_word_said_twice_ranks_the_line_about_it_higher_than_filler(store):
    # "family" is in two lines; "speech" in one: the speech line must win over the table line
    moments = text_moments(store, FINGERPRINT, "grandma's speech about the family", PARTY_DURATION_S)
    assert _covers(moments[0], SPEECH_AT_S)
    assert any(_covers(m, 50.0) for m in moments[1:])


def test_moments_lie_inside_the_video_and_are_never_the_whole_of_it(store):
    moments = text_moments(store, FINGERPRINT, "welcome thank coming birthday", PARTY_DURATION_S)
    assert len(moments) >= 3
    for moment in moments:
        assert 0.0 <= moment.start_s < moment.end_s <= PARTY_DURATION_S
        assert moment.duration_s <= MAX_MOMENT_S < PARTY_DURATION_S


def test_a_line_at_the_very_end_is_clipped_to_the_video(tmp_path):
    with IndexStore(tmp_path / "vidi.sqlite3") as index:
        index.add_cues("f", [Cue(58.0, 60.0, "the last goodbye")], until_s=60.0, done=True, source="sidecar")
        [moment] = text_moments(index, "f", "goodbye", 60.0)
    assert (moment.start_s, moment.end_s) == (54.0, 60.0)


def test_nothing_matches_gives_no_moment(store):
    assert text_moments(store, FINGERPRINT, "penguins on the ice", PARTY_DURATION_S) == []
    assert text_moments(store, "another video", "grandma", PARTY_DURATION_S) == []


def test_captions_are_searched_too(store):
    store.add_captions(FINGERPRINT, [Caption(150.0, 160.0, "a red balloon floats above the table")],
                       until_s=PARTY_DURATION_S, done=True)
    [moment] = text_moments(store, FINGERPRINT, "red balloon", PARTY_DURATION_S)
    assert _covers(moment, 155.0) and moment.source == "captions" and moment.why.startswith('seen: "')


def test_close_lines_become_one_moment_and_far_ones_stay_apart():
    ranked = [Moment(10.0, 20.0, "a", "transcript", 0), Moment(40.0, 50.0, "b", "transcript", 1),
              Moment(22.0, 30.0, "c", "transcript", 2)]
    merged = merge_close(ranked)
    assert [(m.start_s, m.end_s, m.rank) for m in merged] == [(10.0, 30.0, 0), (40.0, 50.0, 1)]
    assert merged[0].why == "a; c"


def test_merging_stops_before_a_moment_grows_too_long():
    ranked = [Moment(10.0 * i, 10.0 * i + 9.0, str(i), "transcript", i) for i in range(10)]
    assert all(m.duration_s <= MAX_MOMENT_S for m in merge_close(ranked))


def test_another_ranking_fuses_in_by_rank():
    text = [Moment(95.0, 110.0, 'said: "speech"', "transcript", 0), Moment(45.0, 60.0, "table", "transcript", 1)]
    image = [Moment(100.0, 104.0, "looks like: an old woman", "image", 0), Moment(10.0, 14.0, "cake", "image", 1)]
    fused = fuse_rankings([text, image])
    assert (fused[0].start_s, fused[0].end_s) == (95.0, 110.0)  # found by both: first
    assert "an old woman" in fused[0].why
    assert {(m.start_s, m.end_s) for m in fused[1:]} == {(45.0, 60.0), (10.0, 14.0)}
    assert [m.rank for m in fused] == [0, 1, 2]
    assert fuse_rankings([text]) == [Moment(m.start_s, m.end_s, m.why, m.source, m.rank, pytest.approx(1 / (61 + i)))
                                     for i, m in enumerate(text)]


def test_spread_moments_cover_the_video_evenly_inside_it():
    moments = spread_moments(180.0, 4)
    assert [(m.start_s, m.end_s) for m in moments] == [(17.5, 27.5), (62.5, 72.5), (107.5, 117.5), (152.5, 162.5)]
    assert spread_moments(0.0, 4) == []
    assert all(0 <= m.start_s < m.end_s <= 6.0 for m in spread_moments(6.0, 4))


@pytest.mark.parametrize(("word", "stemmed"), [("dancing", "danc"), ("castles", "castl"), ("speech", "speech"),
                                                ("sings", "sing"), ("cake", "cake"), ("parties", "part")])
def test_words_are_cut_to_a_stem_that_keeps_four_letters(word, stemmed):
    assert stem(word) == stemmed


def test_a_question_finds_another_form_of_the_word_said(store):
    store.add_cues(FINGERPRINT, [Cue(120.0, 122.0, "Everyone is dancing now")], until_s=PARTY_DURATION_S,
                   done=True, source="sidecar")
    moments = text_moments(store, FINGERPRINT, "when do they dance?", PARTY_DURATION_S)
    assert moments and _covers(moments[0], 121.0)
    assert _covers(text_moments(store, FINGERPRINT, "the cakes", PARTY_DURATION_S)[0], 60.0)


def test_a_caption_of_a_whole_scene_window_stays_within_the_longest_moment(store):
    # captions describe scene windows of up to 30 s: padded as a line is, one became 0:26-1:06 (40 s) in the window
    store.add_captions(FINGERPRINT, [Caption(30.0, 60.0, "a dog runs across the beach"),
                                     Caption(0.0, 30.0, "a beach with a dog at the start")],
                       until_s=PARTY_DURATION_S, done=True)
    moments = text_moments(store, FINGERPRINT, "dog beach", PARTY_DURATION_S)
    assert {(m.start_s, m.end_s) for m in moments} == {(30.0, 60.0), (0.0, 30.0)}
    assert all(m.duration_s <= MAX_MOMENT_S for m in moments)


def test_a_long_line_keeps_what_padding_fits_within_the_longest_moment(tmp_path):
    with IndexStore(tmp_path / "vidi.sqlite3") as index:
        index.add_captions("f", [Caption(5.0, 27.0, "the parade passes by")], until_s=60.0, done=True)
        [moment] = text_moments(index, "f", "parade", 60.0)
    assert (moment.start_s, moment.end_s) == (3.0, 33.0)  # 2 s of the 4 before, all 6 after: 30 s


def test_a_long_moment_gains_once_per_ranking_however_many_of_its_hits_it_covers():
    # the window ranked a 36-s caption moment above the line that answers, because it swallowed three keyframes
    text = [Moment(96.0, 111.0, 'said: "Grandma gives her speech"', "transcript", 0),
            Moment(0.0, 30.0, 'seen: "speech room"', "captions", 1)]
    image = [Moment(20.0, 30.0, "look at 0:25", "image", 0), Moment(98.0, 108.0, "look at 1:43", "image", 1),
             Moment(2.0, 12.0, "look at 0:07", "image", 2), Moment(12.0, 19.0, "look at 0:15", "image", 3)]
    fused = fuse_rankings([text, image])
    assert (fused[0].start_s, fused[0].end_s) == (96.0, 111.0)
    assert fused[1].score == pytest.approx(1 / 62 + 1 / 61)  # the caption moment: one gain from each list
    assert len(fused) == 2  # the other keyframes lie inside the caption's moment: covered, not new moments
