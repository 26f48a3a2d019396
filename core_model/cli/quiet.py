"""What the libraries may print on stderr while a ``vidi`` command runs.

Without ``--verbose`` stderr carries only Vidi's own lines: Python warnings (torch, bitsandbytes, transformers),
library log records, transformers' advice and progress bars, and FFmpeg's own log lines (decord's bundled FFmpeg,
OpenCV's) are kept off it. With ``--verbose`` they show, and an error's traceback is printed after its one line.

Everything is put back afterwards: ``core_model.cli.main`` may run inside a longer-lived process (the tests).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from contextlib import contextmanager
from typing import Iterator

QUIET_ENVIRONMENT = {
    "TRANSFORMERS_VERBOSITY": "error",  # read when transformers is first imported
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # Vidi draws its own download progress
    "BITSANDBYTES_NOWELCOME": "1",
    "OPENCV_LOG_LEVEL": "OFF",
    "OPENCV_FFMPEG_LOGLEVEL": "-8",  # AV_LOG_QUIET for OpenCV's bundled FFmpeg
}
"""Set (when not set by the user) before the libraries are imported, so they start quiet."""

DECODING_COMMANDS = ("ask",)
"""Commands that decode media: decord's FFmpeg log level is set for them (importing decord costs ~0.1 s)."""


@contextmanager
def library_output(verbose: bool, command: str | None = None) -> Iterator[None]:
    """Keep library noise off stderr unless ``verbose``; restore every setting on exit."""
    saved_environ = {name: os.environ.get(name) for name in QUIET_ENVIRONMENT}
    root = logging.getLogger()
    saved_root_level = root.level
    # A handler on the root logger stops logging's "last resort" from printing library WARNINGs on stderr.
    handler: logging.Handler = (
        logging.StreamHandler(sys.stderr) if verbose else logging.NullHandler()
    )
    if verbose:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if verbose:
        root.setLevel(logging.INFO)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request is not "verbose", it is noise
    else:
        for name, value in QUIET_ENVIRONMENT.items():
            os.environ.setdefault(name, value)
    restore_transformers = _set_transformers(verbose)
    if command in DECODING_COMMANDS:
        _set_ffmpeg_logs(verbose)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default" if verbose else "ignore")
            yield
    finally:
        if restore_transformers is not None:
            restore_transformers()
        root.removeHandler(handler)
        root.setLevel(saved_root_level)
        for name, value in saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _set_transformers(verbose: bool):
    """Set transformers' own logger when it is already imported (the environment covers a later import)."""
    hf_logging = sys.modules.get("transformers.utils.logging")
    if hf_logging is None:
        return None
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity(logging.WARNING if verbose else logging.ERROR)  # WARNING: transformers' default
    if not verbose:
        hf_logging.disable_progress_bar()

    def restore() -> None:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()

    return restore


def _set_ffmpeg_logs(verbose: bool) -> None:
    """FFmpeg inside decord prints straight to stderr ("[h264 @ 0x...] error while decoding MB ..."): quiet it.

    PyAV's FFmpeg logging is off unless asked for (``av.logging`` level None), so only ``--verbose`` touches it.
    """
    try:
        import decord

        decord.logging.set_level(decord.logging.WARNING if verbose else decord.logging.QUIET)
    except Exception:  # noqa: BLE001  no decord on this platform (macOS arm64): PyAV decodes there
        pass
    if verbose:
        try:
            import av

            av.logging.set_level(av.logging.WARNING)
        except Exception:  # noqa: BLE001
            pass
