"""A safe unpacking plan for uploaded zip archives: checks every entry before anything is read or written.

Nothing is extracted to disk: the plan lists the files that passed (folder parts, name, declared size)
and the entries skipped with a reason; each file is read through a reader that stops at its declared size.
"""
from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from .errors import ArchiveRefused

_SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_UNICODE_PATH_EXTRA = 0x7075
_EOCD = b"PK\x05\x06"
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Windows maps these names to devices whatever the extension; a file called "con.txt" cannot be created.
_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_ARCHIVE_SUFFIXES = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz")


@dataclass(frozen=True)
class ArchiveLimits:
    """Safety limits for one archive; sizes in bytes, lengths of a name part in UTF-8 bytes."""

    max_entries: int = 10_000
    max_total_size: int = 1024**3
    max_file_size: int = 512 * 1024**2
    max_ratio: int = 200
    ratio_floor: int = 1024**2  # small files compress absurdly well without being a threat
    max_depth: int = 16
    max_nesting: int = 1  # archives inside archives the caller may open through plan_archive(nesting=...)
    max_name_length: int = 255
    max_path_length: int = 1024
    skip_bad_entries: bool = True  # False: refuse the whole archive at the first bad entry


@dataclass(frozen=True)
class SkippedEntry:
    """An entry left out of the plan, with the reason."""

    name: str
    reason: str


@dataclass(frozen=True)
class ArchiveFile:
    """A file that passed every check: where it goes, how big it says it is, and how to read it."""

    folders: tuple[str, ...]
    name: str
    size: int
    compressed_size: int
    info: zipfile.ZipInfo = field(repr=False)
    archive: zipfile.ZipFile = field(repr=False)

    @property
    def path(self) -> str:
        """Return the folder parts and name joined with '/'."""
        return "/".join((*self.folders, self.name))

    @property
    def is_archive(self) -> bool:
        """Tell whether the entry looks like an archive itself (open it only within max_nesting)."""
        return self.name.lower().endswith(_ARCHIVE_SUFFIXES)

    def open(self) -> BoundedReader:
        """Open a reader that refuses to return more (or fewer) bytes than declared."""
        return BoundedReader(self.archive.open(self.info), self.size, self.path)


class BoundedReader(io.RawIOBase):
    """Reads one entry and raises ArchiveRefused if its data does not match its declared size."""

    def __init__(self, inner: BinaryIO, declared: int, path: str):
        super().__init__()
        self._inner, self._declared, self._path, self._count = inner, declared, path, 0

    def readable(self) -> bool:
        """Say that this stream can be read."""
        return True

    def readinto(self, buffer) -> int:
        """Read into buffer, never past the declared size plus the one byte that proves a lie."""
        want = min(len(buffer), self._declared - self._count + 1)
        try:
            data = self._inner.read(want)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise ArchiveRefused(f"entry {self._path!r} is damaged ({exc})") from None
        self._count += len(data)
        if self._count > self._declared:
            raise ArchiveRefused(f"entry {self._path!r} holds more data than its declared {self._declared} bytes")
        if not data and want and self._count < self._declared:
            raise ArchiveRefused(f"entry {self._path!r} holds less data than its declared {self._declared} bytes")
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        """Close the entry."""
        self._inner.close()
        super().close()


@dataclass
class ArchivePlan:
    """The checked content of an archive; iterate for (folder parts, name, reader); close when done."""

    files: list[ArchiveFile]
    skipped: list[SkippedEntry]
    archive: zipfile.ZipFile = field(repr=False)

    @property
    def total_size(self) -> int:
        """Return the declared uncompressed size of all planned files."""
        return sum(f.size for f in self.files)

    def __iter__(self) -> Iterator[tuple[tuple[str, ...], str, BoundedReader]]:
        for item in self.files:
            yield item.folders, item.name, item.open()

    def close(self) -> None:
        """Close the underlying zip file."""
        self.archive.close()

    def __enter__(self) -> ArchivePlan:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _unicode_path(info: zipfile.ZipInfo, raw: bytes) -> str | None:
    # Info-ZIP's Unicode Path field (WinRAR, 7-Zip): the UTF-8 name, valid only if its CRC matches the raw one.
    extra, pos = info.extra, 0
    while pos + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4:pos + 4 + size]
        if kind == _UNICODE_PATH_EXTRA and len(body) > 5 and body[0] == 1:
            if struct.unpack_from("<I", body, 1)[0] == zlib.crc32(raw):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
        pos += 4 + size
    return None


def decode_entry_name(info: zipfile.ZipInfo) -> str:
    """Return the entry's real name: UTF-8 if flagged or valid, else GB18030 (Windows CP936), else CP437."""
    if info.flag_bits & _UTF8_FLAG:
        return info.orig_filename
    # Without the UTF-8 flag zipfile decoded the bytes as CP437; encoding back gives the raw bytes.
    raw = info.orig_filename.encode("cp437")
    named = _unicode_path(info, raw)
    if named is not None:
        return named
    for encoding in ("utf-8", "gb18030"):  # tools on macOS/Linux omit the flag; Chinese Windows writes CP936
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.orig_filename


