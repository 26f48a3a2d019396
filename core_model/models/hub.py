"""Talking to the Hugging Face hub: a repo's file list with sizes and hashes, and one file's bytes from an offset.

This is the only module that reaches the network, and only when the user asks for a download. The model manager
takes any object with the ``Downloader`` shape, so tests hand it a fake that serves a local folder.

    hub = HubDownloader()
    listing = hub.list_files("google/gemma-4-E2B-it")       # RepoListing(commit, files=(RemoteFile(...), ...))
    for chunk in hub.fetch(listing.repo_id, listing.commit, listing.files[0], offset=0):
        ...                                                # bytes; offset > 0 resumes a partial file

Errors come out as this module's exceptions, with messages fit to show the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

from core_model.errors import ModelsError



class HubError(ModelsError):
    """The hub could not serve what was asked. The message is meant for the user."""


class HubAccessDeniedError(HubError):
    """The repo is gated (terms to accept) or private, and this machine's token is not allowed in."""


class HubNotFoundError(HubError):
    """No such repo, revision or file on the hub."""


class RangeNotSatisfiableError(HubError):
    """HTTP 416: the hub's file is not longer than the offset asked for, so it changed since the partial file was
    written. The model manager starts that file over."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repo at a commit. ``sha256`` is known for LFS/Xet files, ``blob_id`` (git SHA-1) for others."""

    path: str
    size: int
    sha256: str | None = None
    blob_id: str | None = None

    @property
    def blob_name(self) -> str:
        """The file's name under the cache's blobs/ folder, as huggingface_hub names it (its etag)."""
        return self.sha256 or self.blob_id or f"size{self.size}-" + self.path.replace("/", "--")


@dataclass(frozen=True)
class RepoListing:
    repo_id: str
    commit: str
    files: tuple[RemoteFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


class Downloader(Protocol):
    """What the model manager needs from a hub."""

    def list_files(self, repo_id: str, revision: str | None = None) -> RepoListing:
        """The files of ``repo_id`` at ``revision`` (default branch when None), with sizes and hashes."""

    def fetch(self, repo_id: str, commit: str, remote_file: RemoteFile, offset: int = 0) -> Iterator[bytes]:
        """The bytes of ``remote_file`` from byte ``offset`` to its end, in chunks."""


class HubDownloader:
    """The real hub, through huggingface_hub (its endpoint, token, proxy and offline settings apply).

    Files are streamed with an HTTP Range request from ``offset``, which is how an interrupted download resumes:
    huggingface_hub >= 2 deletes its own partial files on failure, so Vidi keeps its own partial file and asks only
    for the missing tail.
    """

    def __init__(self, token: str | bool | None = None, endpoint: str | None = None) -> None:
        self.token = token
        self.endpoint = endpoint  # None: huggingface_hub's (HF_ENDPOINT, default https://huggingface.co)

    def list_files(self, repo_id: str, revision: str | None = None) -> RepoListing:
        from huggingface_hub import HfApi

        with _hub_errors(repo_id):
            info = HfApi(endpoint=self.endpoint).model_info(
                repo_id, revision=revision, files_metadata=True, token=self.token
            )
        files = []
        for sibling in info.siblings or []:
            lfs = sibling.lfs
            sha256 = getattr(lfs, "sha256", None) if lfs is not None else None
            size = sibling.size if sibling.size is not None else getattr(lfs, "size", 0)
            files.append(RemoteFile(sibling.rfilename, int(size or 0), sha256, sibling.blob_id))
        if not info.sha:
            raise HubError(f"The hub did not say which commit of {repo_id} it serves; try again later.")
        return RepoListing(repo_id=repo_id, commit=info.sha, files=tuple(files))

    def fetch(self, repo_id: str, commit: str, remote_file: RemoteFile, offset: int = 0) -> Iterator[bytes]:
        from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
        from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_stream_backoff

        if offset >= remote_file.size > 0:
            return  # nothing is missing; a Range request would only get a 416
        url = hf_hub_url(repo_id, remote_file.path, revision=commit, endpoint=self.endpoint)
        with _hub_errors(repo_id):
            metadata = get_hf_file_metadata(url, token=self.token, endpoint=self.endpoint)
            headers = build_hf_headers(token=self.token)
            if offset > 0:
                headers["Range"] = f"bytes={offset}-"
            with http_stream_backoff(
                method="GET",
                url=metadata.location,
                headers=headers,
                timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT,
                retry_on_status_codes=(408, 429, 500, 502, 503, 504),
                follow_redirects=True,
            ) as response:
                if response.status_code == 416:
                    raise RangeNotSatisfiableError(
                        f"{remote_file.path} of {repo_id} on the hub is shorter than the {offset} bytes already here."
                    )
                hf_raise_for_status(response)
                skip = offset if (offset > 0 and response.status_code == 200) else 0  # server ignored Range
                try:
                    # chunks as they arrive (no re-chunking): what came before a broken connection is written, so
                    # the next pull resumes from it; cancel and progress react within one network read
                    for chunk in response.iter_bytes():
                        if skip:
                            dropped = min(skip, len(chunk))
                            chunk, skip = chunk[dropped:], skip - dropped
                        if chunk:
                            yield chunk
                except Exception as exc:
                    # Turned into a HubError here, inside http_stream_backoff: a network error thrown into it
                    # mid-body makes it retry by yielding again, which contextlib reports as "generator didn't
                    # stop after throw()" (a RuntimeError) instead of the error.
                    if _is_network_error(exc):
                        raise HubError(
                            f"The download of {remote_file.path} broke off ({type(exc).__name__}); "
                            "check the connection."
                        ) from exc
                    raise


class _hub_errors:
    """Turn huggingface_hub's exceptions into this module's, with plain-words messages."""

    def __init__(self, repo_id: str) -> None:
        self.repo_id = repo_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, (HubError, GeneratorExit)):
            return False
        from huggingface_hub import errors

        url = f"https://huggingface.co/{self.repo_id}"
        if isinstance(exc, errors.GatedRepoError):
            raise HubAccessDeniedError(
                f"{self.repo_id} is gated: accept its terms at {url} while logged in to Hugging Face, then log in "
                "on this machine with 'hf auth login' (or set HF_TOKEN)."
            ) from exc
        if isinstance(exc, errors.RepositoryNotFoundError):
            raise HubNotFoundError(
                f"{self.repo_id} was not found on the hub, or it is private and needs a token ('hf auth login')."
            ) from exc
        if isinstance(exc, (errors.RevisionNotFoundError, errors.EntryNotFoundError)):
            raise HubNotFoundError(f"{self.repo_id}: {exc}") from exc
        if isinstance(exc, errors.OfflineModeIsEnabled):
            raise HubError("Downloads are switched off (HF_HUB_OFFLINE is set); unset it to download.") from exc
        if isinstance(exc, errors.HfHubHTTPError):
            raise HubError(f"The hub refused the download of {self.repo_id}: {exc}".splitlines()[0]) from exc
        if _is_network_error(exc):
            raise HubError(f"Could not reach huggingface.co ({type(exc).__name__}); check the connection.") from exc
        return False


def _is_network_error(exc: BaseException) -> bool:
    """A socket, TLS or HTTP-transport error (httpx/httpcore, whatever their package is called in this release)."""
    return isinstance(exc, OSError) or type(exc).__module__.startswith(("httpx", "httpcore", "ssl", "h11"))
