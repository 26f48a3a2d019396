"""One chat session: how both the CLI (``vidi ask``) and the GUI record a question and its answer in the store.

    session = ChatSession.start(store, video_id, title="What is on the slide?")   # a new chat (or ChatSession(store,
    conversation = session.conversation_for(question, media)                      #  chat_id) for an existing one)
    with session.ask(question, media, model_id="tiny-vlm") as exchange:          # question + pending answer: written
        backend.load()                                                           #  now, before the model loads
        for piece in backend.answer(conversation, options):
            exchange.append(piece)                                               # written at most every 0.5 s
        exchange.finish("stopped" if backend.last_run.stopped else "complete", run=asdict(backend.last_run))

What is guaranteed, in order:
1. ``ask`` writes the user's question (with its media) and a "pending" answer (the model id, the segment, this
   process as its writer) before anything else happens, so a process killed while the model loads keeps the
   question; the next opening of the store marks the answer "interrupted".
2. ``append`` keeps every piece in memory and writes the unsaved ones at most every ``FLUSH_INTERVAL_S``
   (``flush`` writes them now), so a long answer is not one transaction per token.
3. ``finish`` writes the whole text, the status ("complete", "stopped" or "error") with the error's message and the
   run's info. Used as a context manager, an exception inside the block finishes the answer by itself: Ctrl+C
   (KeyboardInterrupt) as "stopped", any other exception, of whatever class, as "error" with its one-line
   message; the exception then goes on. A block that ends without ``finish`` is "complete".

Saving may fail after the question was written (a full disk mid-answer): the answer must still reach the user, so
``append``/``flush``/``finish`` do not raise. The first failure is kept in ``save_error`` and reported once through
``on_save_error``; later pieces are kept in memory and ``finish`` tries once more to write everything.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from core_model.backends.base import MediaRef, SegmentRef, Turn
from core_model.errors import StoreError, user_message
from core_model.store import ConversationStore, TurnRecord

FLUSH_INTERVAL_S = 0.5
FINISHED_STATUSES = ("complete", "stopped", "error")


class ChatSession:
    """One chat of the store: asks (records) questions and builds the conversation for the next one."""

    def __init__(self, store: ConversationStore, chat_id: int) -> None:
        self.store = store
        self.chat_id = chat_id

    @classmethod
    def start(cls, store: ConversationStore, video_id: int | None, title: str = "") -> ChatSession:
        """A new chat about video ``video_id`` (None: about images only). Raises StoreError."""
        return cls(store, store.new_chat(video_id, title=title).id)

    def history(self) -> list[Turn]:
        """Earlier questions that have an answer, each followed by it (unanswered, failed, pending ones left out)."""
        turns = self.store.conversation(self.chat_id)
        history: list[Turn] = []
        for index, turn in enumerate(turns):
            following = turns[index + 1] if index + 1 < len(turns) else None
            if turn.role == "user" and following is not None and following.role == "assistant":
                history += [turn, following]
        return history

    def conversation_for(self, question: str, media: Sequence[MediaRef]) -> list[Turn]:
        """What to send the model for ``question``: the history, then the question with its media (last turn)."""
        return self.history() + [Turn("user", question, tuple(media))]

    def ask(
        self,
        question: str,
        media: Sequence[MediaRef],
        *,
        model_id: str,
        segment: SegmentRef | None = None,
        run_info: Callable[[], dict[str, Any]] | None = None,
        on_save_error: Callable[[StoreError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Exchange:
        """Write the question and a pending answer now; return the Exchange that records the answer.

        ``segment``: the segment the answer is about (default: the first SegmentRef in ``media``). ``run_info``:
        reads the run's info when the answer finishes without one given (e.g. ``lambda: asdict(backend.last_run)``),
        so a failed or stopped answer keeps it too. ``on_save_error``: called once if saving fails later. Raises
        StoreError when the question cannot be written (nothing is asked then).
        """
        if segment is None:
            segment = next((m for m in media if isinstance(m, SegmentRef)), None)
        question_turn = self.store.add_user_turn(self.chat_id, question, media)
        answer_turn = self.store.begin_answer(self.chat_id, model_id=model_id, segment=segment)
        return Exchange(self.store, question_turn, answer_turn, run_info, on_save_error, clock)


class Exchange:
    """The answer to one recorded question, while it streams. Made by ``ChatSession.ask``."""

    def __init__(
        self,
        store: ConversationStore,
        question: TurnRecord,
        answer: TurnRecord,
        run_info: Callable[[], dict[str, Any]] | None,
        on_save_error: Callable[[StoreError], None] | None,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.question = question
        self.answer_id = answer.id
        self.text = ""
        self.status: str | None = None  # set by finish
        self.save_error: StoreError | None = None
        self._run_info = run_info
        self._on_save_error = on_save_error
        self._clock = clock
        self._unsaved: list[str] = []
        self._last_write_s = clock()

    @property
    def chat_id(self) -> int:
        return self.question.chat_id

    @property
    def finished(self) -> bool:
        return self.status is not None

    def append(self, piece: str) -> None:
        """Add a streamed piece; written when ``FLUSH_INTERVAL_S`` passed since the last write."""
        if self.finished or not piece:
            return
        self.text += piece
        self._unsaved.append(piece)
        if self._clock() - self._last_write_s >= FLUSH_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        """Write the pieces not written yet (nothing after a failed write: ``finish`` writes the whole text)."""
        if not self._unsaved or self.save_error is not None:
            return
        pending, self._unsaved = "".join(self._unsaved), []
        self._last_write_s = self._clock()
        self._write(lambda: self.store.append(self.answer_id, pending))

    def finish(self, status: str, *, error: str = "", run: dict[str, Any] | None = None) -> None:
        """Close the answer as "complete", "stopped" or "error" (with ``error``, one line), with the whole text and
        the run's info. Only the first call counts."""
        if status not in FINISHED_STATUSES:
            raise ValueError(f"an answer finishes as one of {FINISHED_STATUSES}, not {status!r}")
        if self.finished:
            return
        self.status = status
        self._unsaved = []
        if run is None and self._run_info is not None:
            run = self._run_info()
        self._write(
            lambda: self.store.complete_answer(self.answer_id, status, text=self.text, error=error, run=run),
            retry=True,
        )

    def fail(self, exc: BaseException, run: dict[str, Any] | None = None) -> None:
        """Finish as "error" with ``exc``'s one-line message (any exception, Vidi's or a library's)."""
        self.finish("error", error=user_message(exc), run=run)

    def _write(self, write: Callable[[], object], retry: bool = False) -> None:
        if self.save_error is not None and not retry:
            return
        try:
            write()
        except StoreError as exc:
            if self.save_error is None:
                self.save_error = exc
                if self._on_save_error is not None:
                    self._on_save_error(exc)

    def __enter__(self) -> Exchange:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc is None:
            self.finish("complete")
        elif isinstance(exc, (KeyboardInterrupt, GeneratorExit)):
            self.finish("stopped")
        else:
            self.fail(exc)
        # the exception, if any, goes on: recording it is not handling it
