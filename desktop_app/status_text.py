"""The status bar's words for a model, from the backend's own ``describe()`` (core_model BackendInfo), never from
the settings: the device it really runs on and how its weights are held ("CPU · bfloat16", "GPU · 4-bit")."""

from __future__ import annotations

from core_model.backends.base import BackendInfo, RunInfo

DEVICE_NAMES = {"cuda": "GPU", "mps": "Apple GPU", "cpu": "CPU", "remote": "Remote"}


def device_text(info: BackendInfo | None) -> str:
    """"CPU · bfloat16", "GPU · 4-bit · 5.1 GiB in use", "Remote (host) · ..."; "" when nothing is loaded."""
    if info is None or not info.loaded:
        return ""
    device = DEVICE_NAMES.get(info.device, info.device or "unknown device")
    if info.device == "remote" and info.host:
        device += f" ({info.host})"
    parts = [device]
    if info.precision:
        parts.append(info.precision)
    if info.memory_used_bytes >= 0:
        parts.append(f"{info.memory_used_bytes / 2**30:.1f} GiB in use")
    return " · ".join(parts)


def model_text(info: BackendInfo) -> str:
    """"Model: NAME · ready" ("NAME on HOST" for a remote model: where the questions go)."""
    name = f"{info.model_id} on {info.host}" if info.host else info.model_id
    return f"Model: {name} · " + ("ready" if info.loaded else "not loaded")


def run_summary(run: RunInfo, host: str = "") -> str:
    """An answer's footer: who answered (and on which server), how long, and how it sampled (the question's header
    lists the frames)."""
    parts = [f"{run.model_id} on {host}" if host else run.model_id] if run.model_id else []
    if run.total_s:
        parts.append(f"{run.total_s:.1f} s")
    if run.plan:
        parts.append(run.plan)
    return " · ".join(parts)
