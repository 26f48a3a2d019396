"""Chapters: scenes grouped by time on scene boundaries, the model's answer read as a title and a summary."""

from core_model.index.chapters import (
    MAX_PROMPT_CHARS,
    chapter_text,
    group_scenes,
    parse_title_and_summary,
    title_chapters,
)
from core_model.store.index_records import Caption, Cue, Scene


def _scenes(boundaries):
    return [Scene(a, b) for a, b in zip(boundaries, boundaries[1:])]


def test_chapters_close_on_the_first_scene_boundary_after_the_target_length():
    # 16 minutes: target 2 minutes per chapter; cuts every 50 s
    duration_s = 960.0
    spans = group_scenes(_scenes([i * 50.0 for i in range(20)] + [duration_s]), duration_s)
    assert spans[0] == (0.0, 150.0) and spans[1] == (150.0, 300.0)
    assert spans[-1][1] == duration_s and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert all(end - start >= 120.0 for start, end in spans[:-1])


def test_a_short_tail_joins_the_chapter_before_and_no_cuts_means_cuts_by_time():
    assert group_scenes(_scenes([0.0, 70.0, 75.0]), 75.0) == [(0.0, 75.0)]
    assert group_scenes([], 240.0) == [(0.0, 60.0), (60.0, 120.0), (120.0, 180.0), (180.0, 240.0)]
    assert group_scenes([], 0.0) == []


def test_the_chapter_text_holds_only_its_own_lines_in_time_order_and_is_bounded():
    cues = [Cue(5.0, 6.0, "in"), Cue(65.0, 66.0, "out")]
    captions = [Caption(2.0, 10.0, "a castle")]
    assert chapter_text(0.0, 60.0, cues, captions) == "[0:02] seen: a castle\n[0:05] said: in"
    many = [Cue(float(i), i + 1.0, "word " * 20) for i in range(600)]
    text = chapter_text(0.0, 600.0, many, [])
    assert len(text) <= MAX_PROMPT_CHARS and "[0:00]" in text and "[9:" in text  # spread over the chapter


def test_answers_with_and_without_labels():
    assert parse_title_and_summary("Title: The toast\nSummary: Grandma raises a glass.") == (
        "The toast", "Grandma raises a glass.")
    assert parse_title_and_summary("**Title:** Arrival\n**Summary:** They arrive.") == ("Arrival", "They arrive.")
    assert parse_title_and_summary("river apple seven\nmore words") == ("river apple seven", "more words")
    title, _ = parse_title_and_summary("x " * 100)
    assert len(title) <= 81


class _ScriptedBackend:
    model_id = "scripted"

    def __init__(self):
        self.prompts = []

    def answer(self, conversation, options=None):
        self.prompts.append(conversation[-1].text)
        yield "Title: The castle\n"
        yield "Summary: A guide shows the castle."


def test_each_chapter_with_words_is_titled_through_the_backend_protocol_and_stop_stops():
    backend = _ScriptedBackend()
    spans = [(0.0, 60.0), (60.0, 120.0)]
    chapters = title_chapters(spans, [Cue(5.0, 6.0, "the castle")], [], backend)
    assert [(c.title, c.summary) for c in chapters] == [("The castle", "A guide shows the castle."),
                                                      ("Part 2 (1:00–2:00)", "")]
    assert len(backend.prompts) == 1 and "the castle" in backend.prompts[0] and "0:00 to 1:00" in backend.prompts[0]
    assert title_chapters(spans, [], [], backend, should_stop=lambda: True) is None
