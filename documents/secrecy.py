"""Password and at-rest encryption of document content: chunked AES-256-GCM behind a self-describing header.

Format (version 1), all integers big-endian::

    header  = magic "FDSEC" | version u8 | kdf u8 | kdf params 3 x u32 | salt 16 | nonce prefix 7
              | chunk size u32 | key check 8 | crc32 of the preceding bytes u32
    chunk i = AES-256-GCM(file key, nonce = prefix | i u32 | last u8, aad = header)(plaintext[i])

The master key is the password through Argon2id or scrypt (parameters in the header, so files stay
readable when defaults change) or, for the store's at-rest cipher (kdf 0), the configured key.
The file key is HKDF(master, salt): one key per file, so random nonce prefixes never collide across
files. Counter and last-chunk flag in the nonce make reordering, truncation and appended data fail
authentication (the STREAM construction used by age and Tink). The key check, a separate HKDF output,
tells a wrong password from changed data; for the at-rest key it is constant and serves as a key id.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import io
import os
import struct
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .errors import Corrupted, InvalidKey, PasswordRefused, UnsupportedFormat, WrongPassword

MAGIC = b"FDSEC"
VERSION = 1
KDF_NONE, KDF_ARGON2ID, KDF_SCRYPT = 0, 1, 2
_FIELDS = struct.Struct(">5sBBIII16s7sI8s")
HEADER_SIZE = _FIELDS.size + 4
TAG_SIZE = 16
DEFAULT_CHUNK = 64 * 1024
# Bounds applied when reading a header: a crafted file must not make us allocate gigabytes or spin.
_CHUNK_RANGE = (1024, 16 * 1024 * 1024)
_MAX_COUNTER = 2**32 - 1


@dataclass(frozen=True)
class Argon2idParams:
    """Argon2id cost; the defaults are RFC 9106's second recommendation (t=3, 64 MiB, p=4)."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4
    kdf_id = KDF_ARGON2ID

    def fields(self) -> tuple[int, int, int]:
        """Return the three header integers."""
        return self.time_cost, self.memory_kib, self.parallelism

    def within_bounds(self) -> bool:
        """Tell whether decrypting with these costs stays affordable."""
        return (1 <= self.time_cost <= 10 and 1 <= self.parallelism <= 16
                and 8 * self.parallelism <= self.memory_kib <= 1024 * 1024)

    def derive(self, secret: bytes, salt: bytes) -> bytes:
        """Derive a 32-byte master key."""
        return hash_secret_raw(secret, salt, time_cost=self.time_cost, memory_cost=self.memory_kib,
                               parallelism=self.parallelism, hash_len=32, type=Type.ID)


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost as log2(N), r, p; the defaults (N=2**17, r=8, p=1) use 128 MiB."""

    log2_n: int = 17
    r: int = 8
    p: int = 1
    kdf_id = KDF_SCRYPT

    def fields(self) -> tuple[int, int, int]:
        """Return the three header integers."""
        return self.log2_n, self.r, self.p

    def within_bounds(self) -> bool:
        """Tell whether decrypting with these costs stays affordable (at most 1 GiB)."""
        return (1 <= self.log2_n <= 20 and 1 <= self.r <= 32 and 1 <= self.p <= 16
                and 128 * self.r * (2**self.log2_n) <= 1024**3)

    def derive(self, secret: bytes, salt: bytes) -> bytes:
        """Derive a 32-byte master key."""
        return Scrypt(salt=salt, length=32, n=2**self.log2_n, r=self.r, p=self.p).derive(secret)


KdfParams = Argon2idParams | ScryptParams
_KDFS = {KDF_ARGON2ID: Argon2idParams, KDF_SCRYPT: ScryptParams}


@dataclass(frozen=True)
class Header:
    """The parsed header of encrypted content."""

    raw: bytes
    kdf: KdfParams | None
    salt: bytes
    nonce_prefix: bytes
    chunk_size: int
    key_check: bytes

    @property
    def at_rest(self) -> bool:
        """Tell whether the store's at-rest key (no password) sealed this content."""
        return self.kdf is None


