"""How the window records chats (core_model.chat_session): the question is in the store before the model loads, a
failure of any kind is kept as failed with its message, and a store that fails mid-answer is said once while the
answer streams on."""

from __future__ import annotations

from core_model.store import ConversationStore
from desktop_app.chat.exchange import AnswerState
from tests.desktop_app.conftest import ask_and_wait, open_video_and_wait


def _stored_turns(window):
    with ConversationStore(window.store.path) as reader:  # another connection, as another process would read it
        return reader.list_turns(window.controller.chat_id)


def test_the_question_is_stored_before_the_model_loads(qtbot, make_window, gui_video, fake_factory):
    fake_factory.script.load_delay_s = 3.0
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    widget = ask_and_wait(qtbot, window, "Who is there?", final=False)
    qtbot.waitUntil(lambda: widget.exchange.state == AnswerState.LOADING, timeout=5000)
    question, answer = _stored_turns(window)
    assert (question.role, question.text) == ("user", "Who is there?")
    assert (answer.role, answer.status, answer.text) == ("assistant", "pending", "")
    assert not fake_factory.last.loaded
    qtbot.waitUntil(lambda: widget.exchange.state.is_final, timeout=20000)
    assert [(t.status, t.text) for t in _stored_turns(window)][1] == ("complete", "The dog runs at 0:01.")


def test_an_answer_that_fails_with_any_exception_is_stored_as_failed(qtbot, make_window, gui_video, fake_factory):
    fake_factory.script.answer_error = ValueError("Image features and image tokens do not match")
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    widget = ask_and_wait(qtbot, window, "What is it?")
    assert widget.exchange.state == AnswerState.FAILED
    answer = _stored_turns(window)[1]
    assert answer.status == "error" and "Image features and image tokens do not match" in answer.error
    assert "\n" not in answer.error


def test_a_store_that_fails_mid_answer_is_said_once_and_the_answer_streams_on(qtbot, make_window, gui_video,
                                                                             fake_factory):
    fake_factory.script.pieces = [f"part{i} " + "x" * 4000 for i in range(12)]
    fake_factory.script.delay_s = 0.1  # 1.2 s of streaming: several throttled writes
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    widget = ask_and_wait(qtbot, window, "Long answer?", final=False)
    qtbot.waitUntil(lambda: widget.exchange.state == AnswerState.ANSWERING, timeout=10000)
    (pages,) = window.store._query_one("PRAGMA page_count")
    window.store._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here on
    qtbot.waitUntil(lambda: widget.exchange.state.is_final, timeout=20000)
    assert widget.exchange.state == AnswerState.DONE
    assert widget.exchange.answer == "".join(fake_factory.script.pieces)  # every piece reached the window
    saving = [text for text in window.chat.notices() if "could not be saved" in text]  # shown in the chat
    assert saving == [saving[0]] and "disk is full" in saving[0] and "still streams" in saving[0]

    window.store._db.execute("PRAGMA max_page_count = 1073741823")  # space freed: the window goes on
    fake_factory.script.pieces, fake_factory.script.delay_s = ["Fine again."], 0.01
    assert ask_and_wait(qtbot, window, "And now?").exchange.state == AnswerState.DONE
    assert _stored_turns(window)[-1].text == "Fine again."
    qtbot.wait(1000)  # let the chat's queued scrolling run while the window exists


def test_a_store_that_cannot_open_is_reported_in_one_line(tmp_path):
    from desktop_app.app import open_store

    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file")
    reported: list[str] = []
    assert open_store(not_a_folder, reported.append) is None
    assert reported == [f"Chats will not be kept: Vidi's data folder '{not_a_folder}' is a file, not a folder."]


def test_a_store_damaged_while_the_window_runs_is_said_once_and_the_window_goes_on(qtbot, make_window, gui_video):
    import os

    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    for index in range(30):  # enough turns for the file to have many pages
        ask_and_wait(qtbot, window, f"Question {index}? " + "words " * 40)
    window.store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything into the main file
    size = window.store.path.stat().st_size
    with open(window.store.path, "r+b") as damaged:  # garbage over every page but the first
        damaged.seek(4096)
        damaged.write(os.urandom(size - 4096))
    window.store._db.execute("PRAGMA cache_size = 0")  # read the pages again, as a fresh start would

    window.actions_.new_chat.trigger()
    window.chat.chat_combo.activated.emit(0)
    widget = ask_and_wait(qtbot, window, "Still answering?")
    assert widget.exchange.state == AnswerState.DONE and widget.exchange.answer == "The dog runs at 0:01."
    notices = window.chat.notices()
    damaged = [n for n in notices if "is damaged" in n and "could not be saved" not in n]
    assert len(damaged) == 1, notices  # said once, however often the window read the store
    [not_kept] = [n for n in notices if "This question could not be saved" in n]  # and that this one is not kept
    assert "is damaged" in not_kept
    qtbot.wait(200)


def test_a_damaged_store_is_still_said_once_the_video_given_on_the_command_line_has_opened(qtbot, make_window,
                                                                                          gui_video, tmp_path):
    # `vidi VIDEO` with a damaged database: the notice was shown, then opening the video cleared the chat: nothing
    # on screen said that chats would not be kept
    from desktop_app.app import open_store_and_video

    data = tmp_path / "damaged"
    data.mkdir()
    (data / "vidi.sqlite3").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    window = make_window(data_folder=data)
    open_store_and_video(window, str(gui_video))
    qtbot.waitUntil(lambda: window.timeline.duration_ms() > 0, timeout=10000)
    qtbot.wait(200)
    assert window.store is None
    [notice] = [text for text in window.chat.notices() if "Chats will not be kept" in text]
    assert "damaged" in notice or "not a database" in notice
