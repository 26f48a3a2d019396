"""The command line's remote-server parts: ``vidi models list --server URL`` and the model ``vidi ask --server`` uses.

    vidi models list --server http://gpu-box:8000        # the models it serves, their length, what they take
    vidi ask talk.mp4 --start 1:05 --end 1:20 --server http://gpu-box:8000 --model Qwen/Qwen2.5-VL-7B-Instruct "..."
    VIDI_SERVER=http://gpu-box:8000 vidi ask talk.mp4 "..."   # the default server; --model may then be left out
                                                              # when the server serves exactly one model
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from core_model.cli import CliError
from core_model.errors import UsageError

SERVER_HELP = "an OpenAI-compatible server (vLLM, transformers serve) to run the model on (default: $VIDI_SERVER)"


def chosen_server(args) -> str | None:
    """--server, else $VIDI_SERVER, else None (a local model)."""
    from core_model.backends.remote_endpoint import SERVER_ENV

    return (getattr(args, "server", None) or os.environ.get(SERVER_ENV, "")).strip() or None


@contextmanager
def _usage_as_cli_error():
    """A bad address or model name is a usage error: one line, exit code 2."""
    try:
        yield
    except UsageError as exc:
        if isinstance(exc, CliError):
            raise
        raise CliError(str(exc)) from None


def remote_model(server: str, model: str | None) -> str:
    """The model spec for ``model`` on ``server``; without ``model``, the server's only model (else CliError)."""
    with _usage_as_cli_error():
        return _remote_model(server, model)


def _remote_model(server: str, model: str | None) -> str:
    from core_model.backends.remote_endpoint import Endpoint, remote_spec

    endpoint = Endpoint.parse(server)
    if endpoint.warning:
        print(f"vidi: warning: {endpoint.warning}", file=sys.stderr)
    if not model:
        from core_model.backends.remote_endpoint import make_client
        from core_model.backends.remote_probe import list_served_models

        client = make_client(endpoint, read_timeout_s=30.0)
        try:
            served = [entry.id for entry in list_served_models(client, endpoint.host)]
        finally:
            client.close()
        if len(served) != 1:
            listed = ", ".join(served) or "none"
            raise CliError(f"{endpoint.host} serves {len(served)} models ({listed}): choose one with --model NAME")
        model = served[0]
    return remote_spec(endpoint.base_url, model)


def run_list_server(args) -> int:
    """Print the server's models: name, max length, what each takes (probed once and remembered), and latency."""
    from core_model.backends.remote_probe import check_server

    with _usage_as_cli_error():
        report = check_server(args.server)
    if report.warning:
        print(f"vidi: warning: {report.warning}", file=sys.stderr)
    rows = [("MODEL", "MAX LENGTH", "TAKES")]
    for model, support in report.models:
        length = f"{model.max_model_len} tokens" if model.max_model_len else "?"
        rows.append((model.id, length, support.describe() if support else "?"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"\n{report.host}: {len(report.models)} model(s), {report.latency_ms:.0f} ms to list them.")
    return 0
