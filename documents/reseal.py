"""Seal or unseal one blob of the file store in place, never putting the original at risk.

The new form goes to a temporary file beside the blob, is fsynced, checked (its plain bytes must hash to the
blob's name) and only then renamed over the original, and the folder is fsynced. A crash at any point leaves the
original or the finished new file, never half of one; a leftover temporary file is harmless and ignored.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from attachments import sealing
from attachments.service import blob_location

from .atrest import StoreSealer
from .errors import DocumentError

SEALED, PLAIN = "sealed", "plain"
CHUNK = 1 << 16
_HEX2 = re.compile(r"[0-9a-f]{2}")
_SHA = re.compile(r"[0-9a-f]{64}")


class FileFailed(Exception):
    """One blob could not be converted; it was left exactly as it was."""


def iter_blobs(root: Path, *, after: str = "") -> Iterator[str]:
    """Yield the SHA-256 of every blob in the store in ascending order, those after `after` only."""
    root = Path(root)
    if not root.is_dir():
        return
    for first in sorted(p.name for p in root.iterdir() if _HEX2.fullmatch(p.name) and p.is_dir()):
        if first < after[:2]:
            continue  # the whole folder sorts before the cursor
        for second in sorted(p.name for p in (root / first).iterdir() if _HEX2.fullmatch(p.name) and p.is_dir()):
            if first + second < after[:4]:
                continue
            names = sorted(p.name for p in (root / first / second).iterdir()
                           if _SHA.fullmatch(p.name) and p.name.startswith(first + second))
            yield from (name for name in names if name > after)


def remove_leftovers(root: Path, *, older_than: float) -> int:
    """Delete temporary files a crashed conversion left beside the blobs, if older than `older_than` seconds."""
    removed, cutoff = 0, time.time() - older_than
    for path in Path(root).glob("??/??/.reseal-*"):
        try:
            # A live conversion writes its temporary file continuously, so an old one belongs to a dead worker.
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def count_blobs(root: Path) -> int:
    """Count the blobs in the store."""
    return sum(1 for _ in iter_blobs(root))


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, inner: BinaryIO):
        self.inner, self.digest = inner, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """Read and hash up to size bytes."""
        data = self.inner.read(size if size is not None and size >= 0 else CHUNK)
        self.digest.update(data)
        return data


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the folder's entry is on disk too.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(source: BinaryIO, tmp: BinaryIO, target: str, sealer: StoreSealer) -> str:
    reader = _Hashing(source)
    if target == SEALED:
        sealer.seal(reader, tmp)
    else:
        while chunk := reader.read(CHUNK):
            tmp.write(chunk)
    tmp.flush()
    os.fsync(tmp.fileno())
    return reader.digest.hexdigest()


def _readback(tmp: BinaryIO, target: str, sealer: StoreSealer) -> str:
    tmp.seek(0)
    if target == PLAIN:
        return sealing.raw_sha256(tmp)
    return sealing.raw_sha256(sealing.unsealed(tmp, sealer))


def _replace(tmp_name: str, path: Path, original: os.stat_result) -> bool:
    if not path.exists():
        return False  # deleted meanwhile (the release job): do not bring it back
    # Same mode and times as the original: the release job reads the mtime to tell a blob in use.
    os.chmod(tmp_name, original.st_mode & 0o7777)
    os.utime(tmp_name, ns=(original.st_atime_ns, original.st_mtime_ns))
    os.replace(tmp_name, path)
    _fsync_dir(path.parent)
    return True


def convert(root: Path, sha256: str, target: str, sealer: StoreSealer) -> bool:
    """Bring one blob to the target form (SEALED with the current key, or PLAIN); return whether it changed.

    Raises attachments' StoreKeyMismatch/StoreKeyMissing for a blob sealed with a key not held (the run must stop),
    FileFailed for a blob that cannot be converted (damaged, not matching its name, unreadable).
    """
    path = blob_location(Path(root), sha256)
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        return False  # deleted since the walk: nothing to protect
    with raw:
        original = os.fstat(raw.fileno())
        head = raw.read(sealer.header_size)
        kind = sealing.classify_file(raw, sha256, sealer)
        if kind == sealing.FOREIGN:
            raise sealing.foreign_error(sha256, sealer)
        if (target == PLAIN and kind == sealing.PLAIN) or (target == SEALED and sealer.is_current(head)):
            return False
        return _rewrite(raw, path, sha256, kind, target, sealer, original)


def _rewrite(raw: BinaryIO, path: Path, sha256: str, kind: str, target: str, sealer: StoreSealer,
             original: os.stat_result) -> bool:
    source = raw if kind == sealing.PLAIN else sealing.unsealed(raw, sealer, name=sha256)
    tmp = tempfile.NamedTemporaryFile(dir=path.parent, prefix=".reseal-", delete=False)
    try:
        with tmp:
            try:
                written = _write(source, tmp, target, sealer)
            except DocumentError as exc:  # the sealed original fails authentication: damaged
                raise FileFailed(f"{sha256}: {exc.reason}") from None
            if written != sha256:
                raise FileFailed(f"{sha256}: its content no longer matches its SHA-256 (damaged); left as it is")
            if _readback(tmp, target, sealer) != sha256:
                raise FileFailed(f"{sha256}: the rewritten file did not read back the same; left as it is")
        return _replace(tmp.name, path, original)
    except OSError as exc:
        raise FileFailed(f"{sha256}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)
