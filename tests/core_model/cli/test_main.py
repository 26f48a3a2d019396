"""The ``vidi`` entry points themselves: routing, unknown commands, ``--``, broken pipes, one-line errors and
library noise, through real processes where the behaviour is about a real process (pipes, stderr, exit codes)."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import core_model
from core_model.cli import BROKEN_PIPE_EXIT_CODE, build_parser, main
from core_model.cli import _parse as parse_argv
from core_model.cli import models as cli_models

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", VIDI_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO_ROOT),
               HF_HUB_CACHE=str(tmp_path / "hf-cache"))
    for name in ("VIDI_MODEL", "DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    return env


def _run(args, tmp_path, module="core_model.cli", **kwargs):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=REPO_ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=180, **kwargs)


# ----------------------------------------------------------------------------------------------------------------
# Routing: a typo is an error, never a window
# ----------------------------------------------------------------------------------------------------------------


def test_a_mistyped_command_is_one_line_and_exit_2_and_starts_no_gui(tmp_path):
    code = ("import sys; from desktop_app.launcher import main; rc = main(['frobnicate']); "
            "print('qt imported' if 'PySide6' in sys.modules else 'no qt'); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=_env(tmp_path), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "vidi: error: unknown command 'frobnicate' (choose from ask, convert, models, index, transcript, chapters, library, search)\n"
    assert result.stdout.strip() == "no qt"


def test_a_mistyped_command_through_the_cli_module(tmp_path):
    result = _run(["frobnicate", "--json"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "vidi: error: unknown command 'frobnicate' (choose from ask, convert, models, index, transcript, chapters, library, search)"]


@pytest.mark.parametrize(
    ("argv", "opens_gui"),
    [([], True), (["{video}"], True), (["--model", "frobnicate", "{video}"], True), (["--device", "cpu"], True),
     (["frobnicate"], False), (["missing-video.mp4"], False), (["models", "--help"], False)],
)
def test_the_launcher_opens_the_gui_only_for_nothing_or_an_existing_file(argv, opens_gui, tmp_path, monkeypatch,
                                                                          capsys):
    import desktop_app.app
    from desktop_app import launcher

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a video; the GUI reports that itself")
    argv = [word.format(video=video) for word in argv]
    started = []
    monkeypatch.setattr(desktop_app.app, "run_gui", lambda args: started.append(args) or 0)
    try:
        code = launcher.main(argv)
    except SystemExit as exc:  # --help
        code = exc.code
    assert started == ([argv] if opens_gui else [])
    err = capsys.readouterr().err
    if argv == ["frobnicate"]:
        assert code == 2 and err.startswith("vidi: error: unknown command 'frobnicate'")
    if argv == ["missing-video.mp4"]:
        assert code == 2 and err == ("vidi: error: there is no file 'missing-video.mp4' to open "
                                     "(commands: ask, convert, models, index, transcript, chapters, library, search)\n")


# ----------------------------------------------------------------------------------------------------------------
# "--": a question that starts with "-"
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [(["ask", "v.mp4", "--start", "1", "--end", "2", "--", "-what is this?"], ["v.mp4", "-what is this?"]),
     (["ask", "--json", "v.mp4", "--", "-what?"], ["v.mp4", "-what?"]),
     (["ask", "--image", "a.png", "--", "-what?"], ["-what?"]),
     (["ask", "v.mp4", "--start", "1", "what?"], ["v.mp4", "what?"]),
     (["ask", "--", "v.mp4", "--json"], ["v.mp4", "--json"])],
)
def test_double_dash_makes_the_rest_positional(argv, words):
    assert parse_argv(build_parser(), argv).words == words


def test_an_option_like_word_without_double_dash_is_still_refused(capsys):
    assert main(["ask", "v.mp4", "--start", "1", "-what?"]) == 2
    assert capsys.readouterr().err.strip() == "vidi: error: unrecognized arguments: -what?"


def test_double_dash_question_reaches_the_command_in_a_real_process(tmp_path):
    result = _run(["ask", tmp_path / "nope.mp4", "--start", "1", "--end", "2", "--", "-what is this?"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"vidi: error: video '{tmp_path / 'nope.mp4'}' does not exist"]


# ----------------------------------------------------------------------------------------------------------------
# Broken pipes end quietly
# ----------------------------------------------------------------------------------------------------------------


def _with_closed_stdout(argv, tmp_path) -> tuple[int, str]:
    """Run ``vidi ARGV`` whose reader has gone away before it writes (``| head -c 0``, deterministically)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "core_model.cli", *map(str, argv)], cwd=REPO_ROOT,
                                env=_env(tmp_path), stdout=write_end, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=180)
    return proc.returncode, err


def test_models_list_into_a_closed_pipe_ends_quietly(tmp_path):
    code, err = _with_closed_stdout(["models", "list"], tmp_path)
    assert err == ""  # no traceback, no "Exception ignored ... BrokenPipeError"
    assert code == BROKEN_PIPE_EXIT_CODE


