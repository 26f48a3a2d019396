"""The ``vidi`` entry point: ``vidi [VIDEO]`` starts the GUI, ``vidi ask|convert|models ...`` runs the CLI.

Kept free of Qt and torch imports at module level so the CLI starts fast and runs without a display.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from core_model.cli import SUBCOMMAND_MODULES
    from core_model.cli import main as cli_main

    if argv and argv[0] == "--self-test":  # installer check: packaging/README.md
        from desktop_app.self_test import main as self_test_main

        return self_test_main(argv[1:])
    if argv and (argv[0] in SUBCOMMAND_MODULES or argv[0] in ("-h", "--help", "--version")):
        return cli_main(argv)
    try:
        from desktop_app.app import run_gui
    except ModuleNotFoundError as exc:
        if exc.name != "desktop_app.app":
            raise
        return cli_main(argv or ["--help"])  # no GUI yet: print the CLI's help
    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
