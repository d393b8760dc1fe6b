"""Fingerprints: SHA-256 and CRC32 in one pass, and any changed byte is seen."""
from __future__ import annotations

import hashlib
import io
import zlib

import pytest

from documents.integrity import Fingerprint, fingerprint, verify

DATA = "合同 contract ".encode() * 10_000


def test_known_values():
    result = fingerprint(b"abc")
    assert result.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert (result.crc32, result.crc32_hex, result.size) == (0x352441C2, "352441c2", 3)


@pytest.mark.parametrize("chunk_size", [1, 7, 4096, 1 << 20])
def test_bytes_and_streams_in_any_chunking_give_the_same_fingerprint(chunk_size):
    expected = Fingerprint(hashlib.sha256(DATA).hexdigest(), zlib.crc32(DATA), len(DATA))
    assert fingerprint(io.BytesIO(DATA), chunk_size=chunk_size) == expected
    if chunk_size > 1:
        assert fingerprint(DATA, chunk_size=chunk_size) == expected
        assert fingerprint(memoryview(DATA), chunk_size=chunk_size) == expected


def test_unchanged_content_verifies():
    result = verify(io.BytesIO(DATA), fingerprint(DATA))
    assert not result.changed and result.differing == ()


@pytest.mark.parametrize("position", [0, len(DATA) // 2, len(DATA) - 1])
def test_a_single_changed_byte_is_detected_by_both_checksums(position):
    changed = bytearray(DATA)
    changed[position] ^= 0x01
    result = verify(bytes(changed), fingerprint(DATA))
    assert result.changed and result.differing == ("sha256", "crc32")


def test_a_changed_length_is_named():
    assert verify(DATA + b"\0", fingerprint(DATA)).differing == ("sha256", "crc32", "size")


def test_only_a_crc32_that_differs_is_named():
    stored = fingerprint(DATA)
    wrong_crc = Fingerprint(stored.sha256.upper(), stored.crc32 ^ 1, stored.size)
    assert verify(DATA, wrong_crc).differing == ("crc32",)


def test_a_fingerprint_survives_storage_as_a_dict():
    stored = fingerprint(DATA)
    assert Fingerprint.from_dict(stored.as_dict()) == stored
