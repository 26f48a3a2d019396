"""``vidi --self-test``: checks that this installation of Vidi (a clone, a wheel or a frozen installer build) works.

Each check imports one part and makes it do a minimal piece of real work:

- ``qt``          PySide6 loads, a QApplication starts (offscreen when there is no screen), the image-format plugins
                  read PNG/JPEG/WebP/GIF/SVG, and the app icon in ``resources/`` renders.
- ``multimedia``  QtMultimedia's FFmpeg backend loads and decodes a frame of a short video made here.
- ``torch``       torch, torchvision and torchaudio load; a matrix product runs on the device found (CUDA, MPS or
                  CPU) and agrees with the CPU; torchaudio's Kaldi filterbank runs.
- ``media``       the media pipeline (``core_model.media``) probes that video and returns frames, audio and an image.
- ``model code``  the model code (``core_model.backends``, transformers, accelerate, bitsandbytes) loads, the backend
                  class for Qwen2-VL-style folders imports, and a tiny random-weight Llama generates on the device.

``--model DIR`` also loads that model folder through the real backend and answers a question about the video.
Nothing is downloaded. Prints one line per check, the versions and the device found; exits 0 when every check
passed and 1 otherwise.

Usage::

    vidi --self-test [--model DIR] [--device auto|cpu|cuda|mps] [--question TEXT]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

VIDEO_SECONDS = 2.0
VIDEO_FPS = 8
VIDEO_SIZE = (96, 64)  # width, height


class CheckFailed(Exception):
    """A check ran but what it found is wrong; the message says what."""


class _Context:
    """What the checks share: the work folder, the generated media, the device and the report lines."""

    def __init__(self, args: argparse.Namespace, out) -> None:
        self.args = args
        self.out = out
        self.workdir = Path(tempfile.mkdtemp(prefix="vidi-self-test-"))
        self.video_path: Path | None = None
        self.image_path: Path | None = None
        self.device = "cpu"
        self.device_line = "cpu"
        self.qt_app = None


# ----------------------------------------------------------------------------------------------------------------
# Test media, made here with PyAV (a Vidi dependency): no ffmpeg binary, no files shipped.
# ----------------------------------------------------------------------------------------------------------------


def _make_video(path: Path) -> None:
    """A VIDEO_SECONDS-long H.264 (or MPEG-4) clip with a moving bar and a 440 Hz AAC tone."""
    import av
    import numpy as np

    width, height = VIDEO_SIZE
    with av.open(str(path), "w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        video = container.add_stream(codec, rate=VIDEO_FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=16000)
        audio.layout = "mono"
        num_frames = int(VIDEO_SECONDS * VIDEO_FPS)
        for index in range(num_frames):
            pixels = np.zeros((height, width, 3), np.uint8)
            pixels[:, :, 2] = 40 + index * 10
            x = index * (width - 8) // max(num_frames - 1, 1)
            pixels[:, x : x + 8, :] = 255
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        samples = int(VIDEO_SECONDS * 16000)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)
        chunk = 1024
        for start in range(0, samples, chunk):
            piece = tone[start : start + chunk].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(piece, format="flt", layout="mono")
            frame.sample_rate = 16000
            frame.pts = start
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)


def _media(ctx: _Context) -> tuple[Path, Path]:
    if ctx.video_path is None:
        ctx.video_path = ctx.workdir / "self-test.mp4"
        _make_video(ctx.video_path)
        from PIL import Image

        ctx.image_path = ctx.workdir / "self-test.png"
        Image.new("RGB", (48, 32), (200, 30, 30)).save(ctx.image_path)
    assert ctx.image_path is not None
    return ctx.video_path, ctx.image_path


# ----------------------------------------------------------------------------------------------------------------
# The checks. Each returns a one-line summary or raises.
# ----------------------------------------------------------------------------------------------------------------


def check_qt(ctx: _Context) -> str:
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")  # keep the report readable
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import PySide6
    from PySide6.QtCore import qVersion
    from PySide6.QtGui import QGuiApplication, QIcon, QImageReader
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["vidi-self-test"])
    ctx.qt_app = app
    formats = {bytes(name).decode() for name in QImageReader.supportedImageFormats()}
    missing = [name for name in ("png", "jpg", "webp", "gif", "bmp", "svg") if name not in formats]
    if missing:
        raise CheckFailed(f"Qt image-format plugins missing for: {', '.join(missing)}")
    icon_note = "no app icon found"
    for icon_path in _app_icon_candidates():
        if icon_path.is_file():
            pixmap = QIcon(str(icon_path)).pixmap(64, 64)
            if pixmap.isNull():
                raise CheckFailed(f"the app icon {icon_path.name} does not render")
            icon_note = f"icon {icon_path.name} renders"
            break
    return (
        f"PySide6 {PySide6.__version__}, Qt {qVersion()}, platform '{QGuiApplication.platformName()}', "
        f"{len(formats)} image formats, {icon_note}"
    )


def _app_icon_candidates() -> list[Path]:
    try:
        from desktop_app.resources import resources_dir

        root = resources_dir()
    except Exception:  # noqa: BLE001 - fall back to the layouts we know
        frozen = getattr(sys, "_MEIPASS", None)
        root = Path(frozen) / "resources" if frozen else Path(__file__).resolve().parent.parent / "resources"
    icons = root / "icons"
    return [icons / "vidi.svg", icons / "app.svg", icons / "vidi.png"]


def check_multimedia(ctx: _Context) -> str:
    from PySide6.QtCore import QEventLoop, QTimer, QUrl
    from PySide6.QtMultimedia import QAudioOutput, QMediaFormat, QMediaPlayer, QVideoSink
    from PySide6.QtMultimediaWidgets import QVideoWidget  # noqa: F401  (the widget the player uses)

    if ctx.qt_app is None:
        raise CheckFailed("Qt did not start (see the qt check)")
    video_path, _ = _media(ctx)
    if not QMediaFormat().supportedFileFormats(QMediaFormat.ConversionMode.Decode):
        raise CheckFailed("QtMultimedia can decode no file format: its FFmpeg backend plugin did not load")

    player = QMediaPlayer()
    audio_output = QAudioOutput()
    audio_output.setMuted(True)
    player.setAudioOutput(audio_output)
    sink = QVideoSink()
    player.setVideoSink(sink)
    frames: list[tuple[int, int]] = []
    errors: list[str] = []
    loop = QEventLoop()

    def on_frame(frame) -> None:
        if frame.isValid() and not frames:
            frames.append((frame.width(), frame.height()))
            loop.quit()

    def on_error(_error, message: str) -> None:
        errors.append(message or str(_error))
        loop.quit()

    sink.videoFrameChanged.connect(on_frame)
    player.errorOccurred.connect(on_error)
    QTimer.singleShot(10_000, loop.quit)
    player.setSource(QUrl.fromLocalFile(str(video_path)))
    player.play()
    if not frames and not errors:
        loop.exec()
    player.stop()
    if errors:
        raise CheckFailed(f"QMediaPlayer error: {errors[0]}")
    if not frames:
        raise CheckFailed("QMediaPlayer delivered no video frame within 10 s")
    width, height = frames[0]
    return f"FFmpeg backend plays a generated H.264 clip ({width}x{height} frame received)"


def _pick_device(requested: str):
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    return requested


def check_torch(ctx: _Context) -> str:
    import torch
    import torchaudio
    import torchvision

    ctx.device = _pick_device(ctx.args.device)
    device = torch.device(ctx.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise CheckFailed(f"CUDA was asked for, but torch {torch.__version__} sees no CUDA GPU")
        props = torch.cuda.get_device_properties(0)
        free, total = torch.cuda.mem_get_info(0)
        ctx.device_line = (
            f"cuda:0 {props.name}, {total / 2**30:.1f} GiB ({free / 2**30:.1f} GiB free), "
            f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}"
        )
    elif device.type == "mps":
        ctx.device_line = "mps (Apple GPU)"
    else:
        cuda_note = f"CUDA {torch.version.cuda} build, no CUDA GPU found" if torch.version.cuda else "CPU-only build"
        ctx.device_line = f"cpu ({torch.get_num_threads()} threads; {cuda_note})"

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(64, 64, generator=generator)
    b = torch.randn(64, 64, generator=generator)
    expected = a @ b
    got = (a.to(device) @ b.to(device)).cpu()
    if not torch.allclose(got, expected, atol=1e-2, rtol=1e-2):
        raise CheckFailed(f"a matrix product on {ctx.device} disagrees with the CPU")

    from torchaudio.compliance import kaldi

    wave = torch.sin(torch.arange(32000) * (2 * torch.pi * 440 / 16000)).unsqueeze(0)
    fbank = kaldi.fbank(wave, sample_frequency=16000, num_mel_bins=128, frame_length=25, frame_shift=10)
    if fbank.shape[1] != 128:
        raise CheckFailed(f"torchaudio fbank returned shape {tuple(fbank.shape)}")
    return (
        f"torch {torch.__version__} (CUDA {torch.version.cuda or 'none'}), torchvision {torchvision.__version__}, "
        f"torchaudio {torchaudio.__version__}; matmul on {ctx.device} ok"
    )


def check_media(ctx: _Context) -> str:
    import av
    import cv2

    from core_model import media

    try:
        import decord

        decord_note = f"decord {decord.__version__}"
    except ImportError:  # no macOS arm64 wheel: the pipeline decodes with PyAV there
        if sys.platform != "darwin":
            raise
        decord_note = "decord not installed (PyAV decodes)"

    video_path, image_path = _media(ctx)
    info = media.probe(str(video_path))
    if abs(info.duration_s - VIDEO_SECONDS) > 0.5 or (info.width, info.height) != VIDEO_SIZE:
        raise CheckFailed(f"probe read {info.duration_s:.2f} s {info.width}x{info.height}, expected "
                          f"{VIDEO_SECONDS} s {VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}")
    frames, timestamps = media.sample_frames(str(video_path), 0.5, 1.5, 4)
    if tuple(frames.shape) != (4, VIDEO_SIZE[1], VIDEO_SIZE[0], 3) or len(timestamps) != 4:
        raise CheckFailed(f"sample_frames returned {tuple(frames.shape)} with {len(timestamps)} timestamps")
    audio = media.load_audio(str(video_path), 0.5, 1.5)
    if audio is None or abs(len(audio) - 16000) > 1600:
        raise CheckFailed(f"load_audio returned {None if audio is None else len(audio)} samples for 1 s")
    image = media.load_image(str(image_path))
    if tuple(image.shape) != (32, 48, 3):
        raise CheckFailed(f"load_image returned shape {tuple(image.shape)}")
    return (
        f"probe/sample_frames/load_audio/load_image ok ({info.video_codec}, {len(audio)} audio samples); "
        f"PyAV {av.__version__}, {decord_note}, OpenCV {cv2.__version__}"
    )


def check_model_code(ctx: _Context) -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import accelerate
    import torch
    import transformers

    import core_model.backends as backends

    backend_class = backends.backend_class_for("qwen2_vl")
    try:
        import bitsandbytes

        bnb_note = f"bitsandbytes {bitsandbytes.__version__}"
    except Exception as exc:  # noqa: BLE001 - 4-bit is optional on some platforms (macOS)
        if ctx.device == "cuda":
            raise CheckFailed(f"bitsandbytes (4-bit on CUDA) does not load: {exc}") from exc
        bnb_note = f"bitsandbytes unavailable ({type(exc).__name__})"

    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(ctx.device).eval()
    prompt = torch.tensor([[1, 5, 9, 13]], device=ctx.device)
    with torch.no_grad():
        output = model.generate(prompt, max_new_tokens=4, do_sample=False, pad_token_id=0)
    if output.shape[1] != 8:
        raise CheckFailed(f"a tiny Llama generated {output.shape[1] - 4} tokens instead of 4")
    return (
        f"transformers {transformers.__version__}, accelerate {accelerate.__version__}, {bnb_note}; "
        f"{backend_class.__name__} imports; tiny Llama generates on {ctx.device}"
    )


def check_answer(ctx: _Context) -> str:
    """With --model: the real backend loads the folder and answers about the generated video."""
    from core_model.backends import GenerationOptions, SegmentRef, Turn, load_backend

    video_path, _ = _media(ctx)
    backend = load_backend(ctx.args.model, device=ctx.device)
    started = time.perf_counter()
    backend.load()
    loaded_s = time.perf_counter() - started
    segment = SegmentRef(str(video_path), 0.0, VIDEO_SECONDS, include_audio=False)
    question = Turn("user", ctx.args.question, (segment,))
    pieces = list(backend.answer([question], GenerationOptions(max_new_tokens=12, num_frames=4)))
    backend.unload()
    answer = "".join(pieces).strip()
    if not answer:
        raise CheckFailed("the model answered nothing")
    return f"{backend.model_id or ctx.args.model}: loaded in {loaded_s:.1f} s, answered {answer!r}"


CHECKS: list[tuple[str, Callable[[_Context], str]]] = [
    ("qt", check_qt),
    ("multimedia", check_multimedia),
    ("torch", check_torch),
    ("media", check_media),
    ("model code", check_model_code),
]


# ----------------------------------------------------------------------------------------------------------------


def _output_stream():
    """stdout; in a windowed build with no console (vidi.exe, Vidi.app) a text file in the temp folder instead."""
    if sys.stdout is not None and not getattr(sys, "_vidi_no_console", False):
        return sys.stdout, None
    path = Path(tempfile.gettempdir()) / "vidi-self-test.txt"
    return open(path, "w", encoding="utf-8"), path  # noqa: SIM115 - closed in main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vidi --self-test", description="Check that this Vidi installation works.")
    parser.add_argument("--model", help="also load this model folder and answer a question about a generated video")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--question", default="What happens in this video?")
    parser.add_argument("--verbose", action="store_true", help="print the traceback of a failed check")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    out, out_path = _output_stream()
    ctx = _Context(args, out)

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    from core_model import __version__

    frozen = "frozen (installer build)" if getattr(sys, "frozen", False) else "from source"
    say(f"Vidi {__version__} self-test: Python {platform.python_version()}, {platform.platform()}, {frozen}")
    checks = list(CHECKS) + ([("answer", check_answer)] if args.model else [])
    failed = 0
    started = time.perf_counter()
    for name, check in checks:
        check_started = time.perf_counter()
        try:
            summary = check(ctx)
            status = "ok  "
        except Exception as exc:  # noqa: BLE001 - every failure is reported, the other checks still run
            failed += 1
            status = "FAIL"
            summary = f"{type(exc).__name__}: {exc}" if not isinstance(exc, CheckFailed) else str(exc)
            if args.verbose:
                summary += "\n" + traceback.format_exc()
        say(f"  {status}  {name:<10} {summary}  [{time.perf_counter() - check_started:.1f} s]")
    say(f"device: {ctx.device_line}")
    total = len(checks)
    verdict = "passed" if not failed else f"FAILED ({failed} of {total} checks)"
    say(f"self-test {verdict} in {time.perf_counter() - started:.1f} s")
    if out_path is not None:
        out.close()
    _cleanup(ctx)
    return 0 if not failed else 1


def _cleanup(ctx: _Context) -> None:
    import shutil

    shutil.rmtree(ctx.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
