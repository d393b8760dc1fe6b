"""Archive plans: safe entries are listed with readers, every unsafe one is skipped or refused with a reason."""
from __future__ import annotations

import io
import shutil
import stat
import struct
import zipfile
import zlib

import pytest

from documents.archive import ArchiveLimits, plan_archive
from documents.errors import ArchiveRefused

from . import samples


def _skipped(entries: dict[str, bytes], **limits) -> dict[str, str]:
    with plan_archive(samples.zip_bytes(entries), limits=ArchiveLimits(**limits)) as plan:
        assert [f.path for f in plan.files] == ["ok.txt"]
        return {s.name: s.reason for s in plan.skipped}


def test_safe_entries_come_with_folders_names_and_readers():
    data = samples.zip_bytes({"合同/2024/报告.txt": "内容 content".encode(), "readme.md": b"# hi", "合同/": b""})
    with plan_archive(data) as plan:
        got = {(folders, name): reader.read() for folders, name, reader in plan}
        assert plan.skipped == [] and plan.total_size == len("内容 content".encode()) + 4
    assert got == {(("合同", "2024"), "报告.txt"): "内容 content".encode(), ((), "readme.md"): b"# hi"}


def _renamed(placeholder: str, raw: bytes, *, extra: bytes = b"") -> bytes:
    # zipfile writes non-ASCII names as UTF-8 with the flag; Windows tools write raw code-page bytes
    # without it. Same-length ASCII placeholders swapped for the raw bytes give such an archive.
    assert len(placeholder.encode()) == len(raw)
    info = zipfile.ZipInfo(placeholder)
    info.extra = extra
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(info, "内容".encode("gbk"))
    return out.getvalue().replace(placeholder.encode(), raw)


def test_a_gbk_name_from_chinese_windows_is_decoded():
    raw = "项目资料/中文报告.txt".encode("gbk")
    with plan_archive(_renamed("x" * (len(raw) - 4) + ".txt", raw)) as plan:
        (entry,) = plan.files
        assert not entry.info.flag_bits & 0x800
        assert (entry.folders, entry.name) == (("项目资料",), "中文报告.txt")


def test_a_utf8_name_without_the_flag_is_decoded():
    raw = "报告.txt".encode()
    with plan_archive(_renamed("x" * (len(raw) - 4) + ".txt", raw)) as plan:
        assert plan.files[0].name == "报告.txt"


def test_the_unicode_path_field_wins_when_it_matches_the_raw_name():
    utf8 = "季度报告.txt".encode()
    field = struct.pack("<HHBI", 0x7075, 5 + len(utf8), 1, zlib.crc32(b"????.txt")) + utf8
    with plan_archive(_renamed("abcd.txt", b"????.txt", extra=field)) as plan:
        assert plan.files[0].name == "季度报告.txt"
    stale = struct.pack("<HHBI", 0x7075, 5 + len(utf8), 1, zlib.crc32(b"other")) + utf8
    with plan_archive(_renamed("abcd.txt", b"????.txt", extra=stale)) as plan:
        assert plan.files[0].name == "????.txt"


@pytest.mark.parametrize("name, reason", [
    ("../evil.txt", "parent folder reference"),
    ("docs/../../evil.txt", "parent folder reference"),
    ("..\\..\\windows\\evil.txt", "parent folder reference"),
    ("docs\\..\\..\\evil.txt", "parent folder reference"),
    ("/etc/passwd", "absolute path"),
    ("\\\\server\\share\\evil.txt", "absolute path"),
    ("C:/Windows/evil.txt", "drive letter"),
    ("c:\\evil.txt", "drive letter"),
    ("docs/file.txt:hidden", "colon in name"),
    ("docs/.. /evil.txt", "ends with a dot or space"),
    ("evil.txt.", "ends with a dot or space"),
    ("CON.txt", "reserved device name"),
    ("a\x01b.txt", "control character"),
    ("x" * 256 + ".txt", "name part longer than 255 bytes"),
    ("报" * 90 + ".txt", "name part longer than 255 bytes"),
    ("/".join(["d"] * 17) + "/deep.txt", "nested deeper than 16"),
    ("OK.TXT", "duplicate name"),
])
def test_unsafe_names_are_skipped_with_the_reason(name, reason):
    skipped = _skipped({"ok.txt": b"fine", name: b"bad"})
    assert reason in skipped[name]


def test_an_unsafe_folder_entry_is_reported_and_a_safe_one_ignored():
    assert _skipped({"ok.txt": b"x", "../up/": b"", "safe/": b""}) == {"../up/": "parent folder reference (..)"}


def test_length_and_depth_limits_are_configurable():
    assert _skipped({"ok.txt": b"x", "a/b/c.txt": b"x"}, max_depth=1) == {"a/b/c.txt": "folders nested deeper than 1"}
    assert "longer than 10 characters" in _skipped({"ok.txt": b"x", "abcdefgh/ij.txt": b"x"},
                                                   max_path_length=10)["abcdefgh/ij.txt"]


