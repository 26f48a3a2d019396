"""The index's words in the window: the state line per video and a build's progress line."""

from core_model.index.progress import IndexProgress
from core_model.store.index_records import PartState
from desktop_app.index.index_text import index_state_details, index_state_text, outcome_text, progress_text
from desktop_app.workers.index_process import IndexOutcome


def test_state_line_names_built_parts_and_how_far_a_partial_one_got():
    assert index_state_text({}) == "Not indexed"
    assert index_state_text({"transcript": PartState("transcript")}) == "Not indexed"
    parts = {"transcript": PartState("transcript", "done"), "scenes": PartState("scenes", "partial",
                                                                                done_until_s=70.0),
             "chapters": PartState("chapters", "missing", notice="no model: run 'vidi models pull x'")}
    assert index_state_text(parts) == "Indexed: transcript, scenes (to 1:10)"
    details = index_state_details(parts)
    assert "scenes: built up to 1:10" in details
    assert "chapters: not built (no model: run 'vidi models pull x')" in details


def test_progress_line_has_part_percent_and_eta():
    assert progress_text(IndexProgress("scenes", 2, 3, 42.0, 100.0, 21.0)) == "Indexing scenes (2/3) 42% · ETA 0:21"
    assert progress_text(IndexProgress("transcript", 1, 3, 0.0, 100.0, None)) == "Indexing transcript (1/3) 0%"


def test_outcome_line_says_stopped_or_what_was_skipped():
    assert outcome_text(IndexOutcome(stopped=True)).startswith("Indexing stopped")
    outcome = IndexOutcome(("scenes",), {"chapters": "no model"})
    assert outcome_text(outcome) == "Index ready. chapters skipped: no model"
