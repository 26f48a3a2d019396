"""The ``vidi`` command line (everything but the GUI). Runs in a plain script: ``python -m core_model.cli``.

Each subcommand lives in its own module exposing ``register(subparsers)``; its parser sets ``func`` to a
callable ``func(args) -> int``. Errors meant for the user are raised as ``CliError`` (or the backend/media
errors) and become one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from core_model.errors import UsageError

SUBCOMMAND_MODULES = ("ask", "convert", "models", "index", "index_views")
"""Modules in this package that add a subcommand; a module not written yet is skipped."""


class CliError(UsageError):
    """A bad argument or input, reported as one line on stderr with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + exits 2; keep the one-line promise
        raise CliError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vidi", description="Vidi: ask a local model about your own videos and images.")
    parser.add_argument("--version", action="version", version=f"vidi {_version()}")
    subparsers = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"core_model.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"core_model.cli.{name}":
                continue
            raise
        module.register(subparsers)
    return parser


def _version() -> str:
    from core_model import __version__

    return __version__


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """parse_args, but positionals may come after options too (``ask VIDEO --start 1:05 "question"``).

    argparse takes a subcommand's positionals in one run; a subcommand that sets the default
    ``intermixed_positionals=DEST`` (DEST having nargs="*") gets later positional words appended to DEST.
    """
    args, extras = parser.parse_known_args(argv)
    if extras:
        dest = getattr(args, "intermixed_positionals", None)
        if dest is None or any(word.startswith("-") and word != "-" for word in extras):
            raise CliError(f"unrecognized arguments: {' '.join(extras)}")
        setattr(args, dest, list(getattr(args, dest) or []) + extras)
    return args


def main(argv: list[str] | None = None) -> int:
    from core_model.errors import VidiError

    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args = _parse(parser, argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 0
        return int(args.func(args) or 0)
    except VidiError as exc:  # CliError, BackendError, MediaError, StoreError...: all one line
        print(f"vidi: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vidi: interrupted", file=sys.stderr)
        return 130
    finally:
        _print_notices()


def _print_notices() -> None:
    """What core_model noticed on the way (e.g. a damaged model list kept aside): one line each, once."""
    from core_model.models.registry import take_notices

    for notice in take_notices():
        print(f"vidi: warning: {notice}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
