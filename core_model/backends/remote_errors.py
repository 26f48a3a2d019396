"""What went wrong talking to a remote server, in one line for the user, and when to try again.

    try:
        ...openai client call...
    except Exception as exc:
        raise remote_error(exc, host="gpu-box:8000", model="Qwen/Qwen2.5-VL-7B") from exc

``retry_delay_s(exc, attempt)`` says whether a failed request may be sent again (429 and 503, honouring
``Retry-After``) and after how long. The API key never appears in a message: messages are built from status codes
and the server's short error text, which never echoes request headers.
"""

from __future__ import annotations

import email.utils
import re
import socket
import ssl
import time

from core_model.errors import RemoteError, first_line

MAX_RETRIES = 3
"""Attempts after the first for a 429 or 503."""
MAX_RETRY_DELAY_S = 30.0
"""A longer Retry-After is reported instead of waited for."""


class StreamCutError(RemoteError):
    """The connection was cut while the answer was streaming; the part received is kept."""


def _chain(exc: BaseException):
    """``exc`` and every exception it was raised from or during, outermost first."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_unreachable(exc: BaseException) -> bool:
    """The server cannot be reached at all (refused, unknown name, TLS failure), as opposed to a refused request."""
    return any(isinstance(link, (ConnectionRefusedError, socket.gaierror, ssl.SSLError)) for link in _chain(exc))


def _status_and_detail(exc: BaseException) -> tuple[int | None, str]:
    """The HTTP status of an openai APIStatusError (None otherwise) and the server's own short message."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    detail = ""
    if isinstance(body, dict):
        inner = body.get("error", body)
        detail = inner.get("message", "") if isinstance(inner, dict) else str(inner)
        detail = detail or str(body.get("detail", "") or "")
    elif isinstance(body, str):
        detail = body
    return (int(status) if status is not None else None), first_line(detail, limit=160) if detail else ""


def remote_error(exc: BaseException, *, host: str, model: str = "") -> RemoteError:
    """The RemoteError, with a one-line message naming ``host``, for an exception from the client."""
    if isinstance(exc, RemoteError):
        return exc
    status, detail = _status_and_detail(exc)
    suffix = f" ({detail})" if detail else ""
    if status is not None:
        return RemoteError(_status_message(status, host, model, suffix))
    for link in _chain(exc):
        if isinstance(link, ssl.SSLCertVerificationError):
            reason = getattr(link, "verify_message", "") or "certificate not trusted"
            return RemoteError(f"The secure connection to {host} failed: its certificate is not trusted ({reason}). "
                               "Check the address, or install the server's certificate.")
        if isinstance(link, ssl.SSLError):
            return RemoteError(f"The secure connection to {host} failed ({first_line(link, 120)}). "
                               "Is it an https server? Use http:// for a plain server on your own network.")
        if isinstance(link, socket.gaierror):
            return RemoteError(f"Server {host} not found: the name does not resolve. Check the address.")
        if isinstance(link, ConnectionRefusedError):
            return RemoteError(f"Server {host} refused the connection: is the server running on that port?")
        if isinstance(link, (TimeoutError, socket.timeout)) or type(link).__name__ in ("ConnectTimeout", "ReadTimeout",
                                                                                       "APITimeoutError"):
            return RemoteError(f"Server {host} did not answer in time: it may be overloaded or unreachable.")
    text = " ".join(str(link) for link in _chain(exc)).lower()
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return RemoteError(f"Server {host} not found: the name does not resolve. Check the address.")
    if "connection refused" in text:
        return RemoteError(f"Server {host} refused the connection: is the server running on that port?")
    if "certificate" in text or "ssl" in text:
        return RemoteError(f"The secure connection to {host} failed: {first_line(exc, 160)}")
    if "peer closed" in text or "incomplete" in text or "connection reset" in text or "disconnected" in text:
        return StreamCutError(f"The connection to {host} was cut before the answer was complete.")
    return RemoteError(f"Could not talk to {host}: {first_line(exc, 200)}")


def _status_message(status: int, host: str, model: str, suffix: str) -> str:
    named = f"model '{model}'" if model else "the model"
    if status == 401:
        return f"Server {host} refused the API key (401): set the right key for it (keyring or $VIDI_API_KEY)."
    if status == 403:
        return f"Server {host} does not let this key use {named} (403 forbidden)."
    if status == 404:
        return f"Server {host} does not serve {named} (404){suffix}. 'vidi models list --server' lists what it serves."
    if status == 413:
        return (f"Server {host} refused the request as too large (413): ask about a shorter segment or fewer "
                "frames, or raise the server's request size limit.")
    if status == 429:
        return f"Server {host} is busy (429 too many requests){suffix}; try again in a moment."
    if status == 400 and ("not served" in suffix or "pinned to" in suffix or "does not exist" in suffix):
        return f"Server {host} does not serve {named}{suffix}. 'vidi models list --server' lists what it serves."
    if status == 400 and re.search(r"at most \d+ (image|video|audio)", suffix, re.IGNORECASE):
        return (f"Server {host} takes fewer media per question{suffix}: lower the frames per segment, or start "
                "the server with a higher --limit-mm-per-prompt.")
    if status == 400 and ("maximum context length" in suffix.lower() or "too long" in suffix.lower()):
        return f"The question is too long for {named} on {host}{suffix}: ask about fewer frames or a shorter segment."
    if 400 <= status < 500:
        return f"Server {host} rejected the request ({status}){suffix}."
    return f"Server {host} failed ({status} server error){suffix}; try again, or check the server's log."


def retry_delay_s(exc: BaseException, attempt: int) -> float | None:
    """Seconds to wait before sending again after ``exc`` (attempt 0 = first retry), or None: do not retry.

    429 and 503 are retried up to MAX_RETRIES times: after ``Retry-After`` (seconds or an HTTP date) when the
    server sends it, else 1, 2, 4 s. A Retry-After beyond MAX_RETRY_DELAY_S is not waited for.
    """
    status, _ = _status_and_detail(exc)
    if status not in (429, 503) or attempt >= MAX_RETRIES:
        return None
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    delay_s = _parse_retry_after(header) if header else None
    if delay_s is None:
        delay_s = float(2 ** attempt)
    return delay_s if delay_s <= MAX_RETRY_DELAY_S else None


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
