"""The file store's at-rest sealing as the store sees it: which sealer a store folder uses, reading plain bytes.

The cipher lives in documents (documents.atrest), which depends on this package; it installs a sealer here per
store folder, so attachments, which may not import documents, read and write sealed blobs the same way.
A blob is named by the SHA-256 of its plain bytes whether it is sealed or not, so dedup and fingerprints hold.
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy.orm import Session

from .errors import StoreKeyMismatch, StoreKeyMissing
from .models import FileStoreState

PLAIN, SEALED, FOREIGN = "plain", "sealed", "foreign"
STATE_ID = 1
CHUNK = 1 << 16


class Sealer(Protocol):
    """What the store needs of an at-rest cipher (documents.atrest.StoreSealer is the one)."""

    header_size: int

    @property
    def key_id(self) -> str | None:
        """Return the current key's public id, or None when no key is configured."""

    def classify(self, head: bytes) -> str:
        """Tell PLAIN, SEALED (with a key held here) or FOREIGN (an at-rest header of a key not held)."""

    def seal(self, src: BinaryIO, dst: BinaryIO) -> None:
        """Seal src into dst with the current key."""

    def unseal(self, src: BinaryIO, *, name: str = "") -> Iterator[bytes]:
        """Yield the plain bytes of sealed content, checking the key first."""


_SEALERS: dict[Path, Sealer] = {}


def _key(store_dir: Path) -> Path:
    return Path(store_dir).resolve()


def install(store_dir: Path, sealer: Sealer | None) -> None:
    """Use a sealer for a store folder from now on in this process (None forgets it)."""
    if sealer is None:
        _SEALERS.pop(_key(store_dir), None)
    else:
        _SEALERS[_key(store_dir)] = sealer


def sealer_for(store_dir: Path) -> Sealer | None:
    """Return the sealer installed for a store folder, if any."""
    return _SEALERS.get(_key(store_dir))


def get_state(session: Session) -> FileStoreState:
    """Return the store's state row, a fresh unsaved one when the setting was never touched."""
    state = session.get(FileStoreState, STATE_ID)
    if state is None:
        state = FileStoreState(id=STATE_ID, encrypt=False, status="idle", target="plain", run=0, cursor="",
                               done=0, failed=0)
    return state


def sealer_for_writing(session: Session, store_dir: Path) -> Sealer | None:
    """Return the sealer new blobs go through while the setting is on, else None (they stay plain)."""
    if not get_state(session).encrypt:
        return None
    sealer = sealer_for(store_dir)
    # Fail closed: with encryption switched on, silently storing plain files would break the promise.
    if sealer is None or sealer.key_id is None:
        raise StoreKeyMissing("the file store is encrypted at rest but FLOWDESK_STORE_KEY is not configured; "
                              "files cannot be stored until it is")
    return sealer


def raw_sha256(stream: BinaryIO) -> str:
    """Hash a stream's bytes as they are, from its current position."""
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def classify_file(raw: BinaryIO, sha256: str, sealer: Sealer | None) -> str:
    """Tell whether an open blob is PLAIN, SEALED or FOREIGN, leaving the stream at its start."""
    if sealer is None:
        return PLAIN
    raw.seek(0)
    kind = sealer.classify(raw.read(sealer.header_size))
    raw.seek(0)
    # Plain content may look like an at-rest header; its name, the hash of its bytes, says it is plain.
    if kind == FOREIGN and raw_sha256(raw) == sha256:
        kind = PLAIN
    raw.seek(0)
    return kind


def foreign_error(sha256: str, sealer: Sealer | None) -> StoreKeyMismatch | StoreKeyMissing:
    """Return the error for a blob sealed with a key this process does not hold."""
    if sealer is None or sealer.key_id is None:
        return StoreKeyMissing(f"stored file {sha256[:12]}… is sealed at rest but FLOWDESK_STORE_KEY is not "
                               "configured", details={"sha256": sha256})
    return StoreKeyMismatch(f"stored file {sha256[:12]}… is sealed with a different store key than the "
                            f"configured FLOWDESK_STORE_KEY (key id {sealer.key_id})",
                            details={"sha256": sha256, "key_id": sealer.key_id})


class _ChunkReader(io.RawIOBase):
    """A readable stream over an iterator of plain chunks; closing it closes the sealed file."""

    def __init__(self, raw: BinaryIO, chunks: Iterator[bytes]):
        self._raw, self._chunks, self._pending = raw, chunks, b""

    def readable(self) -> bool:
        """Tell that this stream reads."""
        return True

    def readinto(self, buffer) -> int:
        """Fill buffer from the next plain chunk(s); 0 at the end."""
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        """Close the sealed file under this stream."""
        if not self.closed:
            self._raw.close()
        super().close()


def unsealed(raw: BinaryIO, sealer: Sealer, *, name: str = "") -> BinaryIO:
    """Return a stream of the plain bytes of an open sealed file (at its start); closing it closes the file."""
    return io.BufferedReader(_ChunkReader(raw, sealer.unseal(raw, name=name)), CHUNK)


def open_plain(path: Path, sha256: str, sealer: Sealer | None, *, name: str = "") -> BinaryIO:
    """Open a blob file for reading its plain bytes, sealed at rest or not (FileNotFoundError if missing)."""
    raw = open(path, "rb")
    try:
        kind = classify_file(raw, sha256, sealer)
        if kind == PLAIN:
            return raw
        if kind == FOREIGN:
            raise foreign_error(sha256, sealer)
        return unsealed(raw, sealer, name=name)
    except BaseException:
        raw.close()
        raise


def is_plain_file(path: Path, sha256: str, store_dir: Path) -> bool:
    """Tell whether a blob file holds its plain bytes (so it can be sent as it is)."""
    with open(path, "rb") as raw:
        return classify_file(raw, sha256, sealer_for(store_dir)) == PLAIN
