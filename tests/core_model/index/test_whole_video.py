"""Planning and answering a question about a whole video from its index: moments re-watched with their times,
summaries by map-reduce over chapters or transcript chunks, frames that never overflow. The model is the tiny
random-weight VLM (its answers are random words: the tests look at what it was asked and at the sources)."""

import pytest

from core_model.backends import SegmentRef, load_backend
from core_model.backends.base import GenerationOptions, ImageRef
from core_model.index.retrieval import Moment
from core_model.index.whole_video import (
    MAX_MOMENTS,
    MIN_FRAMES_PER_MOMENT,
    answer_whole_video,
    frames_per_moment,
    is_summary_question,
    plan_if_indexed,
    plan_whole_video_question,
)
from core_model.store.index_records import Chapter, Cue
from core_model.store.index_store import IndexStore
from tests.fixtures.whole_video_media import (  # noqa: F401  (fixtures)
    PARTY_DURATION_S,
    SPEECH_AT_S,
    party_cues,
    party_video,
)

FINGERPRINT = "party"


@pytest.fixture
def store(tmp_path, party_cues):  # noqa: F811
    with IndexStore(tmp_path / "vidi.sqlite3") as index:
        index.add_cues(FINGERPRINT, party_cues, until_s=PARTY_DURATION_S, done=True, source="sidecar")
        yield index


@pytest.fixture(scope="module")
def tiny_backend(tiny_vlm_dir):
    backend = load_backend(str(tiny_vlm_dir), device="cpu")
    backend.load(None)
    yield backend
    backend.unload()


