"""Password and at-rest encryption: unreadable without the key, and every change to the bytes is caught."""
from __future__ import annotations

import base64
import io
import struct
import tracemalloc
import zlib

import pytest

from documents import secrecy
from documents.errors import Corrupted, InvalidKey, PasswordRefused, UnsupportedFormat, WrongPassword
from documents.secrecy import HEADER_SIZE, TAG_SIZE, Argon2idParams, AtRestCipher, ScryptParams

CHEAP = Argon2idParams(time_cost=1, memory_kib=1024, parallelism=1)  # real defaults take ~0.2 s each
CHUNK = 1024
SEALED = CHUNK + TAG_SIZE
TEXT = "合同全文 contract body ".encode() * 200  # 5,400 bytes: five full chunks and a short one


def _seal(data: bytes = TEXT, password: str = "正确的密码") -> bytes:
    return secrecy.encrypt_bytes(data, password=password, kdf=CHEAP, chunk_size=CHUNK)


def _chunk(sealed: bytes, number: int) -> bytes:
    return sealed[HEADER_SIZE + number * SEALED:HEADER_SIZE + (number + 1) * SEALED]


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7])
def test_content_of_any_size_comes_back(size):
    data = bytes(range(256)) * (size // 256 + 1)
    assert secrecy.decrypt_bytes(_seal(data[:size]), password="正确的密码") == data[:size]


def test_the_ciphertext_shows_nothing_and_differs_every_time():
    first, second = _seal(), _seal()
    assert "合同".encode() not in first and b"contract" not in first
    assert first != second  # fresh salt and nonce per file
    assert len(first) == HEADER_SIZE + len(TEXT) + 6 * TAG_SIZE


def test_a_wrong_password_gives_wrong_password_naming_the_file():
    with pytest.raises(WrongPassword) as caught:
        secrecy.decrypt_bytes(_seal(), password="错误的密码", filename="合同.docx")
    assert caught.value.message == "合同.docx: wrong password"
    assert caught.value.filename == "合同.docx"


def test_a_flipped_byte_in_any_chunk_is_corruption():
    sealed = _seal()
    for position in (HEADER_SIZE, HEADER_SIZE + SEALED + 10, len(sealed) - 1):
        damaged = bytearray(sealed)
        damaged[position] ^= 0x01
        with pytest.raises(Corrupted) as caught:
            secrecy.decrypt_bytes(bytes(damaged), password="正确的密码", filename="a.bin")
        assert "was changed or moved" in caught.value.reason


def test_a_flipped_byte_in_the_header_is_corruption_not_a_wrong_password():
    for position in [p for p in range(HEADER_SIZE) if p != 5]:
        damaged = bytearray(_seal())
        damaged[position] ^= 0x01
        with pytest.raises(Corrupted):
            secrecy.decrypt_bytes(bytes(damaged), password="正确的密码")
    damaged = bytearray(_seal())
    damaged[5] ^= 0x01  # the version byte: a changed one reads as a format we do not know
    with pytest.raises(UnsupportedFormat):
        secrecy.decrypt_bytes(bytes(damaged), password="正确的密码")


def test_truncation_at_a_chunk_boundary_is_detected():
    sealed = _seal()
    for chunks in (5, 1):
        with pytest.raises(Corrupted) as caught:
            secrecy.decrypt_bytes(sealed[:HEADER_SIZE + chunks * SEALED], password="正确的密码")
        assert caught.value.reason == "content is truncated"


@pytest.mark.parametrize("cut", [1, 17, SEALED // 2])
def test_truncation_inside_a_chunk_is_detected(cut):
    with pytest.raises(Corrupted):
        secrecy.decrypt_bytes(_seal()[:-cut], password="正确的密码")


def test_truncation_to_the_header_or_less_is_detected():
    sealed = _seal()
    for end in (HEADER_SIZE, HEADER_SIZE + 5, HEADER_SIZE - 1, 3):
        with pytest.raises(Corrupted):
            secrecy.decrypt_bytes(sealed[:end], password="正确的密码")


def test_reordered_chunks_are_detected():
    sealed = _seal()
    swapped = sealed[:HEADER_SIZE] + _chunk(sealed, 1) + _chunk(sealed, 0) + sealed[HEADER_SIZE + 2 * SEALED:]
    with pytest.raises(Corrupted) as caught:
        secrecy.decrypt_bytes(swapped, password="正确的密码")
    assert caught.value.reason == "chunk 0 was changed or moved"


def test_appended_data_is_detected():
    sealed = _seal(TEXT[:3 * CHUNK])  # ends on a full chunk, so the extra bytes form a chunk of their own
    with pytest.raises(Corrupted) as caught:
        secrecy.decrypt_bytes(sealed + _chunk(sealed, 0), password="正确的密码")
    assert caught.value.reason == "unexpected data after the end of the content"
    with pytest.raises(Corrupted):
        secrecy.decrypt_bytes(_seal() + b"x", password="正确的密码")


def test_a_chunk_from_another_file_with_the_same_password_is_rejected():
    first, second = _seal(), _seal()
    mixed = first[:HEADER_SIZE + SEALED] + _chunk(second, 1) + first[HEADER_SIZE + 2 * SEALED:]
    with pytest.raises(Corrupted):
        secrecy.decrypt_bytes(mixed, password="正确的密码")


def test_plain_bytes_are_not_mistaken_for_encrypted_content():
    with pytest.raises(Corrupted) as caught:
        secrecy.decrypt_bytes(TEXT, password="x", filename="plain.txt")
    assert "no Flowdesk encryption header" in caught.value.message


def _rewrite_header(sealed: bytes, **changes) -> bytes:
    fields = list(struct.unpack_from(">5sBBIII16s7sI8s", sealed))
    names = ["magic", "version", "kdf", "a", "b", "c", "salt", "prefix", "chunk", "check"]
    for name, value in changes.items():
        fields[names.index(name)] = value
    body = struct.pack(">5sBBIII16s7sI8s", *fields)
    return body + struct.pack(">I", zlib.crc32(body)) + sealed[HEADER_SIZE:]


@pytest.mark.parametrize("changes, words", [
    ({"version": 2}, "version 2"), ({"kdf": 9}, "unknown key derivation"),
    ({"b": 64 * 1024**2}, "beyond limits"), ({"a": 1000}, "beyond limits"), ({"chunk": 1 << 30}, "chunk size"),
])
def test_unknown_versions_and_unaffordable_parameters_are_refused(changes, words):
    with pytest.raises(UnsupportedFormat) as caught:
        secrecy.decrypt_bytes(_rewrite_header(_seal(), **changes), password="正确的密码")
    assert words in caught.value.reason


def test_the_header_carries_the_parameters_so_old_files_open_after_defaults_change():
    sealed = secrecy.encrypt_bytes(TEXT, password="pw", kdf=ScryptParams(log2_n=10, r=8, p=1), chunk_size=4096)
    header = secrecy.read_header(sealed)
    assert (header.kdf, header.chunk_size) == (ScryptParams(10, 8, 1), 4096)
    assert secrecy.decrypt_bytes(sealed, password="pw") == TEXT
    assert secrecy.read_header(_seal()).kdf == CHEAP


def test_the_default_key_derivation_is_argon2id_at_rfc_9106_cost():
    sealed = secrecy.encrypt_bytes(b"x", password="pw")
    assert secrecy.read_header(sealed).kdf == Argon2idParams(time_cost=3, memory_kib=65536, parallelism=4)


def test_the_same_password_typed_composed_or_decomposed_opens_the_file():
    sealed = _seal(password="caf\u00e9")
    assert secrecy.decrypt_bytes(sealed, password="cafe\u0301") == TEXT


def test_an_empty_password_is_refused():
    with pytest.raises(PasswordRefused):
        _seal(password="")


def test_streams_are_decrypted_chunk_by_chunk():
    source, sealed = io.BytesIO(TEXT), io.BytesIO()
    written = secrecy.encrypt_stream(source, sealed, password="pw", kdf=CHEAP, chunk_size=CHUNK)
    assert written == len(sealed.getvalue())
    chunks = list(secrecy.iter_decrypt(io.BytesIO(sealed.getvalue()), password="pw"))
    assert len(chunks) == 6 and b"".join(chunks) == TEXT
    plain = io.BytesIO()
    assert secrecy.decrypt_stream(io.BytesIO(sealed.getvalue()), plain, password="pw") == len(TEXT)


class _Zeros(io.RawIOBase):
    """A large source that holds nothing in memory."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


class _Sink(io.RawIOBase):
    """Keeps a count, and the bytes only while they are few."""

    def __init__(self, keep: int = 0):
        self.size, self.kept, self.keep = 0, bytearray(), keep

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.size < self.keep:
            self.kept += bytes(data)[: self.keep - self.size]
        self.size += len(data)
        return len(data)


def test_two_hundred_megabytes_stream_through_in_little_memory(tmp_path):
    size = 200 * 1024**2
    sealed_path = tmp_path / "sealed.bin"
    tracemalloc.start()
    with sealed_path.open("wb") as sealed:
        secrecy.encrypt_stream(_Zeros(size), sealed, password="pw", kdf=CHEAP)
    _, encrypt_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    plain = _Sink()
    with sealed_path.open("rb") as sealed:
        secrecy.decrypt_stream(sealed, plain, password="pw")
    _, decrypt_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert plain.size == size
    assert encrypt_peak < 4 * 1024**2 and decrypt_peak < 4 * 1024**2


KEY = base64.b64encode(bytes(range(32))).decode()
OLD_KEY = base64.b64encode(bytes(range(100, 132))).decode()


def test_the_at_rest_cipher_round_trips_and_is_recognised():
    cipher = AtRestCipher(KEY)
    sealed = cipher.encrypt_bytes(TEXT)
    assert cipher.decrypt_bytes(sealed) == TEXT and TEXT[:20] not in sealed
    assert secrecy.is_at_rest(sealed) and secrecy.is_at_rest(sealed[:HEADER_SIZE])
    assert not secrecy.is_at_rest(_seal())  # a password-encrypted file is not at rest
    assert not secrecy.is_at_rest(TEXT) and not secrecy.is_at_rest(sealed[:HEADER_SIZE - 1])
    assert secrecy.read_header(sealed).key_check.hex() == cipher.key_id


def test_the_at_rest_cipher_detects_tampering_and_the_wrong_key():
    sealed = AtRestCipher(KEY).encrypt_bytes(TEXT)
    damaged = bytearray(sealed)
    damaged[HEADER_SIZE + 3] ^= 0x80
    with pytest.raises(Corrupted):
        AtRestCipher(KEY).decrypt_bytes(bytes(damaged))
    with pytest.raises(WrongPassword) as caught:
        AtRestCipher(OLD_KEY).decrypt_bytes(sealed, filename="f.pdf")
    assert caught.value.message == "f.pdf: wrong store key"


def test_rotation_reads_old_keys_and_says_what_needs_rewrapping():
    old = AtRestCipher(OLD_KEY).encrypt_bytes(TEXT)
    rotated = AtRestCipher(KEY, previous_keys=[OLD_KEY])
    assert rotated.decrypt_bytes(old) == TEXT
    assert rotated.needs_rewrap(old) and rotated.needs_rewrap(TEXT) and rotated.needs_rewrap(_seal())
    assert not rotated.needs_rewrap(rotated.encrypt_bytes(TEXT)[:HEADER_SIZE])


def test_password_and_store_formats_are_not_confused():
    with pytest.raises(UnsupportedFormat):
        secrecy.decrypt_bytes(AtRestCipher(KEY).encrypt_bytes(TEXT), password="pw")
    with pytest.raises(UnsupportedFormat):
        AtRestCipher(KEY).decrypt_bytes(_seal())


@pytest.mark.parametrize("value, words", [("not base64!", "not valid base64"),
                                          (base64.b64encode(b"short").decode(), "must be 32 bytes, got 5")])
def test_a_bad_configured_key_is_refused(value, words):
    with pytest.raises(InvalidKey) as caught:
        AtRestCipher(value)
    assert words in caught.value.reason


def test_a_new_key_is_32_random_bytes():
    first, second = secrecy.new_at_rest_key(), secrecy.new_at_rest_key()
    assert len(base64.b64decode(first)) == 32 and first != second
    AtRestCipher(first)
