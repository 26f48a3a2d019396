"""``vidi search``: find the moment across every video of the library.

    vidi search "the dog jumps off the pier"
    vidi search budget --json --limit 3          # [{"video", "start_s", "end_s", "score", "text"}, ...] best first
    vidi search lake --folder ~/Videos/2025 --from 2025-06-01 --to 2025-08-31 --speech

The cheap library scan runs first, so a renamed or moved video is found under its current path and a deleted one
is gone. ``video`` in the JSON is the file's current path; ``score``: higher is better. Videos not indexed yet are
counted in a warning on stderr. No match: nothing printed (``[]`` with --json), exit code 0. An empty library, an
empty query or a bad option: one line, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from core_model.cli import CliError


def register(subparsers) -> None:
    parser = subparsers.add_parser("search", help="find moments across the library's videos",
                                   description="Find the moments of the library's videos that match a query.")
    parser.add_argument("query", metavar="QUERY", nargs="+", help="what to find, in words")
    parser.add_argument("--json", action="store_true",
                        help='a JSON list of {"video", "start_s", "end_s", "score", "text"}, best first')
    parser.add_argument("--limit", metavar="N", type=_positive_int, default=10, help="at most N moments (10)")
    parser.add_argument("--folder", metavar="FOLDER", help="only videos under this folder")
    parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", type=_day,
                        help="only videos modified on or after this day")
    parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", type=_day,
                        help="only videos modified on or before this day")
    parser.add_argument("--min-duration", metavar="SECONDS", type=float, help="only videos at least this long")
    parser.add_argument("--max-duration", metavar="SECONDS", type=float, help="only videos at most this long")
    speech = parser.add_mutually_exclusive_group()
    speech.add_argument("--speech", dest="has_speech", action="store_const", const=True,
                        help="only videos with speech (a transcript)")
    speech.add_argument("--no-speech", dest="has_speech", action="store_const", const=False,
                        help="only videos without speech")
    parser.set_defaults(func=run, intermixed_positionals="query")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day in the form YYYY-MM-DD: {text!r}") from None


def _image_search(index_store):
    """Search by look over the keyframe embeddings the index stored beside the library (the same database)."""
    from core_model.library.image_search import KeyframeImageSearch

    return KeyframeImageSearch(index_store)


def run(args: argparse.Namespace) -> int:
    from core_model.cli.library import scanned_library
    from core_model.library.search import SearchFilters, search
    from core_model.timefmt import format_clock_s

    query = " ".join(args.query)
    filters = SearchFilters(folder=args.folder, modified_from=args.date_from, modified_to=args.date_to,
                            min_duration_s=args.min_duration, max_duration_s=args.max_duration,
                            has_speech=args.has_speech)
    from core_model.store import IndexStore

    library, _ = scanned_library()
    with library, IndexStore(library.path) as index_store:
        if not library.folders():
            raise CliError("the library is empty: add a folder with 'vidi library add FOLDER'")
        waiting = len(library.to_index())
        results = search(library, query, limit=args.limit, filters=filters, image_search=_image_search(index_store))
    if waiting:
        print(f"vidi: warning: {waiting} video{'' if waiting == 1 else 's'} not indexed yet: "
              "run 'vidi library index'", file=sys.stderr)
    if args.json:
        print(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=2))
        return 0
    if not results:
        print(f"No moment found for {query!r}.", file=sys.stderr)
    for number, r in enumerate(results, start=1):
        print(f"{number}. {r.video}  {format_clock_s(r.start_s)}–{format_clock_s(r.end_s)}  (score {r.score:.3g})")
        if r.text:
            print(f"   {r.text}")
    return 0
