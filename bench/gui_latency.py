"""GUI responsiveness of Vidi (a benchmark, not a test).

1. Time to a visible window: a fresh process (Python start-up and imports included) builds the real main window,
   shows it and waits until its native window is exposed; measured from just before the process is spawned.
2. Event-loop stalls: a 5 ms precise QTimer runs on the GUI thread while the real worker thread loads a model,
   samples a segment's frames and streams an answer (the real window, controller and worker). A tick's lateness is
   the time between two ticks minus 5 ms; the worst and the 99th percentile are printed, per phase and overall.

The model: ``--model DIR`` (with ``--device``), else the tiny random-weight Qwen2-VL that the tests build
(tests/fixtures/tiny_vlm.py; nothing is downloaded). Targets: worst stall < 50 ms, window visible < 2 s.

    .venv/bin/python bench/gui_latency.py [--platform offscreen|xcb] [--model DIR] [--device cpu] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TICK_MS = 5

_STARTUP_CHILD = """
import sys, time
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop_app.app import create_main_window
from desktop_app.settings import Settings
settings = Settings.for_file(Path(sys.argv[1]) / "settings.ini")
window = create_main_window(settings, data_folder=Path(sys.argv[1]))
window.show()
deadline = time.monotonic() + 20
while not (window.windowHandle() and window.windowHandle().isExposed()) and time.monotonic() < deadline:
    app.processEvents()
app.processEvents()
print("VISIBLE", time.time(), flush=True)
print("TORCH", "torch" in sys.modules, flush=True)
window.shutdown()
"""


def measure_startup(platform: str, runs: int) -> list[float]:
    times_s = []
    env = dict(os.environ, QT_QPA_PLATFORM=platform, PYTHONPATH=str(ROOT))
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            started = time.time()
            result = subprocess.run([sys.executable, "-c", _STARTUP_CHILD, folder], capture_output=True, text=True,
                                    env=env, timeout=120)
            lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
            if "VISIBLE" not in lines:
                raise RuntimeError(f"the window did not show:\n{result.stderr[-2000:]}")
            times_s.append(float(lines["VISIBLE"]) - started)
            if lines.get("TORCH") != "False":
                print("warning: torch was imported before the window showed")
    return times_s


def make_video(folder: Path, duration_s: float = 20.0) -> Path:
    path = folder / "bench.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=30:duration={duration_s}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={duration_s}", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-g", "60", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )
    return path


class StallMeter:
    """Lateness of a 5 ms timer on the GUI thread, labelled with the phase going on at each tick."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.samples: list[tuple[str, float]] = []
        self.phase = "idle"
        self._last = None
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.samples.append((self.phase, max(0.0, (now - self._last) * 1000 - TICK_MS)))
        self._last = now

    def summary(self, phase: str | None = None) -> tuple[int, float, float]:
        values = sorted(v for p, v in self.samples if phase is None or p == phase)
        if not values:
            return 0, 0.0, 0.0
        p99 = values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))]
        return len(values), values[-1], p99


def measure_stalls(model_dir: str, device: str, num_frames: int, max_new_tokens: int) -> StallMeter:
    from PySide6.QtWidgets import QApplication


    from desktop_app.app import create_main_window
    from desktop_app.chat.exchange import AnswerState
    from desktop_app.settings import Key, Settings

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="vidi-bench-"))
    video = make_video(folder)
    settings = Settings.for_file(folder / "settings.ini")
    for key, value in ((Key.MODEL, model_dir), (Key.DEVICE, device), (Key.LOAD_IN_4BIT, device != "cpu"),
                       (Key.NUM_FRAMES, num_frames), (Key.MAX_NEW_TOKENS, max_new_tokens)):
        settings.set_value(key, value)

    class NoMic:
        def availability(self):
            return False, "benchmark"

        def is_recording(self):
            return False

    window = create_main_window(settings, recorder=NoMic(), data_folder=folder)
    window.show()
    meter = StallMeter()

    def wait(condition, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the benchmark step did not finish")
            app.processEvents()
            time.sleep(0.0005)

    worker = window.controller.client.worker
    worker.load_started.connect(lambda _m: setattr(meter, "phase", "load model"))
    meter.phase = "start: model process, decoders"
    worker.request_started.connect(lambda _r: setattr(meter, "phase", "frames + answer"))
    meter.start()
    wait(lambda: window.controller.capabilities is not None, 120)  # the model process is up and described
    meter.phase = "idle (baseline)"  # nothing of Vidi's runs: what is left is the machine's own noise
    end = time.monotonic() + 3.0
    wait(lambda: time.monotonic() > end, 5)
    meter.phase = "open video"
    window.open_video(str(video))
    wait(lambda: window.timeline.duration_ms() > 0, 30)
    wait(lambda: bool(window.timeline._thumbnails), 30)
    meter.phase = "select + ask"
    window.timeline.set_selection_ms(5000, 15000)
    window.chat.composer.set_text("What happens in this part of the video?")
    window.chat.composer.submit()
    wait(lambda: bool(window.chat.exchange_widgets()), 10)
    exchange = window.chat.exchange_widgets()[-1]
    wait(lambda: exchange.exchange.state.is_final, 600)
    meter.phase = "after answer"
    end = time.monotonic() + 0.3
    wait(lambda: time.monotonic() > end, 1)
    meter.stop()
    if exchange.exchange.state != AnswerState.DONE:
        raise RuntimeError(f"the answer did not complete: {exchange.answer_view.state_label.text()}")
    meter.answer_words = len(exchange.answer_view.text.split())
    meter.torch_in_gui = "torch" in sys.modules
    window.shutdown()
    return meter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    parser.add_argument("--model", help="a model folder (default: the tiny test model, built here)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3, help="start-up measurements")
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    startup_s = measure_startup(args.platform, args.runs)
    print(f"window visible after launch ({args.platform}): median {statistics.median(startup_s):.2f} s, "
          f"runs {', '.join(f'{t:.2f}' for t in startup_s)} s   (target < 2 s)")

    model = args.model
    if model is None:
        model = tempfile.mkdtemp(prefix="vidi-tiny-vlm-")
        subprocess.run([sys.executable, "-c", "import sys; from tests.fixtures.tiny_vlm import build_tiny_vlm; "
                        "build_tiny_vlm(sys.argv[1])", model], check=True, cwd=ROOT, capture_output=True)
        print("model: the tiny random-weight Qwen2-VL test model, CPU (built in another process)")
    meter = measure_stalls(model, args.device, args.frames, args.max_new_tokens)
    print(f"GUI event-loop lateness of a {TICK_MS} ms timer (ms):")
    print(f"  {'phase':<32}{'ticks':>7}{'worst':>9}{'p99':>9}")
    for phase in ("start: model process, decoders", "idle (baseline)", "open video", "select + ask", "load model", "frames + answer", "after answer", None):
        n, worst, p99 = meter.summary(phase)
        if n:
            print(f"  {phase or 'ALL':<32}{n:>7}{worst:>9.1f}{p99:>9.1f}")
    n, worst, p99 = meter.summary()
    verdict = "met" if worst < 50 else "MISSED"
    print(f"machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"worst stall {worst:.1f} ms, p99 {p99:.1f} ms (target worst < 50 ms: {verdict}); "
          f"answer of {meter.answer_words} words; torch imported by the GUI process: {meter.torch_in_gui}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