def _hkdf(master: bytes, *, salt: bytes | None, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(master)


def _key_check(master: bytes) -> bytes:
    return _hkdf(master, salt=None, info=b"flowdesk secrecy v1 key check", length=8)


def _new_header(kdf: KdfParams | None, salt: bytes, chunk_size: int, master: bytes) -> bytes:
    fields = kdf.fields() if kdf else (0, 0, 0)
    body = _FIELDS.pack(MAGIC, VERSION, kdf.kdf_id if kdf else KDF_NONE, *fields, salt, os.urandom(7),
                        chunk_size, _key_check(master))
    return body + struct.pack(">I", zlib.crc32(body))


def read_header(head: bytes, *, filename: str | None = None) -> Header:
    """Parse and check the header at the start of encrypted content."""
    if len(head) < HEADER_SIZE or not head.startswith(MAGIC):
        what = "is cut short" if head.startswith(MAGIC) else "has no Flowdesk encryption header"
        raise Corrupted(f"content {what}", filename=filename)
    magic, version, kdf_id, a, b, c, salt, prefix, chunk_size, check = _FIELDS.unpack_from(head)
    if version != VERSION:
        raise UnsupportedFormat(f"encryption format version {version} is not supported", filename=filename)
    (crc,) = struct.unpack_from(">I", head, _FIELDS.size)
    if crc != zlib.crc32(head[:_FIELDS.size]):
        raise Corrupted("encryption header is damaged", filename=filename)
    kdf = None
    if kdf_id != KDF_NONE:
        if kdf_id not in _KDFS:
            raise UnsupportedFormat(f"unknown key derivation {kdf_id}", filename=filename)
        kdf = _KDFS[kdf_id](a, b, c)
        if not kdf.within_bounds():
            raise UnsupportedFormat(f"key derivation cost {kdf.fields()} is beyond limits", filename=filename)
    if not _CHUNK_RANGE[0] <= chunk_size <= _CHUNK_RANGE[1]:
        raise UnsupportedFormat(f"chunk size {chunk_size} is beyond limits", filename=filename)
    return Header(bytes(head[:HEADER_SIZE]), kdf, salt, prefix, chunk_size, check)


def is_at_rest(head: bytes) -> bool:
    """Tell whether bytes (at least the first HEADER_SIZE) are already in the at-rest format."""
    try:
        return read_header(head).at_rest
    except (Corrupted, UnsupportedFormat):
        return False


def _read_full(src: BinaryIO, size: int) -> bytes:
    # Pipes and sockets may return short reads; a chunk boundary must not depend on them.
    parts, left = [], size
    while left:
        part = src.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def _seal(src: BinaryIO, dst: BinaryIO, master: bytes, kdf: KdfParams | None, salt: bytes,
          chunk_size: int) -> int:
    if not _CHUNK_RANGE[0] <= chunk_size <= _CHUNK_RANGE[1]:
        raise ValueError(f"chunk_size must be within {_CHUNK_RANGE}")
    header = _new_header(kdf, salt, chunk_size, master)
    prefix = read_header(header).nonce_prefix
    aead = AESGCM(_hkdf(master, salt=salt, info=b"flowdesk secrecy v1 file key", length=32))
    dst.write(header)
    written, counter = len(header), 0
    current = _read_full(src, chunk_size)
    while True:
        following = _read_full(src, chunk_size) if len(current) == chunk_size else b""
        if counter > _MAX_COUNTER:
            raise ValueError("content is too large for one encrypted file")
        sealed = aead.encrypt(_nonce(prefix, counter, not following), current, header)
        dst.write(sealed)
        written += len(sealed)
        if not following:
            return written
        current, counter = following, counter + 1


def _open(src: BinaryIO, header: Header, master: bytes, filename: str | None) -> Iterator[bytes]:
    # Checked before the generator starts, so a wrong password fails at the call, not at first read.
    if not hmac.compare_digest(_key_check(master), header.key_check):
        what = "store key" if header.at_rest else "password"
        raise WrongPassword(f"wrong {what}", filename=filename)
    aead = AESGCM(_hkdf(master, salt=header.salt, info=b"flowdesk secrecy v1 file key", length=32))
    return _plain_chunks(src, header, aead, filename)


def _plain_chunks(src: BinaryIO, header: Header, aead: AESGCM, filename: str | None) -> Iterator[bytes]:
    sealed_size = header.chunk_size + TAG_SIZE
    counter = 0
    current = _read_full(src, sealed_size)
    while True:
        following = _read_full(src, sealed_size) if len(current) == sealed_size else b""
        last = not following
        try:
            plain = aead.decrypt(_nonce(header.nonce_prefix, counter, last), current, header.raw)
        except InvalidTag:
            raise Corrupted(_why_chunk_fails(aead, header, counter, current, last), filename=filename) from None
        yield plain
        if last:
            return
        current, counter = following, counter + 1


def _why_chunk_fails(aead: AESGCM, header: Header, counter: int, sealed: bytes, last: bool) -> str:
    # The same chunk opening with the opposite last-flag tells cut-off and appended data from edits.
    if len(sealed) >= TAG_SIZE:
        try:
            aead.decrypt(_nonce(header.nonce_prefix, counter, not last), sealed, header.raw)
            return "content is truncated" if last else "unexpected data after the end of the content"
        except InvalidTag:
            pass
    elif last:
        return "content is truncated"
    return f"chunk {counter} was changed or moved"


def _password_bytes(password: str) -> bytes:
    if not password:
        raise PasswordRefused("a password is required")
    # NFC so that the same password typed through different input methods derives the same key.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _password_master(header: Header, password: str, filename: str | None) -> bytes:
    if header.at_rest:
        raise UnsupportedFormat("content is sealed with the store key, not a password", filename=filename)
    return header.kdf.derive(_password_bytes(password), header.salt)


def encrypt_stream(src: BinaryIO, dst: BinaryIO, *, password: str, kdf: KdfParams | None = None,
                   chunk_size: int = DEFAULT_CHUNK) -> int:
    """Encrypt a stream with a password chunk by chunk; return the number of bytes written."""
    kdf = kdf or Argon2idParams()
    salt = os.urandom(16)
    return _seal(src, dst, kdf.derive(_password_bytes(password), salt), kdf, salt, chunk_size)


def iter_decrypt(src: BinaryIO, *, password: str, filename: str | None = None) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; each is authentic, the last check comes at the end."""
    header = read_header(_read_full(src, HEADER_SIZE), filename=filename)
    return _open(src, header, _password_master(header, password, filename), filename)


def decrypt_stream(src: BinaryIO, dst: BinaryIO, *, password: str, filename: str | None = None) -> int:
    """Decrypt a password-encrypted stream into dst; return the number of plaintext bytes."""
    return sum(dst.write(chunk) for chunk in iter_decrypt(src, password=password, filename=filename))


def encrypt_bytes(data: bytes, *, password: str, kdf: KdfParams | None = None,
                  chunk_size: int = DEFAULT_CHUNK) -> bytes:
    """Encrypt bytes with a password (for large files use encrypt_stream)."""
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, password=password, kdf=kdf, chunk_size=chunk_size)
    return out.getvalue()


def decrypt_bytes(data: bytes, *, password: str, filename: str | None = None) -> bytes:
    """Decrypt password-encrypted bytes (for large files use decrypt_stream)."""
    return b"".join(iter_decrypt(io.BytesIO(data), password=password, filename=filename))


def _config_key(value: str | bytes) -> bytes:
    if isinstance(value, bytes) and len(value) == 32:
        return value
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey("at-rest key is not valid base64") from None
    if len(key) != 32:
        raise InvalidKey(f"at-rest key must be 32 bytes, got {len(key)}")
    return key


class AtRestCipher:
    """The store's cipher: the same chunk format, keyed by configuration instead of a password."""

    def __init__(self, key: str | bytes, *, previous_keys: Sequence[str | bytes] = ()):
        self._key = _config_key(key)
        # Older keys only decrypt, so a re-encryption job can move files to the current key.
        self._keys = {_key_check(k): k for k in [*map(_config_key, previous_keys), self._key]}

    @property
    def key_id(self) -> str:
        """Return the current key's public id (hex), as stored in every header it writes."""
        return _key_check(self._key).hex()

    def needs_rewrap(self, head: bytes) -> bool:
        """Tell whether content is not yet sealed with the current key (plain, password or old key)."""
        try:
            header = read_header(head)
        except (Corrupted, UnsupportedFormat):
            return True
        return not header.at_rest or header.key_check != _key_check(self._key)

    def encrypt_stream(self, src: BinaryIO, dst: BinaryIO, *, chunk_size: int = DEFAULT_CHUNK) -> int:
        """Encrypt a stream with the current key; return the number of bytes written."""
        return _seal(src, dst, self._key, None, os.urandom(16), chunk_size)

    def iter_decrypt(self, src: BinaryIO, *, filename: str | None = None) -> Iterator[bytes]:
        """Yield the plaintext chunk by chunk, with whichever configured key sealed it."""
        header = read_header(_read_full(src, HEADER_SIZE), filename=filename)
        if not header.at_rest:
            raise UnsupportedFormat("content is sealed with a password, not the store key", filename=filename)
        return _open(src, header, self._keys.get(header.key_check, self._key), filename)

    def decrypt_stream(self, src: BinaryIO, dst: BinaryIO, *, filename: str | None = None) -> int:
        """Decrypt into dst; return the number of plaintext bytes."""
        return sum(dst.write(chunk) for chunk in self.iter_decrypt(src, filename=filename))

    def encrypt_bytes(self, data: bytes, *, chunk_size: int = DEFAULT_CHUNK) -> bytes:
        """Encrypt bytes with the current key."""
        out = io.BytesIO()
        self.encrypt_stream(io.BytesIO(data), out, chunk_size=chunk_size)
        return out.getvalue()

    def decrypt_bytes(self, data: bytes, *, filename: str | None = None) -> bytes:
        """Decrypt bytes sealed with any configured key."""
        return b"".join(self.iter_decrypt(io.BytesIO(data), filename=filename))


def new_at_rest_key() -> str:
    """Return a fresh random 32-byte key, base64, for the configuration."""
    return base64.b64encode(os.urandom(32)).decode("ascii")