def test_a_streaming_answer_into_a_closed_pipe_ends_quietly(tiny_vlm_dir, video_with_audio, tmp_path):
    code, err = _with_closed_stdout(
        ["ask", video_with_audio, "--start", "0", "--end", "2", "--model", tiny_vlm_dir, "--device", "cpu",
         "--frames", "2", "--max-new-tokens", "5", "What is this?"], tmp_path)
    assert err == ""
    assert code == BROKEN_PIPE_EXIT_CODE


def test_head_reads_the_first_line_and_vidi_ends_quietly(tmp_path):
    shell = f"'{sys.executable}' -m core_model.cli models list | head -1"
    result = subprocess.run(["bash", "-c", shell], cwd=REPO_ROOT, env=_env(tmp_path), capture_output=True, text=True,
                            timeout=180)
    assert result.stdout.split() == ["ID", "SIZE", "4-BIT", "MEMORY", "TAKES", "LICENCE", "STATE"]
    assert result.stderr == ""


# ----------------------------------------------------------------------------------------------------------------
# Any exception: one line (the traceback only with --verbose); library noise only with --verbose
# ----------------------------------------------------------------------------------------------------------------


def _failing_list(args):
    raise ZeroDivisionError("division by zero in a place nobody expected\nsecond line of detail")


def test_an_unexpected_exception_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(cli_models, "run_list", _failing_list)
    assert main(["models", "list"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == ["vidi: error: Unexpected error (ZeroDivisionError): division by zero in a place "
                                "nobody expected (run again with --verbose for the details)"]


@pytest.mark.parametrize("argv", [["--verbose", "models", "list"], ["models", "list", "--verbose"]])
def test_verbose_adds_the_traceback(argv, monkeypatch, capsys):
    monkeypatch.setattr(cli_models, "run_list", _failing_list)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "_failing_list" in err
    assert err.splitlines()[-1] == ("vidi: error: Unexpected error (ZeroDivisionError): division by zero in a place "
                                    "nobody expected")


def _noisy_list(args):
    warnings.warn("a library warning", UserWarning)
    logging.getLogger("bitsandbytes.cextension").warning("a library log line")
    print("the listing")
    return 0


def test_library_warnings_and_log_lines_stay_off_stderr_unless_verbose(monkeypatch, capsys):
    monkeypatch.setattr(cli_models, "run_list", _noisy_list)
    assert main(["models", "list"]) == 0
    quiet = capsys.readouterr()
    assert quiet.out == "the listing\n" and quiet.err == ""
    with pytest.warns(UserWarning, match="a library warning"):  # shown (pytest catches what would be printed)
        assert main(["models", "list", "--verbose"]) == 0
    assert "a library log line" in capsys.readouterr().err


class _Payload:
    """Unpickling this would run a shell command (weights_only=True must refuse it)."""

    def __reduce__(self):
        return (os.system, ("echo PAYLOAD RAN",))


def test_a_malicious_pickle_is_refused_with_one_line(tmp_path):
    evil = tmp_path / "pytorch_model.bin"
    evil.write_bytes(pickle.dumps({"model": {"x": _Payload()}}, protocol=4))  # torch warns about protocol 4 too
    llm = tmp_path / "llama-2-7b-chat-hf"
    llm.mkdir()
    (llm / "config.json").write_text('{"model_type": "llama"}')
    result = _run(["convert", "videollama", "--llm", llm, "--vl", evil, "--eva", evil, "--blip2", evil,
                   "--out", tmp_path / "out"], tmp_path)
    assert result.returncode == 2
    assert "PAYLOAD RAN" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if not line.startswith("reading ")]
    assert errors == [f"vidi: error: EVA file '{evil}' holds Python objects other than tensors and was refused "
                      "(only plain weights are loaded, never code)"]
    assert not (tmp_path / "out").exists()


def test_verbose_lets_the_library_warning_through(tmp_path):
    evil = tmp_path / "evil.bin"
    evil.write_bytes(pickle.dumps({"model": {"x": _Payload()}}, protocol=4))
    llm = tmp_path / "llm"
    llm.mkdir()
    (llm / "config.json").write_text('{"model_type": "llama"}')
    result = _run(["convert", "videollama", "--verbose", "--llm", llm, "--vl", evil, "--eva", evil, "--blip2", evil,
                   "--out", tmp_path / "out"], tmp_path)
    assert result.returncode == 2
    assert "UserWarning" in result.stderr and "pickle protocol" in result.stderr


def test_a_model_folder_with_a_malicious_pickle_is_refused_with_one_line(tiny_vlm_dir, image_png, tmp_path):
    import shutil

    folder = tmp_path / "evil-model"
    shutil.copytree(tiny_vlm_dir, folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps({"x": _Payload()}, protocol=4))
    result = _run(["ask", "--image", image_png, "--model", folder, "--device", "cpu", "What?"], tmp_path)
    assert result.returncode == 2  # a ModelLoadError, not an unexpected one
    assert "PAYLOAD RAN" not in result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("vidi: error: "), result.stderr
    assert "hold code, which Vidi never runs" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--start", "999"], "past the end of the video"),
     (["--image", "missing.png"], "image 'missing.png' does not exist")],
)
def test_checks_that_need_no_model_come_before_loading_one(args, message, video_with_audio, tmp_path):
    result = _run(["ask", video_with_audio, *args, "--model", tmp_path / "no-such-model", "What?"], tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "no-such-model" not in result.stderr
