"""Stopping the player with the GIL released still stops it, and lets Python threads run meanwhile."""

from PySide6.QtCore import QUrl
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

from desktop_app.player.gil_free_calls import _multimedia_library, clear_player_source, set_player_source, stop_player


def test_stop_and_clear_the_source_of_a_playing_player(qtbot, gui_video):
    player = QMediaPlayer()
    audio = QAudioOutput()
    player.setAudioOutput(audio)
    url = QUrl.fromLocalFile(str(gui_video))
    set_player_source(player, url)
    assert player.source() == url
    player.play()
    qtbot.waitUntil(lambda: player.position() > 0, timeout=5000)

    stop_player(player)
    assert player.playbackState() == QMediaPlayer.PlaybackState.StoppedState
    clear_player_source(player)
    assert player.source().isEmpty()


def test_the_linux_build_finds_the_c_symbols():
    import sys

    if sys.platform.startswith("linux"):
        assert _multimedia_library() is not None  # else the deadlock-free path silently falls back
