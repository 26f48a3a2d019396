"""Media work off the GUI thread with core_model.media: probing a file, the timeline strip, a question's frames.

A ``ThumbnailWorker`` lives on its own QThread; jobs arrive through queued signals and results go back as QImages
(QImage, unlike QPixmap, may be made on any thread). Every job carries a key, so a result for a video that is no
longer open can be ignored.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot
from PySide6.QtGui import QImage

log = logging.getLogger(__name__)

STRIP_TILE_HEIGHT_PX = 64
FRAME_THUMB_HEIGHT_PX = 72


def _to_qimages(frames, height_px: int) -> list[QImage]:
    """uint8 [N, H, W, 3] RGB -> N QImages scaled to ``height_px`` (deep copies: independent of numpy)."""
    images = []
    for frame in frames:
        h, w = int(frame.shape[0]), int(frame.shape[1])
        data = frame.copy(order="C")
        image = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        images.append(image.scaledToHeight(height_px, Qt.TransformationMode.SmoothTransformation).copy())
    return images


class ThumbnailWorker(QObject):
    probed = Signal(str, object)  # path, core_model.media.MediaInfo
    probe_failed = Signal(str, str)  # path, message for the user
    strip_ready = Signal(str, list)  # path, list[QImage] spread over the whole video
    frames_ready = Signal(object, list, list)  # key, list[QImage] for the asked timestamps, those times_s
    failed = Signal(object, str)  # key (path for strips), message

    @Slot()
    def warm_up(self) -> None:
        """Import the decoders now (loading their libraries holds the GIL for tens of ms), not at the first open."""
        try:
            import core_model.media  # noqa: F401
        except Exception:  # noqa: BLE001  (the first real job reports what is wrong)
            log.debug("media import failed", exc_info=True)

    @Slot(str)
    def probe(self, path: str) -> None:
        try:
            from core_model.media import probe

            self.probed.emit(path, probe(path))
        except Exception as exc:  # noqa: BLE001  (MediaError has the plain-words message; anything else too)
            self.probe_failed.emit(path, str(exc) or type(exc).__name__)

    @Slot(str, int)
    def make_strip(self, path: str, num_tiles: int) -> None:
        try:
            from core_model.media import sample_frames

            frames, _times = sample_frames(path, None, None, max(1, num_tiles))
            self.strip_ready.emit(path, _to_qimages(frames, STRIP_TILE_HEIGHT_PX))
        except Exception as exc:  # noqa: BLE001  (a bad file must not end the thread)
            log.info("no thumbnails for %s: %s", path, exc)
            self.failed.emit(path, str(exc))

    @Slot(object, str, list)
    def make_frames(self, key: object, path: str, times_s: list) -> None:
        """The frames shown at each of ``times_s`` (a tiny window around each time, so exactly that frame)."""
        try:
            from core_model.media import sample_frames

            images = []
            for time_s in times_s:
                start_s = max(0.0, float(time_s))
                frames, _ = sample_frames(path, start_s, start_s + 0.002, 1)
                images += _to_qimages(frames, FRAME_THUMB_HEIGHT_PX)
            self.frames_ready.emit(key, images, list(times_s))
        except Exception as exc:  # noqa: BLE001
            log.info("no frame thumbnails for %s: %s", path, exc)
            self.failed.emit(key, str(exc))


class ThumbnailService(QObject):
    """GUI-side owner of the thumbnail thread."""

    probed = Signal(str, object)
    probe_failed = Signal(str, str)
    strip_ready = Signal(str, list)
    frames_ready = Signal(object, list, list)
    _probe_requested = Signal(str)
    _warm_up_requested = Signal()
    _strip_requested = Signal(str, int)
    _frames_requested = Signal(object, str, list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("vidi-thumbnails")
        self.worker = ThumbnailWorker()
        self.worker.moveToThread(self.thread)
        self._probe_requested.connect(self.worker.probe)
        self._warm_up_requested.connect(self.worker.warm_up)
        self._strip_requested.connect(self.worker.make_strip)
        self.worker.probed.connect(self._on_probed)
        self.worker.probe_failed.connect(self._on_probe_failed)
        self._frames_requested.connect(self.worker.make_frames)
        self.worker.strip_ready.connect(self._on_strip_ready)
        self.worker.frames_ready.connect(self._on_frames_ready)
        self.thread.start()

    def warm_up(self) -> None:
        self._warm_up_requested.emit()

    def request_probe(self, path: str) -> None:
        self._probe_requested.emit(path)

    def request_strip(self, path: str, num_tiles: int = 24) -> None:
        self._strip_requested.emit(path, num_tiles)

    def request_frames(self, key: object, path: str, times_s: list[float]) -> None:
        self._frames_requested.emit(key, path, list(times_s))

    def _on_probed(self, path: str, info: object) -> None:
        self.probed.emit(path, info)

    def _on_probe_failed(self, path: str, message: str) -> None:
        self.probe_failed.emit(path, message)

    def _on_strip_ready(self, path: str, images: list) -> None:
        self.strip_ready.emit(path, images)

    def _on_frames_ready(self, key: object, images: list, times_s: list) -> None:
        self.frames_ready.emit(key, images, times_s)

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        self.thread.quit()
        return self.thread.wait(timeout_ms)
