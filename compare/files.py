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
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as err:      # name the file the user asked for, not our temporary one
        raise OSError(err.errno, err.strerror, str(path)) from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.unlink(tmp)   # our own temporary file, never a user's
        except OSError:
            pass
        if isinstance(err, OSError):
            raise OSError(err.errno, err.strerror, str(path)) from None
        raise


def check_output_file(path: "str | os.PathLike[str]", option: str) -> Path:
    """A file the user named for output (--out FILE, --plot FILE), checked before any work.

    It is replaced whole (the user named it), but never when it is not an ordinary file: a
    link (it would be replaced, or written through), a folder, a device such as /dev/null, a
    FIFO or a socket.
    """
    from .errors import GradcompareError

    text = os.fspath(path)
    if not text:
        raise GradcompareError(f"{option} needs a file name")
    p = Path(text)
    if p.is_symlink():
        raise GradcompareError(f"{option} {p}: a symbolic link; gradcompare does not write "
                               f"through or replace links")
    if p.is_dir():
        raise GradcompareError(f"{option} {p}: a folder; {option} names a file")
    if os.path.lexists(p) and not p.is_file():
        raise GradcompareError(f"{option} {p}: not a regular file (a device, a pipe or a "
                               f"socket); gradcompare writes only ordinary files")
    return p


MANIFEST = ".gradcompare-manifest.json"
_STAGING = ".gradcompare-staging-"


class OutputFolder:
    """A folder gradcompare writes a set of files into: safely, and as a whole.

    * A manifest (`.gradcompare-manifest.json`, sorted paths) records what the tool wrote.
      Only those files are ever replaced or removed; a file in the way that the tool did not
      write (a user's README.md under `--out .`, `notes.md`) makes it refuse, naming the file.
    * Every file is first written into a staging folder beside the targets and then moved into
      place one rename at a time, with Ctrl-C held back until the last rename: an interrupted
      run leaves the previous report or the new one, never a mix of the two.
    * One writer at a time: a second gradcompare writing the same folder is refused (the
      folder is locked while it is written).
    * Links are never followed or replaced inside the folder; files get ordinary permissions.
    """

    def __init__(self, root: Path, label: str = "--out") -> None:
        self.root = Path(root)
        self.label = label

    # -- reading --------------------------------------------------------------------------------
    def manifest(self) -> set[str]:
        import json

        try:
            with open(self.root / MANIFEST, encoding="utf-8") as fh:
                data = json.load(fh)
            return {p for p in data.get("files", []) if isinstance(p, str) and _safe_rel(p)}
        except (OSError, ValueError, AttributeError):
            return set()

    # -- writing --------------------------------------------------------------------------------
    def write_all(self, files: "dict[str, str | bytes]", stale_under: tuple[str, ...] = ()
                  ) -> list[Path]:
        """Write `files` (relative path -> content); remove what this tool wrote before under
        the `stale_under` prefixes and does not write now.  Returns the paths written."""
        from .errors import GradcompareError

        root = self.root
        if os.path.lexists(root) and not root.is_dir():
            raise GradcompareError(f"{self.label} {root}: exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        with _Lock(root, self.label):
            for old in root.glob(_STAGING + "*"):
                if old.is_dir() and not old.is_symlink():
                    _remove_staging(old)   # left by a run that was killed; ours by its name
            known = self.manifest()
            for rel in files:
                self._check_target(rel, known, files[rel])
            stage = Path(tempfile.mkdtemp(prefix=_STAGING, dir=root))
            try:
                for rel, data in files.items():
                    write_atomic(stage / rel, data)
                stale = [rel for rel in sorted(known - set(files))
                         if rel.startswith(stale_under) and stale_under]
                with _HoldInterrupts():
                    for rel in files:
                        target = root / rel
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(stage / rel, target)
                    removed = {rel for rel in stale if self._remove_own(rel)}
                    self._write_manifest((known - removed) | set(files))
            finally:
                _remove_staging(stage)
        return [root / rel for rel in files]

    def _check_target(self, rel: str, known: set[str], data: "str | bytes") -> None:
        from .errors import GradcompareError

        if not _safe_rel(rel):
            raise GradcompareError(f"refusing to write outside {self.root}: {rel}")
        path = self.root
        parts = Path(rel).parts
        for k, part in enumerate(parts):
            path = path / part
            if path.is_symlink():
                raise GradcompareError(f"{path} is a symbolic link; gradcompare does not write "
                                       f"through or replace links")
            if k < len(parts) - 1 and os.path.lexists(path) and not path.is_dir():
                raise GradcompareError(f"{path} is a file where gradcompare needs a folder")
        if os.path.lexists(path) and rel not in known:
            if path.is_dir():
                raise GradcompareError(f"{path} is a folder where gradcompare writes a file")
            if _same_content(path, data):
                return   # identical bytes: writing them changes nothing
            raise GradcompareError(f"{path} exists and was not written by gradcompare (it is "
                                   f"not in {MANIFEST}); choose another {self.label} folder "
                                   f"or move that file")

    def _remove_own(self, rel: str) -> bool:
        path = self.root
        for part in Path(rel).parts:       # a link anywhere on the way leads elsewhere
            path = path / part
            if path.is_symlink():
                return False
        if not path.is_file():
            return False
        path.unlink()   # listed in our own manifest: a file this tool wrote
        return True

    def _write_manifest(self, files: set[str]) -> None:
        import json

        text = json.dumps({"written_by": "gradcompare", "files": sorted(files)}, indent=1)
        write_atomic(self.root / MANIFEST, text + "\n")


def _safe_rel(rel: str) -> bool:
    p = Path(rel)
    return bool(rel) and not p.is_absolute() and ".." not in p.parts


def _same_content(path: Path, data: "str | bytes") -> bool:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        return path.is_file() and path.stat().st_size == len(raw) and path.read_bytes() == raw
    except OSError:
        return False


def _remove_staging(stage: Path) -> None:
    """Remove our own staging folder (created by mkdtemp above, holding only our files)."""
    for folder, dirs, names in os.walk(stage, topdown=False):
        for name in names:
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass
        for name in dirs:
            try:
                os.rmdir(os.path.join(folder, name))
            except OSError:
                pass
    try:
        os.rmdir(stage)
    except OSError:
        pass


class _Lock:
    """An exclusive, non-blocking lock on the output folder itself (no lock file left behind)."""

    def __init__(self, root: Path, label: str) -> None:
        self.root, self.label, self.fd = root, label, -1

    def __enter__(self) -> "_Lock":
        from .errors import GradcompareError

        try:
            import fcntl
        except ImportError:   # pragma: no cover - not POSIX: no lock
            return self
        self.fd = os.open(self.root, os.O_RDONLY)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = -1
            raise GradcompareError(f"{self.label} {self.root}: another gradcompare is writing "
                                   f"this folder; run again when it has finished") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)   # closing releases the lock


class _HoldInterrupts:
    """Hold Ctrl-C (SIGINT) and SIGTERM back during a short critical section, then deliver."""

    def __enter__(self) -> "_HoldInterrupts":
        import signal
        import threading

        self.received: list[int] = []
        self.saved: dict[int, object] = {}
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.saved[sig] = signal.getsignal(sig)
            signal.signal(sig, lambda s, f: self.received.append(s))
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self.saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if self.received:
            os.kill(os.getpid(), self.received[0])
