"""``vidi models``: the supported models, what is on this machine, and getting models on or off it.

    vidi models list                       # catalog + downloaded + imported, with the one recommended here
    vidi models pull gemma-4-e2b           # download from the hub (progress: bytes and speed; Ctrl+C keeps what
                                           # was fetched, and pulling again resumes)
    vidi models rm gemma-4-e2b             # free the disk (an imported folder is only unregistered)
    vidi models import /data/qwen-omni --id qwen-local   # register a folder you already have (offline machines)
    vidi models plan gemma-4-e2b --device cuda --4bit    # memory each part needs, and the total

Nothing is downloaded except by ``pull``. Errors are one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from core_model.cli import CliError

manager_factory = None
"""Builds the ModelManager the commands use (None: the default one). Tests set a manager with a fake hub."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "models", help="list, download, import and remove models",
        description="The supported models, what is on this machine, and getting models on or off it.",
    )
    commands = parser.add_subparsers(dest="models_command", metavar="COMMAND", parser_class=type(parser))

    listing = commands.add_parser("list", help="the catalog and the models on this machine (or on --server URL)")
    listing.add_argument("--server", metavar="URL", help="list what this OpenAI-compatible server serves instead")
    listing.set_defaults(func=run_list)

    pull = commands.add_parser("pull", help="download a catalog model from the Hugging Face hub")
    pull.add_argument("model_id", metavar="ID")
    pull.set_defaults(func=run_pull)

    remove = commands.add_parser("rm", help="remove a downloaded model (imported folders are only unregistered)")
    remove.add_argument("model_id", metavar="ID")
    remove.set_defaults(func=run_rm)

    imp = commands.add_parser("import", help="register a model folder you already have")
    imp.add_argument("path", metavar="PATH")
    imp.add_argument("--id", dest="model_id", metavar="ID", help="the id to use (default: the folder's name)")
    imp.set_defaults(func=run_import)

    plan = commands.add_parser("plan", help="the memory a model needs on a device, part by part")
    plan.add_argument("model", metavar="PATH_OR_ID")
    plan.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default="auto",
                      help="the device to plan for (default: auto)")
    plan.add_argument("--4bit", dest="load_in_4bit", action=argparse.BooleanOptionalAction, default=None,
                      help="plan for 4-bit NF4 (default: on CUDA only)")
    plan.set_defaults(func=run_plan)

    parser.set_defaults(func=lambda args: _help(parser))


def _help(parser) -> int:
    parser.print_help()
    return 0


def _manager():
    if manager_factory is not None:
        return manager_factory()
    from core_model.models import ModelManager

    return ModelManager()


def _errors():
    from core_model.models import ModelManagerError

    return ModelManagerError


def _detect_device():
    """The device here, or None when torch cannot tell (the list still prints)."""
    try:
        from core_model.device import detect_device

        return detect_device()
    except Exception:  # noqa: BLE001  a broken torch must not stop 'vidi models list'
        return None


# ----------------------------------------------------------------------------------------------------------------
# list
# ----------------------------------------------------------------------------------------------------------------


