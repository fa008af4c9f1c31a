"""Writing generated files: atomically, with ordinary permissions."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: "str | bytes") -> None:
    """Write a file so that readers see the old or the new content, never a mix.

    The file gets the permissions an ordinary `open(..., "w")` would give it (0666 less the
    umask), not mkstemp's owner-only 0600: reports and handouts are meant to be shared.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)   # our own temporary file, never a user's
        except OSError:
            pass
        raise
