"""Fingerprints of document content: SHA-256 and CRC32 computed together in one chunked pass."""
from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 1 << 20

Source = bytes | bytearray | memoryview | BinaryIO


@dataclass(frozen=True)
class Fingerprint:
    """SHA-256 (hex), CRC32 (unsigned int) and size in bytes of some content."""

    sha256: str
    crc32: int
    size: int

    @property
    def crc32_hex(self) -> str:
        """Return the CRC32 as eight hex digits, the way zip tools print it."""
        return f"{self.crc32:08x}"

    def as_dict(self) -> dict:
        """Return the fingerprint as plain JSON-friendly values."""
        return {"sha256": self.sha256, "crc32": self.crc32, "size": self.size}

    @classmethod
    def from_dict(cls, value: dict) -> Fingerprint:
        """Build a fingerprint from the values `as_dict` gave."""
        return cls(sha256=str(value["sha256"]).lower(), crc32=int(value["crc32"]), size=int(value["size"]))


@dataclass(frozen=True)
class Verification:
    """Outcome of comparing content with a stored fingerprint; `changed` if any part differs."""

    actual: Fingerprint
    sha256_differs: bool
    crc32_differs: bool
    size_differs: bool

    @property
    def changed(self) -> bool:
        """Tell whether the content is not the one fingerprinted."""
        return self.sha256_differs or self.crc32_differs or self.size_differs

    @property
    def differing(self) -> tuple[str, ...]:
        """Name the parts of the fingerprint that differ."""
        flags = (("sha256", self.sha256_differs), ("crc32", self.crc32_differs), ("size", self.size_differs))
        return tuple(name for name, differs in flags if differs)


def _chunks(source: Source, chunk_size: int):
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        # Slicing a memoryview copies nothing, so large in-memory content is hashed without duplicates.
        for start in range(0, len(view), chunk_size):
            yield view[start:start + chunk_size]
        return
    while chunk := source.read(chunk_size):
        yield chunk


def fingerprint(source: Source, *, chunk_size: int = CHUNK) -> Fingerprint:
    """Compute SHA-256, CRC32 and size of bytes or a binary stream in one pass."""
    digest = hashlib.sha256()
    crc = 0
    size = 0
    for chunk in _chunks(source, chunk_size):
        digest.update(chunk)
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
    return Fingerprint(sha256=digest.hexdigest(), crc32=crc & 0xFFFFFFFF, size=size)


def verify(source: Source, expected: Fingerprint, *, chunk_size: int = CHUNK) -> Verification:
    """Fingerprint the content again and say which parts differ from the expected fingerprint."""
    actual = fingerprint(source, chunk_size=chunk_size)
    return Verification(
        actual=actual,
        sha256_differs=actual.sha256 != expected.sha256.lower(),
        crc32_differs=actual.crc32 != expected.crc32,
        size_differs=actual.size != expected.size,
    )