def test_a_symbolic_link_is_skipped():
    link = zipfile.ZipInfo("ok-link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("ok.txt", b"x")
        archive.writestr(link, "/etc/passwd")
    with plan_archive(out.getvalue()) as plan:
        assert [(s.name, s.reason) for s in plan.skipped] == [("ok-link", "symbolic link")]


def test_encrypted_entries_and_unknown_methods_are_skipped():
    data = samples.zip_bytes({"ok.txt": b"x", "secret.txt": b"y", "odd.txt": b"z"})
    data = samples.patch_central(data, "secret.txt", offset=8, value=struct.pack("<H", 1))
    data = samples.patch_central(data, "odd.txt", offset=10, value=struct.pack("<H", 99))
    with plan_archive(data) as plan:
        assert {s.name: s.reason for s in plan.skipped} == {
            "secret.txt": "encrypted entry", "odd.txt": "compression method 99 not supported"}


def test_a_zip_bomb_entry_is_skipped_by_its_compression_ratio():
    skipped = _skipped({"ok.txt": b"\0" * 100_000, "bomb.bin": b"\0" * (5 * 1024**2)})
    assert "zip bomb" in skipped["bomb.bin"] and ":1 over 200:1" in skipped["bomb.bin"]


def test_an_oversized_file_is_skipped():
    assert _skipped({"ok.txt": b"x", "big.bin": b"y" * 2000}, max_file_size=1000) == {
        "big.bin": "file larger than 1000 bytes"}


def test_an_archive_unpacking_to_too_much_is_refused():
    data = samples.zip_bytes({f"f{i}.bin": bytes(1000) for i in range(3)})
    with pytest.raises(ArchiveRefused) as caught:
        plan_archive(data, limits=ArchiveLimits(max_total_size=2500), filename="上传.zip")
    assert caught.value.message == "上传.zip: archive unpacks to 3000 bytes, more than 2500"


def test_an_archive_with_too_many_entries_is_refused_before_they_are_parsed(monkeypatch):
    data = samples.zip_bytes({f"f{i}.txt": b"" for i in range(12)})
    monkeypatch.setattr(zipfile, "ZipFile", None)  # the count comes from the end record alone
    with pytest.raises(ArchiveRefused) as caught:
        plan_archive(data, limits=ArchiveLimits(max_entries=10))
    assert caught.value.reason == "archive has 12 entries, more than 10"


def test_strict_limits_refuse_the_whole_archive_at_the_first_bad_entry():
    data = samples.zip_bytes({"ok.txt": b"x", "../evil.txt": b"y"})
    with pytest.raises(ArchiveRefused) as caught:
        plan_archive(data, limits=ArchiveLimits(skip_bad_entries=False), filename="a.zip")
    assert caught.value.message == "a.zip: entry '../evil.txt': parent folder reference (..)"


@pytest.mark.parametrize("declared", [3, 400])
def test_an_entry_whose_data_does_not_match_its_declared_size_cannot_be_read(declared):
    data = samples.zip_bytes({"ok.txt": b"a" * 100})
    lying = samples.patch_central(data, "ok.txt", offset=24, value=struct.pack("<I", declared))
    with plan_archive(lying) as plan, pytest.raises(ArchiveRefused) as caught:
        for _folders, _name, reader in plan:
            reader.read()
    assert "'ok.txt'" in caught.value.reason


def test_a_reader_copies_like_a_file_and_stops_at_the_declared_size(tmp_path):
    content = "内容".encode() * 50_000
    with plan_archive(samples.zip_bytes({"ok.txt": content})) as plan:
        with plan.files[0].open() as reader, (tmp_path / "out").open("wb") as out:
            shutil.copyfileobj(reader, out, 4096)
    assert (tmp_path / "out").read_bytes() == content


def test_a_path_or_a_file_object_works_as_the_source(tmp_path):
    path = tmp_path / "upload.zip"
    path.write_bytes(samples.zip_bytes({"ok.txt": b"x"}))
    with plan_archive(path) as plan:
        assert plan.files[0].name == "ok.txt"
    with path.open("rb") as stream, plan_archive(stream) as plan:
        assert plan.files[0].name == "ok.txt"


@pytest.mark.parametrize("data", [b"not a zip at all", b"PK\x03\x04broken", samples.zip_bytes({"a": b"b"})[:-30]])
def test_something_that_is_not_a_readable_zip_is_refused(data):
    with pytest.raises(ArchiveRefused) as caught:
        plan_archive(data, filename="上传.zip")
    assert caught.value.message.startswith("上传.zip: not a readable zip archive")


def test_nested_archives_are_marked_and_their_depth_is_limited():
    inner = samples.zip_bytes({"deep.txt": b"x"})
    with plan_archive(samples.zip_bytes({"inner.zip": inner, "ok.txt": b"y"})) as plan:
        nested = next(f for f in plan.files if f.is_archive)
        with nested.open() as reader:
            content = reader.read()
    with plan_archive(content, nesting=1) as inner_plan:
        assert inner_plan.files[0].name == "deep.txt"
    with pytest.raises(ArchiveRefused) as caught:
        plan_archive(content, nesting=2, filename="inner.zip")
    assert caught.value.reason == "archives nested deeper than 1"
