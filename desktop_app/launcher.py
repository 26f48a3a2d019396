"""The ``vidi`` entry point: ``vidi [VIDEO]`` starts the GUI, ``vidi ask|convert|models ...`` runs the CLI.

    vidi                      the window
    vidi talk.mp4             the window, with that video open (GUI options such as --model/--device may come first)
    vidi ask|convert|models   the command line (core_model.cli)
    vidi frobnicate           an error: one line, exit code 2, and no window (a typo must not open the GUI)
    vidi missing.mp4          the same for a file that is not there

Kept free of Qt and torch imports at module level so the CLI starts fast and runs without a display.
"""

from __future__ import annotations

import sys
from pathlib import Path

GUI_OPTIONS_WITH_VALUE = ("--model", "--device")
"""desktop_app.app's options that take a value: the word after them is not the video."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from core_model.cli import command_names
    from core_model.cli import main as cli_main

    if argv and argv[0] == "--self-test":  # installer check: packaging/README.md
        from desktop_app.self_test import main as self_test_main

        return self_test_main(argv[1:])
    word = first_positional(argv)
    commands = command_names()
    if word in commands or (argv and argv[0] in ("-h", "--help", "--version")):
        return cli_main(argv)
    if word is not None and not Path(word).exists():
        if Path(word).suffix or "/" in word or "\\" in word:  # meant as a file
            print(f"vidi: error: there is no file '{word}' to open (commands: {', '.join(commands)})",
                  file=sys.stderr)
            return 2
        return cli_main([word])  # neither a command nor a file: the CLI says "unknown command ..." (exit 2)
    try:
        from desktop_app.app import run_gui
    except ModuleNotFoundError as exc:
        if exc.name != "desktop_app.app":
            raise
        return cli_main(argv or ["--help"])  # no GUI yet: print the CLI's help
    return run_gui(argv)


def first_positional(argv: list[str]) -> str | None:
    """The first word that is neither an option nor an option's value: a subcommand or the video to open."""
    skip_next = False
    for word in argv:
        if skip_next:
            skip_next = False
        elif word in GUI_OPTIONS_WITH_VALUE:
            skip_next = True
        elif not word.startswith("-"):
            return word
    return None


if __name__ == "__main__":
    sys.exit(main())
