"""A screenshot of the real Vidi window: a generated video, a selected segment and an answered question.

Runs Vidi's real window on an X server (starts Xvfb itself when there is no $DISPLAY) and grabs the X root window,
since QWidget.grab() leaves the video area blank (the video has its own native surface). The answer comes from a
small scripted backend (no model weights exist here) unless ``--model DIR`` names a model folder.

    .venv/bin/python packaging/screenshot.py [--output bench/out/vidi-screenshot.png] [--theme light|dark]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTION = "What happens in this part of the video?"
ANSWER = """The segment shows a **test pattern** moving across the frame:

- At **0:05** the colour bars slide to the left while the circle in the middle keeps turning.
- Around 0:07-0:08 the moving gradient crosses the lower third; the counter in the corner keeps running.
- A steady **440 Hz tone** plays throughout, with no speech.

Nothing else enters the picture; the scene ends as it began at 0:09."""


class ScriptedBackend:
    """Answers every question with ANSWER, word by word (the Backend protocol, for pictures only)."""

    def __init__(self, spec) -> None:
        from core_model.backends.base import CancelToken, Capabilities, RunInfo

        self.model_id = "Qwen2.5-VL-7B-Instruct (scripted)"
        self.device = "cuda"
        self.load_in_4bit = True
        self.notice = ""
        self.capabilities = Capabilities(video=True, audio=True, image=True)
        self.last_run = RunInfo(model_id=self.model_id)
        self._cancel = CancelToken()

    def load(self, progress=None) -> None:
        if progress:
            progress(1.0, "ready")

    def describe(self):
        from core_model.backends.base import BackendInfo

        return BackendInfo(self.model_id, self.capabilities, self.device, load_in_4bit=True, dtype="bfloat16",
                           loaded=True)

    def answer(self, conversation, options=None):
        from core_model.backends.base import RunInfo, SegmentRef

        segment = next(m for m in conversation[-1].media if isinstance(m, SegmentRef))
        n = options.num_frames if options else 8
        times = [segment.start_s + (segment.end_s - segment.start_s) * (i + 0.5) / n for i in range(n)]
        self.last_run = RunInfo(model_id=self.model_id, frame_timestamps_s=times, used_audio=True, total_s=2.4)
        for word in ANSWER.split(" "):
            time.sleep(0.004)
            yield word + " "

    def cancel(self) -> None:
        self._cancel.cancel()

    def unload(self) -> None:
        pass

    def abort(self) -> None:
        self._cancel.cancel()

    def memory_estimate(self):
        from core_model.backends.base import MemoryEstimate

        return MemoryEstimate(device="cuda")


def ensure_display() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    if shutil.which("Xvfb") is None:
        sys.exit("screenshot: no $DISPLAY and no Xvfb (apt-get install xvfb)")
    display = ":97"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    os.environ["DISPLAY"] = display
    return server


def make_video(folder: Path) -> Path:
    path = folder / "Test pattern.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=14",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=14", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description="Screenshot of the Vidi window")
    parser.add_argument("--output", default=str(ROOT / "bench" / "out" / "vidi-screenshot.png"))
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    parser.add_argument("--model", help="a model folder to answer instead of the scripted backend")
    args = parser.parse_args()
    server = ensure_display()
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    try:
        return shoot(args)
    finally:
        if server is not None:
            server.terminate()


def shoot(args) -> int:
    import desktop_app  # noqa: F401  (binding fixes first)
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import create_main_window
    from desktop_app.settings import Key, Settings

    app = QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="vidi-shot-"))
    video = make_video(folder)
    settings = Settings.for_file(folder / "settings.ini")
    settings.set_value(Key.MODEL, args.model or "Qwen2.5-VL-7B-Instruct")
    settings.set_value(Key.THEME, args.theme)
    settings.set_value(Key.DEVICE, "auto" if args.model else "cuda")

    class NoMic:
        def availability(self):
            return False, "No microphone found."

        def is_recording(self):
            return False

    window = create_main_window(settings, backend_factory=None if args.model else ScriptedBackend,
                                recorder=NoMic(), data_folder=folder)
    window.resize(1400, 860)
    window.move(20, 20)
    window.show()

    def wait(condition, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("screenshot: a step did not finish")
            app.processEvents()
            time.sleep(0.005)

    window.open_video(str(video))
    wait(lambda: window.player.duration_ms() > 0 and bool(window.timeline._thumbnails), 30)
    window.timeline.set_selection_ms(4000, 9500)
    window.video.seek_to_ms(6200)
    window.chat.composer.set_text(QUESTION)
    window.chat.composer.submit()
    wait(lambda: bool(window.chat.exchange_widgets()) and window.chat.exchange_widgets()[-1].exchange.state.is_final,
         300)
    exchange = window.chat.exchange_widgets()[-1]
    wait(lambda: exchange.question_view.num_frame_thumbs > 0, 30)
    window.chat.composer.set_text("And where does the circle go next?")
    end = time.monotonic() + 1.5  # let the video frame and the last paints land
    wait(lambda: time.monotonic() > end, 5)
    screen = QGuiApplication.primaryScreen()
    frame = window.frameGeometry()
    image = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(output))
    print(f"saved {output} ({image.width()}x{image.height()})")
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
