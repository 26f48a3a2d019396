"""ChatSession over a real store file: the question is written before anything else, pieces are throttled, every
way an answer can end is recorded (any exception as failed, with its message), and a failing store does not stop
the answer."""

import sqlite3
from dataclasses import asdict

import pytest

from core_model.backends.base import ImageRef, RunInfo, SegmentRef, Turn
from core_model.chat_session import FLUSH_INTERVAL_S, ChatSession
from core_model.errors import ModelLoadError, StoreError
from core_model.store import ConversationStore


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def store(tmp_path):
    with ConversationStore(tmp_path / "vidi.sqlite3") as opened:
        yield opened


def _seen_by_another_process(path, turn_id):
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT role, status, text, model_id FROM turns WHERE id = ?", (turn_id,)).fetchone()


def test_ask_writes_the_question_and_a_pending_answer_at_once(store):
    session = ChatSession.start(store, None, title="images")
    media = [SegmentRef("/v.mp4", 1.0, 3.0), ImageRef("/a.png")]
    exchange = session.ask("What is this?", media, model_id="tiny")
    question = store.get_turn(exchange.question.id)
    assert (question.role, question.text, question.media) == ("user", "What is this?", tuple(media))
    assert _seen_by_another_process(store.path, exchange.answer_id) == ("assistant", "pending", "", "tiny")
    answer = store.get_turn(exchange.answer_id)
    assert (answer.segment_start_s, answer.segment_end_s) == (1.0, 3.0)


def test_pieces_are_written_at_most_every_interval_and_all_at_the_end(store):
    clock = FakeClock()
    exchange = ChatSession.start(store, None).ask("q", [ImageRef("/a.png")], model_id="tiny", clock=clock)
    exchange.append("one ")
    clock.now_s += FLUSH_INTERVAL_S / 2
    exchange.append("two ")
    assert store.get_turn(exchange.answer_id).text == ""  # not yet: the interval has not passed
    clock.now_s += FLUSH_INTERVAL_S / 2
    exchange.append("three ")
    assert store.get_turn(exchange.answer_id).text == "one two three "
    exchange.append("four")
    assert store.get_turn(exchange.answer_id).text == "one two three "
    exchange.flush()
    assert store.get_turn(exchange.answer_id).text == "one two three four"
    exchange.append(" five")
    exchange.finish("complete", run={"num_new_tokens": 5})
    answer = store.get_turn(exchange.answer_id)
    assert (answer.status, answer.text, answer.run) == ("complete", "one two three four five", {"num_new_tokens": 5})
    exchange.append(" late")  # after finish: ignored
    assert store.get_turn(exchange.answer_id).text == "one two three four five"


class LibraryTrouble(Exception):
    """Not a Vidi error: e.g. a ValueError deep inside transformers."""


@pytest.mark.parametrize(
    ("raised", "status", "error"),
    [
        (ValueError("Image features and image tokens do not match"), "error",
         "Unexpected error (ValueError): Image features and image tokens do not match"),
        (LibraryTrouble("line one\nline two"), "error", "Unexpected error (LibraryTrouble): line one"),
        (ModelLoadError("The model folder has no weights."), "error", "The model folder has no weights."),
        (MemoryError(), "error", "The model ran out of memory."),
        (KeyboardInterrupt(), "stopped", ""),
    ],
)
def test_any_exception_in_the_block_is_recorded_and_goes_on(store, raised, status, error):
    session = ChatSession.start(store, None)
    run = RunInfo(model_id="tiny", num_new_tokens=2)
    with pytest.raises(type(raised)):
        with session.ask("q", [ImageRef("/a.png")], model_id="tiny", run_info=lambda: asdict(run)) as exchange:
            exchange.append("partial")
            raise raised
    answer = store.get_turn(exchange.answer_id)
    assert (answer.status, answer.text, answer.run["num_new_tokens"]) == (status, "partial", 2)
    assert answer.error.startswith(error) and "\n" not in answer.error


def test_a_block_that_ends_is_complete_and_an_explicit_finish_counts_once(store):
    session = ChatSession.start(store, None)
    with session.ask("q", [ImageRef("/a.png")], model_id="tiny") as done:
        done.append("all of it")
    with session.ask("q2", [ImageRef("/a.png")], model_id="tiny") as stopped:
        stopped.append("half")
        stopped.finish("stopped")
    with pytest.raises(ValueError):
        stopped.finish("pending")
    assert [(t.status, t.text) for t in store.list_turns(session.chat_id) if t.role == "assistant"] == [
        ("complete", "all of it"), ("stopped", "half")]


def test_history_holds_only_answered_questions_and_the_new_question_comes_last(store):
    session = ChatSession.start(store, None)
    with session.ask("first", [ImageRef("/a.png")], model_id="tiny") as first:
        first.append("answer one")
    with pytest.raises(RuntimeError), session.ask("failed", [ImageRef("/b.png")], model_id="tiny"):
        raise RuntimeError("boom")
    session.ask("still streaming elsewhere", [ImageRef("/c.png")], model_id="tiny")
    assert session.history() == [Turn("user", "first", (ImageRef("/a.png"),)), Turn("assistant", "answer one")]
    conversation = session.conversation_for("next", [ImageRef("/d.png")])
    assert conversation[-1] == Turn("user", "next", (ImageRef("/d.png"),)) and len(conversation) == 3
    assert ChatSession(store, session.chat_id).history() == session.history()  # an existing chat, reopened


def test_a_store_that_fails_mid_answer_does_not_stop_the_answer(store):
    clock = FakeClock()
    reported = []
    exchange = ChatSession.start(store, None).ask(
        "q", [ImageRef("/a.png")], model_id="tiny", on_save_error=reported.append, clock=clock
    )
    (pages,) = store._query_one("PRAGMA page_count")
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here on
    for _ in range(50):
        clock.now_s += FLUSH_INTERVAL_S
        exchange.append("x" * 3000)  # never raises
    assert len(reported) == 1 and isinstance(reported[0], StoreError) and "disk is full" in str(reported[0])
    assert exchange.save_error is reported[0] and len(exchange.text) == 50 * 3000
    store._db.execute("PRAGMA max_page_count = 1073741823")  # space came back before the end
    exchange.finish("complete")
    assert store.get_turn(exchange.answer_id).text == exchange.text and len(reported) == 1


def test_a_question_that_cannot_be_written_raises_store_error(store):
    session = ChatSession.start(store, None)
    store._db.execute("PRAGMA query_only = ON")  # any write fails, as on a read-only file
    with pytest.raises(StoreError):
        session.ask("q", [ImageRef("/a.png")], model_id="tiny")