def run_list(args) -> int:
    from core_model.models import format_bytes, recommend

    if getattr(args, "server", None):
        from core_model.cli.remote import run_list_server

        return run_list_server(args)

    manager = _manager()
    device = _detect_device()
    choice = recommend(device) if device is not None else None
    recommended_id = choice.entry.id if choice is not None and choice.entry is not None else None
    rows = [("", "ID", "SIZE", "4-BIT MEMORY", "TAKES", "LICENCE", "STATE")]
    for status in manager.list():
        entry = status.entry
        size = status.size_on_disk_bytes if status.available and status.size_on_disk_bytes else (
            entry.size_bytes if entry else 0)
        rows.append((
            "*" if status.id == recommended_id else "",
            status.id,
            format_bytes(size) if size else "?",
            format_bytes(entry.memory_4bit_bytes) if entry else "?",
            "+".join(entry.capability_names) if entry else "?",
            entry.licence if entry else "?",
            status.state + (f" ({format_bytes(status.size_on_disk_bytes)} so far)" if status.state == "partial" else ""),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    if device is not None:
        print(f"\nThis machine: {_describe_device(device)}.")
    if choice is not None:
        print(f"Recommended (*): {choice.reason}." if choice.entry else f"{choice.reason}.")
    return 0


def _describe_device(device) -> str:
    from core_model.models import format_bytes

    if device.kind == "cuda":
        cc = ".".join(map(str, device.compute_capability)) if device.compute_capability else "?"
        bnb = "4-bit available" if device.bitsandbytes_available else "no bitsandbytes: 16-bit only"
        return f"{device.name}, {format_bytes(device.total_memory_bytes)}, compute capability {cc}, {bnb}"
    return device.name


# ----------------------------------------------------------------------------------------------------------------
# pull
# ----------------------------------------------------------------------------------------------------------------


def run_pull(args) -> int:
    from core_model.models import format_bytes

    manager = _manager()
    entry = manager.entry(args.model_id)
    if entry is not None and entry.access_note and entry.downloadable:
        print(f"Note: {entry.access_note}", file=sys.stderr)
    bar = ProgressBar(sys.stderr)
    try:
        record = manager.pull(args.model_id, progress=bar.update)
    except KeyboardInterrupt:
        bar.close()
        print("vidi: download interrupted; what was fetched is kept: pull again to resume.", file=sys.stderr)
        raise
    except _errors() as exc:
        bar.close()
        raise CliError(str(exc)) from exc
    bar.close()
    print(f"{record.id}: {format_bytes(record.size_bytes)} in {record.path}")
    return 0


class ProgressBar:
    """One line on a terminal (redrawn with \\r), or a line per file and per 10% when the output is not a terminal."""

    WIDTH = 28

    def __init__(self, stream) -> None:
        self.stream = stream
        self.is_tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last_line = ""
        self._last_decile = -1
        self._last_file = None
        self._drawn = False

    def update(self, p) -> None:
        line = format_progress(p, self.WIDTH)
        if self.is_tty:
            self.stream.write("\r" + line.ljust(len(self._last_line)))
            self._last_line = line
            self._drawn = True
        else:
            decile = int(p.fraction * 10)
            if decile != self._last_decile or p.filename != self._last_file or p.finished:
                self.stream.write(line + "\n")
                self._last_decile, self._last_file = decile, p.filename
        self.stream.flush()

    def close(self) -> None:
        if self.is_tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def format_progress(p, width: int = 28) -> str:
    """ "[##########----------]  48%  4.9 GB / 10.2 GB  21.3 MB/s  ETA 4m08s  model-00001-of-00002.safetensors" """
    from core_model.models import format_bytes

    filled = int(round(p.fraction * width))
    eta = p.eta_s
    eta_text = "" if p.finished or eta is None else f"  ETA {_duration(eta)}"
    name = "done" if p.finished else p.filename
    return (f"[{'#' * filled}{'-' * (width - filled)}] {p.fraction * 100:3.0f}%  "
            f"{format_bytes(p.bytes_done)} / {format_bytes(p.bytes_total)}  "
            f"{format_bytes(p.bytes_per_s)}/s{eta_text}  {name}").rstrip()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


# ----------------------------------------------------------------------------------------------------------------
# rm, import
# ----------------------------------------------------------------------------------------------------------------


def run_rm(args) -> int:
    try:
        result = _manager().remove(args.model_id)
    except _errors() as exc:
        raise CliError(str(exc)) from exc
    print(result.message)
    return 0


def run_import(args) -> int:
    from core_model.models import format_bytes

    try:
        record = _manager().import_folder(args.path, id=args.model_id)
    except _errors() as exc:
        raise CliError(str(exc)) from exc
    kind = f", {record.model_type}" if record.model_type else ""
    print(f"Imported '{record.id}' ({format_bytes(record.size_bytes)}{kind}) from {record.path}")
    return 0


# ----------------------------------------------------------------------------------------------------------------
# plan
# ----------------------------------------------------------------------------------------------------------------


def run_plan(args) -> int:
    from pathlib import Path

    from core_model.backends import load_backend
    from core_model.models import format_bytes

    manager = _manager()
    entry = manager.entry(args.model)
    local = None if Path(args.model).expanduser().is_dir() else manager.local_path(args.model)
    if entry is not None and local is None and not Path(args.model).expanduser().is_dir():
        print(f"{entry.id} is not on this machine; catalog figures for a question about a 15-s segment:")
        print(f"  4-bit NF4 (CUDA)          {format_bytes(entry.memory_4bit_bytes):>9}")
        print(f"  16-bit (MPS, CPU in bf16) {format_bytes(entry.memory_16bit_bytes):>9}")
        print(f"  download                  {format_bytes(entry.size_bytes):>9}")
        if not entry.downloadable:
            print(f"  {entry.how_to_get}")
        return 0
    backend = load_backend(str(local or args.model), device=args.device, load_in_4bit=args.load_in_4bit)
    estimate = backend.memory_estimate()
    precision = "4-bit NF4" if getattr(backend, "load_in_4bit", False) else "unquantized"
    print(f"{getattr(backend, 'model_id', args.model)} on {estimate.device} ({precision}):")
    width = max([len(name) for name in estimate.parts_bytes] + [5])
    for name, num_bytes in estimate.parts_bytes.items():
        print(f"  {name.ljust(width)}  {format_bytes(num_bytes):>9}")
    print(f"  {'total'.ljust(width)}  {format_bytes(estimate.total_bytes):>9}")
    device = _detect_device() if estimate.device == "cuda" else None
    if device is not None and device.kind == "cuda" and device.total_memory_bytes:
        verdict = "fits" if estimate.total_bytes <= device.total_memory_bytes else "does NOT fit"
        print(f"  {verdict} in this GPU's {format_bytes(device.total_memory_bytes)} ({device.name})")
    return 0
