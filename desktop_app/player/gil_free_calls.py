"""QMediaPlayer.stop() / setSource() with Python's GIL released, where the platform allows it.

Why: PySide6 keeps the GIL while QMediaPlayer.stop() waits for Qt's FFmpeg playback thread, and that thread, while it
tears its renderers down, asks shiboken whether a Python subclass overrides a virtual of our QMediaPlayer /
QAudioOutput wrappers, which needs the GIL: a deadlock (seen as a hang when the window closed during playback or
while thumbnails decoded). A C call made through ctypes releases the GIL for its duration, so the playback thread can
finish. On platforms where the Qt symbol cannot be found (other name mangling), the plain PySide6 call is used.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtMultimedia import QMediaPlayer

log = logging.getLogger(__name__)

_STOP = "_ZN12QMediaPlayer4stopEv"  # QMediaPlayer::stop()
_SET_SOURCE = "_ZN12QMediaPlayer9setSourceERK4QUrl"  # QMediaPlayer::setSource(const QUrl &)


@functools.cache
def _multimedia_library() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    import PySide6

    path = Path(PySide6.__file__).parent / "Qt" / "lib" / "libQt6Multimedia.so.6"
    try:  # the library is already loaded: dlopen returns the same handle
        library = ctypes.CDLL(str(path) if path.exists() else "libQt6Multimedia.so.6")
        for name in (_STOP, _SET_SOURCE):
            function = getattr(library, name)
            function.argtypes = [ctypes.c_void_p] * (1 if name == _STOP else 2)
            function.restype = None
    except (OSError, AttributeError):
        log.info("QtMultimedia's symbols not found; stopping the player with the GIL held", exc_info=True)
        return None
    return library


def _pointer(qt_object) -> int:
    import shiboken6

    return shiboken6.getCppPointer(qt_object)[0]


def stop_player(player: QMediaPlayer) -> None:
    """``player.stop()``, letting other threads take the GIL while Qt waits for its playback thread."""
    library = _multimedia_library()
    if library is None:
        player.stop()
        return
    getattr(library, _STOP)(_pointer(player))


def set_player_source(player: QMediaPlayer, url: QUrl) -> None:
    """``player.setSource(url)``, with the GIL released the same way (it tears the previous playback engine down)."""
    library = _multimedia_library()
    if library is None:
        player.setSource(url)
        return
    getattr(library, _SET_SOURCE)(_pointer(player), _pointer(url))


def clear_player_source(player: QMediaPlayer) -> None:
    """``player.setSource(QUrl())``: unload the media, GIL released."""
    set_player_source(player, QUrl())
