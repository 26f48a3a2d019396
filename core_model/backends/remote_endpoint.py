"""Where a remote model lives: the server's address (checked for privacy), its API key, and the model spec string.

    endpoint = Endpoint.parse("gpu-box.lan:8000")      # -> https://gpu-box.lan:8000/v1 (https is the default)
    endpoint = Endpoint.parse("http://127.0.0.1:8000")  # plain http: fine on loopback and private addresses
    endpoint.warning                                     # "" or why plain http to this host is unsafe
    api_key(endpoint)                                    # $VIDI_API_KEY, else the OS keyring, else None
    spec = remote_spec(endpoint.base_url, "Qwen/Qwen2.5-VL-7B-Instruct")   # one string for settings and the CLI
    parse_remote_spec(spec)                              # -> (base_url, model)

The key never goes into QSettings, logs or error messages: it lives in the OS keyring (service "vidi", one entry per
server origin) or in ``$VIDI_API_KEY``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from core_model.errors import UsageError

API_KEY_ENV = "VIDI_API_KEY"
SERVER_ENV = "VIDI_SERVER"
KEYRING_SERVICE = "vidi"
SPEC_PREFIX = "remote+"
"""A model spec for a remote model: ``remote+<base url>#<model name>`` (model names hold no '#')."""


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible server. ``base_url`` ends in "/v1"; ``host`` is what the user sees ("gpu-box:8000")."""

    base_url: str
    host: str
    scheme: str
    private: bool
    """The host is loopback or a private/link-local address: plain http there does not cross the internet."""

    @classmethod
    def parse(cls, text: str) -> "Endpoint":
        """An Endpoint from what a user typed: "host", "host:port", "http(s)://host[:port][/v1]".

        No scheme means https. UsageError (one line) for anything that is not a server address.
        """
        raw = (text or "").strip()
        if not raw:
            raise UsageError("no server given: use an address such as https://gpu-box:8000")
        if "://" not in raw:
            raw = "https://" + raw
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise UsageError(f"'{text}' is not a server address: use http:// or https://")
        try:
            hostname = parts.hostname or ""
            port = parts.port
        except ValueError as exc:
            raise UsageError(f"'{text}' is not a server address: {exc}") from None
        if parts.username or parts.password:  # never echo what may be a key
            raise UsageError("a server address cannot hold a user name or key: give the key separately")
        if not hostname:
            raise UsageError(f"'{text}' is not a server address: use e.g. https://gpu-box:8000")
        path = parts.path.rstrip("/")
        if not path.endswith("/v1"):
            path += "/v1"
        netloc = f"[{hostname}]" if ":" in hostname else hostname
        if port is not None:
            netloc += f":{port}"
        base_url = urlunsplit((scheme, netloc, path, "", ""))
        return cls(base_url=base_url, host=netloc, scheme=scheme, private=is_private_host(hostname))

    @property
    def origin(self) -> str:
        """scheme://host[:port]: the key's name in the keyring."""
        return f"{self.scheme}://{self.host}"

    @property
    def warning(self) -> str:
        """Why this address is unsafe ("" when it is fine): plain http beyond this machine and its private network."""
        if self.scheme == "http" and not self.private:
            return (f"Plain http to {self.host}: frames, sound and questions cross the network unencrypted; "
                    "use https for servers outside your own network.")
        return ""


_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "100.64.0.0/10",  # carrier-grade NAT, also what Tailscale-style overlay networks hand out
    "fc00::/7",  # IPv6 unique local
))


def is_private_host(hostname: str) -> bool:
    """Loopback, RFC 1918 / CGNAT / ULA private ranges, link-local, "localhost", and mDNS ".local" names.

    Explicit ranges rather than ``ipaddress``' ``is_private``, which also counts documentation and reserved blocks.
    """
    name = hostname.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost") or name.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if address.is_loopback or address.is_link_local:
        return True
    return any(address.version == net.version and address in net for net in _PRIVATE_NETWORKS)


# ----------------------------------------------------------------------------------------------------------------
# Model spec: one string that names a remote model (settings, the model process, the CLI)
# ----------------------------------------------------------------------------------------------------------------


def remote_spec(server: str, model: str) -> str:
    """``remote+<base url>#<model>``: a model string ``load_backend`` takes."""
    if "#" in model:
        raise UsageError(f"model name '{model}' cannot hold '#'")
    return f"{SPEC_PREFIX}{Endpoint.parse(server).base_url}#{model}"


def is_remote_spec(model: str) -> bool:
    return model.startswith(SPEC_PREFIX)


def parse_remote_spec(spec: str) -> tuple[str, str]:
    """(base url, model name) from ``remote_spec``'s string. UsageError when malformed."""
    body = spec[len(SPEC_PREFIX):] if is_remote_spec(spec) else spec
    server, sep, model = body.rpartition("#")
    if not sep or not server or not model:
        raise UsageError(f"'{spec}' is not a remote model: expected remote+URL#MODEL")
    return server, model


def make_client(endpoint: Endpoint, key: str | None = None, *, read_timeout_s: float = 300.0,
                connect_timeout_s: float = 10.0):
    """An ``openai.OpenAI`` client for ``endpoint`` (key: given, else ``api_key(endpoint)``), with no retries of
    its own: the remote backend retries itself, so that a Stop ends a wait at once."""
    from openai import OpenAI, Timeout

    key = key if key is not None else api_key(endpoint)
    return OpenAI(base_url=endpoint.base_url, api_key=key or "none", max_retries=0,
                  timeout=Timeout(read_timeout_s, connect=connect_timeout_s))


# ----------------------------------------------------------------------------------------------------------------
# API key: the environment, else the OS keyring; never stored anywhere else
# ----------------------------------------------------------------------------------------------------------------


def api_key(endpoint: Endpoint) -> str | None:
    """The key for ``endpoint``: ``$VIDI_API_KEY``, else the OS keyring's entry for its origin, else None."""
    from_env = os.environ.get(API_KEY_ENV, "").strip()
    if from_env:
        return from_env
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, endpoint.origin) or None
    except Exception:  # noqa: BLE001  no keyring backend on this machine (headless Linux): no stored key
        return None


def save_api_key(endpoint: Endpoint, key: str) -> None:
    """Keep ``key`` for ``endpoint`` in the OS keyring (an empty key deletes it). UsageError when there is none."""
    try:
        import keyring
        from keyring.errors import PasswordDeleteError

        if key:
            keyring.set_password(KEYRING_SERVICE, endpoint.origin, key)
        else:
            try:
                keyring.delete_password(KEYRING_SERVICE, endpoint.origin)
            except PasswordDeleteError:
                pass
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001  no usable keyring: say so, never fall back to a plain file
        raise UsageError(
            f"The system keyring is not available ({type(exc).__name__}); set ${API_KEY_ENV} instead."
        ) from None