class AskedLog:
    """The real backend, with a log of every conversation it was asked (to see the map and reduce steps)."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.asked: list[list] = []

    def answer(self, conversation, options=None):
        self.asked.append(list(conversation))
        return self.backend.answer(conversation, options)


def _plan(store, video, question, **kwargs):
    return plan_whole_video_question(video, question, store, duration_s=PARTY_DURATION_S, fingerprint=FINGERPRINT,
                                     **kwargs)


def test_a_question_is_answered_from_the_moments_that_match(store, party_video):  # noqa: F811
    plan = _plan(store, party_video, "When does grandma give her speech?", num_frames=8)
    assert plan.kind == "moments" and plan.notice == ""
    first = plan.sources[0]
    assert first.start_s <= SPEECH_AT_S <= first.end_s and "Grandma gives her speech" in first.why
    assert first.as_json() == {"start_s": first.start_s, "end_s": first.end_s, "why": first.why}
    for source in plan.sources:
        assert 0.0 <= source.start_s < source.end_s <= PARTY_DURATION_S
        assert source.end_s - source.start_s < PARTY_DURATION_S / 2  # a moment, never the whole video
    segments = plan.turn.media
    assert all(isinstance(s, SegmentRef) and s.path == str(party_video.resolve()) for s in segments)
    assert [s.start_s for s in segments] == sorted(s.start_s for s in segments)  # clips in time order
    assert {(s.start_s, s.end_s) for s in segments} == {(s.start_s, s.end_s) for s in plan.sources}
    assert "1:36–1:51: said: \"Grandma gives her speech about the family\"" in plan.turn.text
    assert "Question: When does grandma give her speech?" in plan.turn.text and "M:SS" in plan.turn.text


def test_many_moments_share_the_frames_of_one_question(store, party_video, tiny_backend):  # noqa: F811
    many = [Cue(5.0 * i, 5.0 * i + 2.0, f"grandma line {i}") for i in range(36)]
    store.add_cues(FINGERPRINT, many, until_s=PARTY_DURATION_S, done=True, source="sidecar")
    plan = _plan(store, party_video, "grandma", num_frames=8)
    assert len(plan.turn.media) == MAX_MOMENTS
    assert plan.num_frames == frames_per_moment(8, MAX_MOMENTS) == 2
    prepared = tiny_backend.prepare([plan.final_turn()], plan.options_for(GenerationOptions(num_frames=8)))
    frames = [segment.num_frames for segment in prepared.plan.segments]
    assert len(frames) == MAX_MOMENTS and sum(frames) <= 8  # four moments: no more frames than one segment
    assert frames_per_moment(2, 4) == MIN_FRAMES_PER_MOMENT and frames_per_moment(64, 1) == 64


def test_the_answer_is_asked_with_the_moments_clips(store, party_video, tiny_backend):  # noqa: F811
    plan = _plan(store, party_video, "what did grandma say in her speech?")
    log = AskedLog(tiny_backend)
    answer = "".join(answer_whole_video(plan, log, GenerationOptions(max_new_tokens=6)))
    assert answer.strip()
    [conversation] = log.asked
    assert conversation[-1].media == plan.turn.media
    assert len(tiny_backend.last_run.frame_timestamps_s) >= 1


def test_nothing_matching_looks_at_moments_spread_over_the_video(store, party_video):  # noqa: F811
    plan = _plan(store, party_video, "is there a penguin?")
    assert plan.kind == "moments" and "nothing in the video's transcript matched" in plan.notice
    assert len(plan.sources) == MAX_MOMENTS
    assert all(0 < s.start_s < s.end_s < PARTY_DURATION_S for s in plan.sources)


def test_other_rankings_fuse_with_the_text_search(store, party_video):  # noqa: F811
    seen = [Moment(170.0, 175.0, "looks like: cars leaving", "image", 0)]
    plan = _plan(store, party_video, "penguin", other_rankings=[seen])  # no words match: the image ranking decides
    assert [(s.start_s, s.end_s, s.why) for s in plan.sources] == [(170.0, 175.0, "looks like: cars leaving")]
    assert plan.notice == ""


@pytest.mark.parametrize(("question", "summary"), [
    ("Summarise this", True), ("can you summarize the video?", True), ("give me a recap", True),
    ("What is this video about?", True), ("tl;dr", True), ("When does grandma give her speech?", False),
    ("what is in the garden", False),
])
def test_summary_questions_are_told_apart(question, summary):
    assert is_summary_question(question) is summary


def test_a_summary_maps_over_the_chapters_then_reduces(store, party_video, tiny_backend):  # noqa: F811
    store.replace_chapters(FINGERPRINT, [Chapter(0.0, 60.0, "Arrival", "Guests arrive and children play."),
                                         Chapter(60.0, 120.0, "Cake and speech", ""),
                                         Chapter(120.0, 180.0, "Goodbyes", "Songs and farewells.")])
    plan = _plan(store, party_video, "Summarise this video")
    assert plan.kind == "summary"
    assert [(s.start_s, s.end_s) for s in plan.sources] == [(0.0, 60.0), (60.0, 120.0), (120.0, 180.0)]
    assert plan.sources[0].why == "Arrival: Guests arrive and children play."
    log = AskedLog(tiny_backend)
    answer = "".join(answer_whole_video(plan, log, GenerationOptions(max_new_tokens=6)))
    assert answer.strip()
    # the chapter without a stored summary is summed up by the model (map), then one question over all (reduce)
    assert len(log.asked) == 2
    assert "Time to cut the chocolate cake" in log.asked[0][-1].text and "1:00 to 2:00" in log.asked[0][-1].text
    final = log.asked[1][-1].text
    assert "- 0:00–1:00 Arrival: Guests arrive and children play." in final
    assert "- 2:00–3:00 Goodbyes: Songs and farewells." in final and "Question: Summarise this video" in final


def test_without_chapters_a_summary_maps_over_transcript_chunks(store, party_video, tiny_backend):  # noqa: F811
    plan = _plan(store, party_video, "give me a summary")
    assert plan.kind == "summary" and len(plan.map_steps) >= 2
    assert all(step.prompt and "Sum this part up" in step.prompt for step in plan.map_steps)
    assert all(s.end_s - s.start_s < PARTY_DURATION_S for s in plan.sources)
    log = AskedLog(tiny_backend)
    "".join(answer_whole_video(plan, log, GenerationOptions(max_new_tokens=4)))
    assert len(log.asked) == len(plan.map_steps) + 1


def test_a_summary_of_a_video_with_no_words_looks_at_spread_moments(tmp_path, party_video):  # noqa: F811
    with IndexStore(tmp_path / "empty.sqlite3") as empty:
        empty.add_cues(FINGERPRINT, [], until_s=PARTY_DURATION_S, done=True, source="asr")
        plan = _plan(empty, party_video, "summarise it")
    assert plan.kind == "moments" and len(plan.turn.media) == MAX_MOMENTS


def test_the_users_images_go_with_the_final_question(store, party_video, image_png):  # noqa: F811
    plan = _plan(store, party_video, "is this cake in the video?")
    plan.attach([ImageRef(str(image_png))])
    assert plan.final_turn().media == (*plan.turn.media, ImageRef(str(image_png)))


def test_one_call_summary_uses_the_parts_own_lines_where_no_summary_is_stored(store, party_video):  # noqa: F811
    store.replace_chapters(FINGERPRINT, [Chapter(0.0, 90.0, "Arrival", "Guests arrive."),
                                         Chapter(90.0, 180.0, "Speech", "")])
    turn = _plan(store, party_video, "summarise this").one_call_turn()
    assert "- 0:00–1:30 Arrival: Guests arrive." in turn.text
    assert "- 1:30–3:00 Speech: Grandma gives her speech about the family Everyone sings" in turn.text


def test_plan_if_indexed_plans_only_for_a_video_with_an_index(tmp_path, party_video, party_cues):  # noqa: F811
    from core_model.store.fingerprint import fingerprint_file

    db = tmp_path / "vidi.sqlite3"
    assert plan_if_indexed(db, party_video, "grandma", duration_s=PARTY_DURATION_S) is None
    with IndexStore(db) as index:
        index.add_cues(fingerprint_file(party_video), party_cues, until_s=PARTY_DURATION_S, done=True,
                       source="sidecar")
    plan = plan_if_indexed(db, party_video, "grandma", duration_s=PARTY_DURATION_S)
    assert plan.kind == "moments" and plan.sources[0].start_s <= SPEECH_AT_S <= plan.sources[0].end_s
