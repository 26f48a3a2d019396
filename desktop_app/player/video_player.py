"""The video player: QMediaPlayer + QVideoWidget + QAudioOutput, and its transport bar.

All times are int milliseconds (Qt's unit). The window's QActions (Space, arrows, ...) call the public slots;
the transport bar's buttons call the same slots.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoSink
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QVBoxLayout, QWidget

from desktop_app.player.gil_free_calls import clear_player_source, set_player_source, stop_player
from desktop_app.resources import icon
from desktop_app.timefmt import format_clock_s

STEP_MS = 5000
REDRAW_DELAY_MS = 120
SPEEDS = (0.25, 0.5, 1.0, 1.25, 1.5, 2.0)


class VideoPlayer(QWidget):
    position_ms_changed = Signal(int)
    duration_ms_changed = Signal(int)
    playing_changed = Signal(bool)
    media_loaded = Signal(str)  # path, once the player can show it
    media_failed = Signal(str)  # message for the user

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path: str | None = None
        self._awaiting_load = False  # True from load() until the player reports the media loaded
        self._frame_ms = 40.0  # one frame at 25 fps until the file's rate is known
        self._redraw_timer = QTimer(self)  # a paused picture is redrawn once a resize has settled
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_DELAY_MS)
        self._redraw_timer.timeout.connect(self._redraw_paused_frame)
        self._init_media_player()
        self._init_controls()
        self._init_layout()
        self._init_signals()
        self._update_controls()

    # ---- construction -------------------------------------------------------------------------------------
    def _init_media_player(self) -> None:
        self.media_player = QMediaPlayer(self)
        self.audio_output = QAudioOutput(self)
        self.media_player.setAudioOutput(self.audio_output)
        self.video_widget = QVideoWidget(self)
        self.video_widget.setMinimumSize(QSize(320, 180))
        self.video_widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.media_player.setVideoOutput(self.video_widget)

    def _init_controls(self) -> None:
        self.play_button = self._tool_button("play", "Play (Space)")
        self.back_button = self._tool_button("step-back", "Back 5 s (Left; Shift+Left: one frame)")
        self.forward_button = self._tool_button("step-forward", "Forward 5 s (Right; Shift+Right: one frame)")
        self.time_label = QLabel("0:00 / 0:00", self)
        self.time_label.setObjectName("timeLabel")
        self.time_label.setMinimumWidth(90)
        self.speed_combo = QComboBox(self)
        self.speed_combo.setToolTip("Playback speed")
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed:g}×", speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.mute_button = self._tool_button("volume", "Mute (M)")
        self.volume_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setFixedWidth(90)
        self.volume_slider.setToolTip("Volume")

    def _tool_button(self, icon_name: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(icon_name))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setIconSize(QSize(20, 20))
        return button

    def _init_layout(self) -> None:
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        for widget in (self.back_button, self.play_button, self.forward_button, self.time_label):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.speed_combo)
        bar.addWidget(self.mute_button)
        bar.addWidget(self.volume_slider)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.video_widget, 1)
        layout.addLayout(bar)

    def _init_signals(self) -> None:
        mp = self.media_player
        mp.positionChanged.connect(self._on_position_changed)
        mp.durationChanged.connect(self._on_duration_changed)
        mp.playbackStateChanged.connect(self._on_playback_state_changed)
        mp.mediaStatusChanged.connect(self._on_media_status_changed)
        mp.errorOccurred.connect(self._on_error_occurred)
        self.play_button.clicked.connect(self.toggle_play)
        self.back_button.clicked.connect(lambda: self.step_ms(-STEP_MS))
        self.forward_button.clicked.connect(lambda: self.step_ms(STEP_MS))
        self.speed_combo.currentIndexChanged.connect(lambda _i: self.set_rate(self.speed_combo.currentData()))
        self.mute_button.clicked.connect(self.toggle_mute)
        self.volume_slider.valueChanged.connect(self.set_volume_percent)

    # ---- public API ---------------------------------------------------------------------------------------
    @property
    def path(self) -> str | None:
        return self._path

    @property
    def video_sink(self) -> QVideoSink:
        return self.video_widget.videoSink()

    def load(self, path: str | Path, frame_rate: float | None = None) -> None:
        self._path = str(path)
        self._awaiting_load = True
        if frame_rate and frame_rate > 0:
            self._frame_ms = 1000.0 / frame_rate
        set_player_source(self.media_player, QUrl.fromLocalFile(self._path))  # GIL released: see gil_free_calls
        self._update_controls()

    def unload(self) -> None:
        self._path = None
        stop_player(self.media_player)  # GIL released: see gil_free_calls
        clear_player_source(self.media_player)
        self._update_controls()

    def set_frame_rate(self, frame_rate: float) -> None:
        if frame_rate > 0:
            self._frame_ms = 1000.0 / frame_rate

    def position_ms(self) -> int:
        return int(self.media_player.position())

    def duration_ms(self) -> int:
        return int(self.media_player.duration())

    def is_playing(self) -> bool:
        return self.media_player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    @Slot()
    def toggle_play(self) -> None:
        if self._path is None:
            return
        if self.is_playing():
            self.media_player.pause()
        else:
            self.media_player.play()

    @Slot(int)
    def set_position_ms(self, position_ms: int) -> None:
        duration = self.duration_ms()
        position_ms = max(0, int(position_ms))
        if duration > 0:
            position_ms = min(position_ms, duration)
        self.media_player.setPosition(position_ms)

    @Slot(int)
    def step_ms(self, delta_ms: int) -> None:
        self.set_position_ms(self.position_ms() + delta_ms)

    @Slot(int)
    def step_frames(self, num_frames: int) -> None:
        if self.is_playing():
            self.media_player.pause()
        self.set_position_ms(round(self.position_ms() + num_frames * self._frame_ms))

    @Slot(float)
    def set_rate(self, rate: float) -> None:
        self.media_player.setPlaybackRate(float(rate))

    @Slot(int)
    def set_volume_percent(self, volume_percent: int) -> None:
        self.audio_output.setVolume(max(0, min(100, volume_percent)) / 100.0)
        if self.volume_slider.value() != volume_percent:
            self.volume_slider.blockSignals(True)
            self.volume_slider.setValue(volume_percent)
            self.volume_slider.blockSignals(False)

    def volume_percent(self) -> int:
        return round(self.audio_output.volume() * 100)

    @Slot()
    def toggle_mute(self) -> None:
        self.set_muted(not self.audio_output.isMuted())

    def set_muted(self, muted: bool) -> None:
        self.audio_output.setMuted(muted)
        self.mute_button.setIcon(icon("mute" if muted else "volume"))
        self.mute_button.setToolTip("Unmute (M)" if muted else "Mute (M)")

    def is_muted(self) -> bool:
        return self.audio_output.isMuted()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._path is not None and not self._awaiting_load and not self.is_playing():
            self._redraw_timer.start()

    def _redraw_paused_frame(self) -> None:
        """A paused video surface keeps its old-size picture after a resize (seen on X11): seeking to where it is
        makes Qt render the frame again at the new size."""
        if self._path is not None and not self._awaiting_load and not self.is_playing():
            self.media_player.setPosition(self.media_player.position())

    # ---- Qt multimedia callbacks --------------------------------------------------------------------------
    def _on_position_changed(self, position_ms: int) -> None:
        self._update_time_label()
        self.position_ms_changed.emit(int(position_ms))

    def _on_duration_changed(self, duration_ms: int) -> None:
        self._update_time_label()
        self.duration_ms_changed.emit(int(duration_ms))

    def _on_playback_state_changed(self, _state) -> None:
        playing = self.is_playing()
        self.play_button.setIcon(icon("pause" if playing else "play"))
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")
        self.playing_changed.emit(playing)

    def _on_media_status_changed(self, status) -> None:
        # Once per load: stop() reports LoadedMedia again, and pausing from inside stop() deadlocks Qt's FFmpeg backend
        if status == QMediaPlayer.MediaStatus.LoadedMedia and self._path and self._awaiting_load:
            self._awaiting_load = False
            self.media_loaded.emit(self._path)
            if self.media_player.playbackState() != QMediaPlayer.PlaybackState.PlayingState:
                # Paused, not stopped: the first frame shows and seeks show theirs. A player that was paused on the
                # previous video is still "paused" now, and pause() alone then renders nothing (a black picture
                # until play): the seek to 0 makes Qt decode and show the new file's first frame.
                self.media_player.pause()
                self.media_player.setPosition(0)
        elif status == QMediaPlayer.MediaStatus.InvalidMedia:
            self._update_controls()

    def _on_error_occurred(self, _error, message: str) -> None:
        if self._path is not None:
            self.media_failed.emit(message or "The player cannot play this file.")

    def _update_time_label(self) -> None:
        self.time_label.setText(
            f"{format_clock_s(self.position_ms() / 1000)} / {format_clock_s(self.duration_ms() / 1000)}"
        )

    def _update_controls(self) -> None:
        has_media = self._path is not None
        for widget in (self.play_button, self.back_button, self.forward_button, self.speed_combo):
            widget.setEnabled(has_media)
        self._update_time_label()
