"""Streaming, cancellable ``model.generate``: the loop every transformers backend shares.

    stats = GenerationStats()
    for piece in stream_generate(model, inputs, tokenizer, cancel_token, stats, max_new_tokens=64):
        print(piece, end="")
    stats.stopped, stats.num_new_tokens, stats.first_token_s   # filled as it runs

How it works: ``generate`` runs in a helper thread and pushes tokens into a ``TextIteratorStreamer``; the calling
thread iterates the streamer and yields text pieces (transformers flushes a piece at each word boundary).
``CancelStoppingCriteria`` is checked after every token: once ``cancel_token.cancel()`` is called from any thread,
``generate`` returns after at most one more token and the iterator ends with ``stats.stopped`` True. An exception
in the helper thread (e.g. torch.OutOfMemoryError) is re-raised in the calling thread once the stream ends.
Closing the iterator early (``break`` in a for-loop, ``.close()``) also cancels and joins the helper thread, so
no generation keeps running in the background.

Also shared here: ``greedy_or_sampling(options)`` (the ``generate`` kwargs for a GenerationOptions) and
``finish_run(run, stats, started_at)`` (a finished stream's figures into the backend's RunInfo).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from core_model.backends.base import CancelToken, GenerationOptions, RunInfo


@dataclass
class GenerationStats:
    """Filled by ``stream_generate`` while it runs. Seconds are measured from the call to ``stream_generate``."""

    first_token_s: float = 0.0
    total_s: float = 0.0
    num_new_tokens: int = 0
    stopped: bool = False


def _stopping_criteria_class():
    from transformers import StoppingCriteria

    class CancelStoppingCriteria(StoppingCriteria):
        """Stops generation as soon as ``cancel_token`` is cancelled (checked after every generated token)."""

        def __init__(self, cancel_token: CancelToken) -> None:
            self.cancel_token = cancel_token

        def __call__(self, input_ids, scores, **kwargs):
            import torch

            done = self.cancel_token.cancelled
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    return CancelStoppingCriteria


def cancel_stopping_criteria(cancel_token: CancelToken):
    """A transformers ``StoppingCriteria`` that stops every sequence once ``cancel_token`` is cancelled."""
    return _stopping_criteria_class()(cancel_token)


def _counting_streamer(tokenizer, stats: GenerationStats, started_at: float, timeout_s: float | None):
    """A TextIteratorStreamer that also counts new tokens and notes when the first one arrived."""
    from transformers import TextIteratorStreamer

    class CountingStreamer(TextIteratorStreamer):
        def put(self, value):
            if not self.next_tokens_are_prompt:  # the first put() is the prompt, which skip_prompt drops
                if stats.num_new_tokens == 0:
                    stats.first_token_s = time.perf_counter() - started_at
                stats.num_new_tokens += int(value.numel() if value.dim() <= 1 else value.shape[-1])
            super().put(value)

    return CountingStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=timeout_s)


def greedy_or_sampling(options: GenerationOptions) -> dict[str, Any]:
    """``generate`` kwargs: greedy when temperature is 0 (overriding a sampling generation config), else sampling."""
    kwargs: dict[str, Any] = {"max_new_tokens": options.max_new_tokens}
    if options.temperature > 0:
        kwargs.update(do_sample=True, temperature=options.temperature, top_p=options.top_p)
    else:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    return kwargs


def finish_run(run: RunInfo, stats: GenerationStats, started_at: float) -> None:
    """Copy a finished (or stopped, or failed) stream's figures into ``run``.

    ``started_at``: ``time.perf_counter()`` when ``answer`` began; ``run.prepare_s`` must already be set, since the
    first token's time counts from the start of ``answer`` (0.0 when no token came).
    """
    run.first_token_s = run.prepare_s + stats.first_token_s if stats.num_new_tokens else 0.0
    run.total_s = time.perf_counter() - started_at
    run.num_new_tokens = stats.num_new_tokens
    run.stopped = stats.stopped


def stream_generate(
    model,
    inputs: Mapping[str, Any],
    tokenizer,
    cancel_token: CancelToken,
    stats: GenerationStats | None = None,
    *,
    stall_timeout_s: float | None = None,
    **generate_kwargs: Any,
) -> Iterator[str]:
    """Run ``model.generate(**inputs, **generate_kwargs)`` in a helper thread and yield the new text in pieces.

    ``inputs``: the processor's output already on the model's device (input_ids [1, L], pixel values, ...).
    ``tokenizer``: decodes new tokens (a processor's ``.tokenizer``). ``stats`` is filled while it runs.
    ``stall_timeout_s``: give up (TimeoutError) if no piece arrives for that long; None waits forever.
    Batch size must be 1: token counting and the streamer assume one sequence.
    """
    stats = stats if stats is not None else GenerationStats()
    started_at = time.perf_counter()
    streamer = _counting_streamer(tokenizer, stats, started_at, stall_timeout_s)
    criteria = list(generate_kwargs.pop("stopping_criteria", None) or [])
    criteria.append(cancel_stopping_criteria(cancel_token))
    failure: list[BaseException] = []

    def run() -> None:
        import torch

        try:
            with torch.inference_mode():
                model.generate(**inputs, **generate_kwargs, streamer=streamer, stopping_criteria=criteria)
        except BaseException as exc:  # noqa: BLE001  handed to the calling thread below
            failure.append(exc)
            streamer.end()  # unblock the consumer; generate() did not reach its own end()

    thread = threading.Thread(target=run, name="vidi-generate", daemon=True)
    thread.start()
    finished = False
    try:
        for piece in streamer:
            if piece:
                yield piece
        finished = True
    finally:
        if not finished:
            cancel_token.cancel()  # the consumer stopped early (break / close / exception): stop generating too
        thread.join()
        stats.total_s = time.perf_counter() - started_at
        stats.stopped = cancel_token.cancelled
    if failure:
        raise failure[0]
