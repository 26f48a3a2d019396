"""The words the window shows about an index: its state per video and a build's progress. Pure functions, no Qt."""

from __future__ import annotations

from core_model.store.index_records import PART_NAMES, PartState
from core_model.timefmt import format_clock_s


def index_state_text(parts: dict[str, PartState] | None) -> str:
    """ "Indexed: transcript, scenes", "Indexed: transcript, scenes (to 1:10)", or "Not indexed"."""
    if not parts:
        return "Not indexed"
    shown = []
    for name in PART_NAMES:
        state = parts.get(name)
        if state is None or state.state == "missing":
            continue
        shown.append(name if state.done else f"{name} (to {format_clock_s(state.done_until_s)})")
    return f"Indexed: {', '.join(shown)}" if shown else "Not indexed"


def index_state_details(parts: dict[str, PartState] | None) -> str:
    """One line per part, with the notice of a skipped one (what to pull): the status label's tooltip."""
    if not parts:
        return "This video has no index yet: Index ▸ Index this video builds it."
    lines = []
    for name in PART_NAMES:
        state = parts.get(name)
        if state is None:
            continue
        how = {"done": "built", "partial": f"built up to {format_clock_s(state.done_until_s)}",
               "missing": "not built"}[state.state]
        lines.append(f"{name}: {how}" + (f" ({state.notice})" if state.notice else ""))
    return "\n".join(lines)


def progress_text(progress) -> str:
    """ "Indexing scenes (2/3) 42% · ETA 0:21" for one IndexProgress."""
    eta = "" if progress.eta_s is None or progress.fraction >= 1 else f" · ETA {format_clock_s(progress.eta_s)}"
    return (f"Indexing {progress.part} ({progress.part_number}/{progress.part_count}) "
            f"{progress.fraction * 100:.0f}%{eta}")


def outcome_text(outcome) -> str:
    """The status-bar line after a build: stopped, done, and what was skipped and why."""
    if outcome.stopped:
        return "Indexing stopped: what was built is kept; index again to go on where it stopped."
    skipped = "; ".join(f"{part} skipped: {why}" for part, why in outcome.skipped.items())
    return "Index ready." + (f" {skipped}" if skipped else "")
