"""A video's content fingerprint: the same file keeps the same fingerprint when it is renamed or moved.

sha256 over the file size (8 bytes, little-endian) + its first 1 MiB + its last 1 MiB. Reading 2 MiB takes a few
milliseconds even for a 10 GB file; two different videos of the same size sharing both their first and last MiB
are, in practice, the same video.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_BYTES = 1024 * 1024


def fingerprint_file(path: str | Path) -> str:
    """Hex sha256 of (size, first 1 MiB, last 1 MiB) of ``path``. Raises OSError if it cannot be read."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(size.to_bytes(8, "little"))
    with path.open("rb") as handle:
        digest.update(handle.read(CHUNK_BYTES))
        if size > CHUNK_BYTES:
            handle.seek(max(size - CHUNK_BYTES, CHUNK_BYTES))
            digest.update(handle.read(CHUNK_BYTES))
    return digest.hexdigest()
