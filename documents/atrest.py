"""The file store's at-rest cipher: secrecy's chunked AES-256-GCM with the configured store key (kdf 0).

Password-encrypted documents are wrapped too: their stored bytes (already a password file) are sealed like any
other blob. One rule for every file keeps the re-encryption job free of database lookups, lets a key mismatch be
detected on every file, and hides on disk which files carry a password and with what key-derivation costs. The
blob's name stays the SHA-256 of the password file, so fingerprints and dedup are untouched.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from attachments import sealing
from attachments.errors import StoreKeyMissing

from . import secrecy
from .errors import Corrupted, UnsupportedFormat


class StoreSealer:
    """The store's sealer for attachments.sealing; without a key it only recognises sealed files."""

    header_size = secrecy.HEADER_SIZE

    def __init__(self, key: str | bytes | None, *, previous_keys: Sequence[str | bytes] = ()):
        self._cipher = secrecy.AtRestCipher(key, previous_keys=previous_keys) if key else None
        # Key checks of every key that can open a file: the current one and older ones kept for rotation.
        self._known = {secrecy.AtRestCipher(k).key_id for k in previous_keys}
        if self._cipher is not None:
            self._known.add(self._cipher.key_id)

    @property
    def key_id(self) -> str | None:
        """Return the current key's public id, or None when no key is configured."""
        return self._cipher.key_id if self._cipher else None

    def header_key_id(self, head: bytes) -> str | None:
        """Return the key id in an at-rest header, or None when the bytes are not sealed at rest."""
        try:
            header = secrecy.read_header(head)
        except (Corrupted, UnsupportedFormat):
            return None
        return header.key_check.hex() if header.at_rest else None

    def classify(self, head: bytes) -> str:
        """Tell PLAIN, SEALED (with a key held here) or FOREIGN (an at-rest header of a key not held)."""
        key_id = self.header_key_id(head)
        if key_id is None:
            return sealing.PLAIN
        return sealing.SEALED if key_id in self._known else sealing.FOREIGN

    def is_current(self, head: bytes) -> bool:
        """Tell whether content is sealed with the current key (not an older one)."""
        return self.key_id is not None and self.header_key_id(head) == self.key_id

    def seal(self, src: BinaryIO, dst: BinaryIO) -> None:
        """Seal src into dst with the current key."""
        if self._cipher is None:
            raise StoreKeyMissing("FLOWDESK_STORE_KEY is not configured")
        self._cipher.encrypt_stream(src, dst)

    def unseal(self, src: BinaryIO, *, name: str = "") -> Iterator[bytes]:
        """Yield the plain bytes of sealed content, checking the key first."""
        if self._cipher is None:
            raise StoreKeyMissing("FLOWDESK_STORE_KEY is not configured")
        return self._cipher.iter_decrypt(src, filename=name or None)


def install(store_dir: Path, key: str | bytes | None, *, previous_keys: Sequence[str | bytes] = ()) -> StoreSealer:
    """Build the store's sealer from the configured keys and use it for a store folder in this process."""
    sealer = StoreSealer(key, previous_keys=previous_keys)
    sealing.install(store_dir, sealer)
    return sealer
