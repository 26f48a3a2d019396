"""Remote models in the GUI: the ones used before (listed beside local models, with their host), their labels, and
the one-time question before a host first receives a segment.

    remember_remote_model(settings, spec)          # Key.REMOTE_MODELS, newest first (address and name only)
    remote_model_label(spec)                       # "Qwen2.5-VL-7B-Instruct on gpu-box:8000"
    confirm_host_once(parent, settings, spec)      # True: agreed before or now; False: keep the question in the box

Only the address and the model's name are kept in QSettings; the API key lives in the OS keyring
(core_model.backends.remote_endpoint) and never here.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from core_model.backends.remote_endpoint import is_remote_spec, parse_remote_spec
from core_model.errors import UsageError
from desktop_app.settings import Key, Settings

MAX_REMEMBERED = 10


def remote_host(spec: str) -> str:
    """The host ("gpu-box:8000") of a remote model spec; "" for a local model or a malformed spec."""
    if not is_remote_spec(spec):
        return ""
    from core_model.backends.remote_endpoint import Endpoint

    try:
        return Endpoint.parse(parse_remote_spec(spec)[0]).host
    except UsageError:
        return ""


def remote_model_label(spec: str) -> str:
    """How a remote model is named in lists and the status bar: its name on the server and the host."""
    try:
        _server, model = parse_remote_spec(spec)
    except UsageError:
        return spec
    return f"{model.rstrip('/').rsplit('/', 1)[-1] or model} on {remote_host(spec)}"


def remembered_remote_models(settings: Settings) -> list[str]:
    return [str(spec) for spec in settings.value(Key.REMOTE_MODELS) if is_remote_spec(str(spec))]


def remember_remote_model(settings: Settings, spec: str) -> None:
    specs = [spec] + [s for s in remembered_remote_models(settings) if s != spec]
    settings.set_value(Key.REMOTE_MODELS, specs[:MAX_REMEMBERED])
    settings.sync()


def ask_to_send(parent: QWidget | None, host: str) -> bool:
    """The question itself (tests replace it)."""
    answer = QMessageBox.question(
        parent, "Send to a remote server?",
        f"Frames and sound of the selected segment will be sent to {host}, with your images and the chat's text, "
        "to be answered there.\n\nSend questions to this server?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def confirm_host_once(parent: QWidget | None, settings: Settings, spec: str, ask=None) -> bool:
    """True for a local model, or a host the user already agreed to (asked here once per host); else False."""
    host = remote_host(spec)
    if not host:
        return True
    agreed = [str(h) for h in settings.value(Key.REMOTE_CONSENTED_HOSTS)]
    if host in agreed:
        return True
    if not (ask or ask_to_send)(parent, host):
        return False
    settings.set_value(Key.REMOTE_CONSENTED_HOSTS, agreed + [host])
    settings.sync()
    return True
