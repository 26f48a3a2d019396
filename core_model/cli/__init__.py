"""The ``vidi`` command line (everything but the GUI). Runs in a plain script: ``python -m core_model.cli``.

Each subcommand lives in its own module exposing ``register(subparsers)``; its parser sets ``func`` to a
callable ``func(args) -> int``. Errors meant for the user are raised as ``CliError`` (or any other
``core_model.errors.VidiError``) and become one line on stderr with exit code 2; any other exception is a bug and
becomes one line with exit code 1. ``--verbose`` (before or after the subcommand) adds the traceback and lets the
libraries' log lines through (core_model/cli/quiet.py). A closed output pipe (``| head``) ends quietly with 141.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from core_model.errors import UsageError

SUBCOMMAND_MODULES = ("ask", "convert", "models", "index", "index_views", "library", "search")
"""Modules in this package that add a subcommand; a module not written yet is skipped."""


def command_names(parser: argparse.ArgumentParser | None = None) -> tuple[str, ...]:
    """The subcommands the CLI has (``ask``, ``models``, ``transcript``, ...), as the subcommand modules register them."""
    parser = parser or build_parser()
    for action in parser._actions:  # argparse keeps its subparsers here; there is no public accessor
        if isinstance(action, argparse._SubParsersAction):
            return tuple(action.choices)
    return ()


class CliError(UsageError):
    """A bad argument or input, reported as one line on stderr with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + exits 2; keep the one-line promise
        raise CliError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vidi", description="Vidi: ask a local model about your own videos and images.")
    parser.add_argument("--version", action="version", version=f"vidi {_version()}")
    parser.add_argument("--verbose", action="store_true",
                        help="show library log lines and warnings, and the traceback of an error "
                             "(also accepted after the subcommand)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
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


def _take_verbose(argv: list[str]) -> tuple[bool, list[str]]:
    """(whether ``--verbose`` was given anywhere before ``--``, argv without it): a global flag that may also
    follow the subcommand (``vidi ask --verbose ...``) without every subparser declaring it."""
    end = argv.index("--") if "--" in argv else len(argv)
    options = [word for word in argv[:end] if word != "--verbose"]
    return len(options) != end, options + argv[end:]


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """parse_args, but positionals may come after options too (``ask VIDEO --start 1:05 "question"``).

    argparse takes a subcommand's positionals in one run; a subcommand that sets the default
    ``intermixed_positionals=DEST`` (DEST having nargs="*") gets later positional words appended to DEST.
    Words after ``--`` are positionals even when they start with "-" (``ask v.mp4 -- "-what is this?"``): they are
    split off before argparse sees them, because argparse drops a ``--`` that comes after the first positional run.
    """
    command = next((word for word in argv if not word.startswith("-")), None)
    commands = command_names(parser)
    if command is not None and command not in commands:
        raise CliError(f"unknown command '{command}' (choose from {', '.join(commands)})")
    after_dashes: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, after_dashes = argv[:cut], argv[cut + 1:]
    args, extras = parser.parse_known_args(argv)
    if extras or after_dashes:
        dest = getattr(args, "intermixed_positionals", None)
        options = [word for word in extras if word.startswith("-") and word != "-"]
        if dest is None or options:
            raise CliError(f"unrecognized arguments: {' '.join(options or extras or after_dashes)}")
        setattr(args, dest, list(getattr(args, dest) or []) + extras + after_dashes)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run one command; every error becomes one line on stderr (exit 2 for Vidi's errors, 1 for a bug)."""
    from core_model.cli.quiet import library_output

    argv = sys.argv[1:] if argv is None else list(argv)
    verbose, argv = _take_verbose(argv)
    parser = build_parser()
    command = next((word for word in argv if not word.startswith("-")), None)
    with library_output(verbose, command):
        try:
            args = _parse(parser, argv)
            args.verbose = verbose
            if getattr(args, "func", None) is None:
                parser.print_help()
                code = 0
            else:
                code = int(args.func(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush
            return code
        except BrokenPipeError:
            return _broken_pipe()
        except KeyboardInterrupt:
            print("vidi: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # noqa: BLE001  the promise: one line, never a traceback (unless --verbose)
            return _report(exc, verbose)
        finally:
            _print_notices()


def _print_notices() -> None:
    """What core_model noticed on the way (e.g. a damaged model list kept aside): one line each, once."""
    from core_model.models.registry import take_notices

    try:
        for notice in take_notices():
            print(f"vidi: warning: {notice}", file=sys.stderr)
    except (BrokenPipeError, OSError):
        pass


def _report(exc: Exception, verbose: bool) -> int:
    from core_model.errors import VidiError, user_message

    if verbose:
        traceback.print_exc()
    hint = "" if verbose or isinstance(exc, VidiError) else " (run again with --verbose for the details)"
    try:
        print(f"vidi: error: {user_message(exc)}{hint}", file=sys.stderr)
    except BrokenPipeError:
        pass
    return 2 if isinstance(exc, VidiError) else 1


BROKEN_PIPE_EXIT_CODE = 141
"""128 + SIGPIPE: what a shell reports for a command whose reader went away (``vidi models list | head -1``)."""


def _broken_pipe() -> int:
    """The reader of our output went away: stop quietly. stdout is pointed at /dev/null so that the interpreter's
    exit flush does not print "Exception ignored ... BrokenPipeError" (Python's documented recipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests capture it)
        pass
    return BROKEN_PIPE_EXIT_CODE


if __name__ == "__main__":
    sys.exit(main())