def _path_problem(name: str, limits: ArchiveLimits) -> str | tuple[tuple[str, ...], str]:
    """Return the reason a name is unsafe, or its (folders, file name)."""
    if _CONTROL.search(name):
        return "control character in name"
    path = name.replace("\\", "/")  # Windows tools treat a backslash as a separator: so do we
    if path.startswith("/"):
        return "absolute path"
    if _DRIVE.match(path):
        return "drive letter in path"
    if len(path) > limits.max_path_length:
        return f"path longer than {limits.max_path_length} characters"
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts:
        return "empty name"
    for part in parts:
        if part == "..":
            return "parent folder reference (..)"
        if ":" in part:
            return "colon in name (drive or alternate data stream)"
        if part.rstrip(". ") != part:
            return "name part ends with a dot or space"  # Windows strips them: ".. " would become ".."
        if part.split(".")[0].lower() in _DEVICES:
            return f"reserved device name {part!r}"
        if len(part.encode("utf-8")) > limits.max_name_length:
            return f"name part longer than {limits.max_name_length} bytes"
    if len(parts) - 1 > limits.max_depth:
        return f"folders nested deeper than {limits.max_depth}"
    return tuple(parts[:-1]), parts[-1]


def _entry_problem(info: zipfile.ZipInfo, limits: ArchiveLimits) -> str | None:
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        return "symbolic link"
    if info.flag_bits & _ENCRYPTED_FLAG:
        return "encrypted entry"
    if info.compress_type not in _SUPPORTED_METHODS:
        return f"compression method {info.compress_type} not supported"
    if info.file_size > limits.max_file_size:
        return f"file larger than {limits.max_file_size} bytes"
    if info.file_size > limits.ratio_floor:
        if info.compress_size == 0 or info.file_size / info.compress_size > limits.max_ratio:
            ratio = info.file_size // max(info.compress_size, 1)
            return f"compression ratio {ratio}:1 over {limits.max_ratio}:1 (zip bomb?)"
    return None


def declared_entry_count(stream: BinaryIO) -> int | None:
    """Return the entry count the end-of-central-directory record declares, or None if unknown."""
    # Read the count from the end-of-central-directory record before zipfile builds an object per
    # entry: a crafted archive with millions of entries must be refused without that memory.
    stream.seek(0, os.SEEK_END)
    end = stream.tell()
    stream.seek(max(0, end - 65557))
    tail = stream.read()
    pos = tail.rfind(_EOCD)
    if pos < 0 or pos + 22 > len(tail):
        return None
    count = struct.unpack_from("<H", tail, pos + 10)[0]
    return None if count == 0xFFFF else count  # 0xFFFF: zip64, zipfile's count is checked later


def _check_count(stream: BinaryIO, limits: ArchiveLimits, filename: str | None) -> None:
    declared = declared_entry_count(stream)
    if declared is not None and declared > limits.max_entries:
        raise ArchiveRefused(f"archive has {declared} entries, more than {limits.max_entries}", filename=filename)
    stream.seek(0)


def _open_zip(source: bytes | BinaryIO | str | os.PathLike, limits: ArchiveLimits,
              filename: str | None) -> zipfile.ZipFile:
    try:
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as stream:
                _check_count(stream, limits, filename)
            return zipfile.ZipFile(source)  # opened by zipfile from the path, so closed with it
        if isinstance(source, bytes | bytearray | memoryview):
            source = io.BytesIO(source)
        _check_count(source, limits, filename)
        return zipfile.ZipFile(source)
    except ArchiveRefused:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, struct.error,
            NotImplementedError, UnicodeDecodeError) as exc:
        raise ArchiveRefused(f"not a readable zip archive ({exc})", filename=filename) from None


def _refuse(archive: zipfile.ZipFile, reason: str, filename: str | None) -> ArchiveRefused:
    archive.close()
    return ArchiveRefused(reason, filename=filename)


def plan_archive(source: bytes | BinaryIO | str | os.PathLike, *, limits: ArchiveLimits | None = None,
                 filename: str | None = None, nesting: int = 0) -> ArchivePlan:
    """Check every entry of a zip archive and return the files that are safe to unpack."""
    limits = limits or ArchiveLimits()
    if nesting > limits.max_nesting:
        raise ArchiveRefused(f"archives nested deeper than {limits.max_nesting}", filename=filename)
    archive = _open_zip(source, limits, filename)
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise _refuse(archive, f"archive has {len(entries)} entries, more than {limits.max_entries}", filename)
    files: list[ArchiveFile] = []
    skipped: list[SkippedEntry] = []
    seen: set[str] = set()
    for info in entries:
        name = decode_entry_name(info)
        checked = _path_problem(name, limits)
        if isinstance(checked, tuple) and (info.is_dir() or name.replace("\\", "/").endswith("/")):
            continue  # safe folders come from their files' paths; unsafe ones are reported below
        reason = checked if isinstance(checked, str) else _entry_problem(info, limits)
        if reason is None:
            key = "/".join((*checked[0], checked[1])).casefold()  # case-insensitive file systems collide
            reason = "duplicate name" if key in seen else None
            seen.add(key)
        if reason is not None:
            if not limits.skip_bad_entries:
                raise _refuse(archive, f"entry {name!r}: {reason}", filename)
            skipped.append(SkippedEntry(name, reason))
            continue
        files.append(ArchiveFile(checked[0], checked[1], info.file_size, info.compress_size, info, archive))
    total = sum(f.size for f in files)
    if total > limits.max_total_size:
        raise _refuse(archive, f"archive unpacks to {total} bytes, more than {limits.max_total_size}", filename)
    return ArchivePlan(files, skipped, archive)
