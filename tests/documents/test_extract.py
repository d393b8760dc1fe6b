"""Text extraction: every format gives its Chinese and English text; bad content gives a status, never an error."""
from __future__ import annotations

import codecs
import io
import shutil
import subprocess
import zipfile

import pytest

from documents.extract import EMPTY, OK, UNREADABLE, UNSUPPORTED, ExtractLimits, decode_text, extract_text
from documents.pdfguard import protect_pdf

from . import samples
from .samples import EN, ZH


def _ok(data: bytes, filename: str, fmt: str):
    result = extract_text(data, filename=filename)
    assert (result.status, result.format) == (OK, fmt), result
    assert ZH in result.text and EN in result.text, result.text
    return result


def test_docx_gives_body_tables_nested_tables_headers_and_footers_once():
    text = _ok(samples.docx_bytes(), "合同.docx", "docx").text
    for piece in ("合同编号 contract", "应收账款 receivable", "嵌套表格 nested", "页眉 header text", "页脚 footer text"):
        assert piece in text
    assert text.count("合并单元格 merged") == 1


def test_xlsx_gives_every_sheet_with_values_and_titles():
    text = _ok(samples.xlsx_bytes(), "客户.xlsx", "xlsx").text
    for piece in ("客户", "订单 orders", "应收账款 receivable", "1234.5", "2024-03-01"):
        assert piece in text


def test_pptx_gives_slides_tables_groups_and_notes():
    text = _ok(samples.pptx_bytes(), "汇报.pptx", "pptx").text
    for piece in ("正文", "表格 cell", "组合 grouped", "备注 speaker notes"):
        assert piece in text


def test_pdf_with_a_cjk_font_gives_its_text():
    data = samples.pdf_bytes([f"{ZH} 第一行", f"{EN} second line"])
    text = _ok(data, "报告.pdf", "pdf").text
    assert "第一行" in text and "second line" in text


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("chromium"), reason="no chromium to print a real PDF")
def test_a_browser_printed_pdf_with_an_embedded_cjk_font_gives_its_text(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(f"<html><meta charset='utf-8'><body><p>{ZH} {EN}</p></body></html>", encoding="utf-8")
    pdf = tmp_path / "page.pdf"
    run = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                          f"--print-to-pdf={pdf}", page.as_uri()], capture_output=True, timeout=120)
    if run.returncode or not pdf.exists():
        pytest.skip("chromium could not print here")
    _ok(pdf.read_bytes(), "page.pdf", "pdf")


def test_a_pdf_without_text_is_empty_not_an_error():
    result = extract_text(samples.blank_pdf_bytes(), filename="scan.pdf")
    assert (result.status, result.format, result.text) == (EMPTY, "pdf", "")
    assert "scanned" in result.reason


def test_a_password_protected_pdf_is_unreadable_with_the_reason():
    data = protect_pdf(samples.pdf_bytes([ZH]), user_password="secret")
    result = extract_text(data, filename="locked.pdf")
    assert (result.status, result.reason) == (UNREADABLE, "password-protected PDF")


def test_a_pdf_protected_only_against_changes_still_gives_its_text():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf_bytes([f"{ZH} {EN}"]))))
    writer.encrypt("", "owner-only", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    _ok(out.getvalue(), "owner.pdf", "pdf")


def test_rtf_from_a_chinese_windows_gives_its_text():
    result = _ok(samples.rtf_bytes(), "memo.rtf", "rtf")
    assert "客户投诉处理流程" in result.text and "second line" in result.text
    assert "Riched20" not in result.text


@pytest.mark.parametrize("charset, encoding", [("utf-8", "utf-8"), ("gb2312", "gb18030"), ("GBK", "gb18030")])
def test_html_is_decoded_by_its_meta_charset_without_scripts_and_styles(charset, encoding):
    page = (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>标题 Title</title><style>p {{color: red}}</style></head><body><p>{ZH}</p><div>{EN}</div>"
            "<script>var secret = '脚本';</script><!-- 注释 --></body></html>")
    result = _ok(page.encode(encoding), "page.htm", "html")
    assert result.encoding == encoding
    assert f"{ZH}\n{EN}" in result.text and "标题 Title" in result.text
    assert "脚本" not in result.text and "color" not in result.text and "注释" not in result.text


def test_html_is_recognised_by_content_whatever_its_name():
    data = f"<?xml version='1.0' encoding='utf-8'?>\n<html><body>{ZH} {EN}</body></html>".encode()
    _ok(data, "export.dat", "html")


@pytest.mark.parametrize("encoded, encoding", [
    (f"{ZH} {EN}\n".encode("gb18030"), "gb18030"),
    (f"{ZH}，{EN}。龘\n".encode("gb18030"), "gb18030"),
    (codecs.BOM_UTF8 + f"{ZH} {EN}".encode(), "utf-8-sig"),
    (codecs.BOM_UTF16_LE + f"{ZH} {EN}".encode("utf-16-le"), "utf-16"),
    (codecs.BOM_UTF16_BE + f"{ZH} {EN}".encode("utf-16-be"), "utf-16"),
    (f"{ZH} {EN}".encode(), "utf-8"),
])
def test_text_files_in_every_chinese_encoding_give_their_text(encoded, encoding):
    result = _ok(encoded, "notes.txt", "txt")
    assert result.encoding == encoding


def test_csv_and_markdown_keep_their_format_name():
    assert _ok(f"名称,name\n{ZH},{EN}\n".encode("gb18030"), "客户.csv", "csv").encoding == "gb18030"
    _ok(f"# {ZH}\n\n{EN}".encode(), "readme.md", "md")


def test_western_text_is_not_mistaken_for_chinese():
    text, encoding = decode_text("Réunion à Genève: café, naïve, déjà vu — prêt. ".encode("cp1252") * 3)
    assert (text[:24], encoding) == ("Réunion à Genève: café, ", "cp1252")


@pytest.mark.parametrize("text, encoding", [
    ("Réunion Müller Fähre Göteborg Zürich Dvorák", "cp1252"),  # every byte pair also valid GB18030
    ("這是繁體中文的客戶投訴處理流程規定，服務工單需在四十八小時內回應。", "big5"),
])
def test_bytes_that_only_happen_to_be_valid_gb18030_are_not_read_as_it(text, encoding):
    data = text.encode(encoding, "replace")
    data.decode("gb18030")  # the trap: this succeeds, with nonsense
    decoded, detected = decode_text(data)
    assert detected != "gb18030"
    assert decoded.split()[0] == text.split()[0]


def test_whitespace_is_normalised():
    result = extract_text(f"  {ZH}\u3000\u3000{EN}\t\x01 \r\n\n\n  next\xa0line  ".encode(), filename="a.txt")
    assert result.text == f"{ZH} {EN}\nnext line"


def test_text_is_capped_at_the_maximum():
    result = extract_text(("客户" * 5000).encode(), filename="big.txt", limits=ExtractLimits(max_chars=1000))
    assert (result.status, len(result.text), result.truncated) == (OK, 1000, True)


def test_default_cap_is_two_million_characters():
    assert ExtractLimits().max_chars == 2_000_000


def test_a_huge_text_file_is_read_only_up_to_its_head():
    data = ("客" * 3000).encode("gb18030")
    result = extract_text(io.BytesIO(data), filename="huge.txt", limits=ExtractLimits(max_bytes=1001, max_chars=10**6))
    assert result.status == OK and result.truncated
    assert set(result.text) == {"客"} and len(result.text) == 500  # a character cut by the cap is dropped


def test_a_huge_binary_document_is_not_parsed():
    result = extract_text(samples.docx_bytes(), filename="a.docx", limits=ExtractLimits(max_bytes=1000))
    assert result.status == UNREADABLE and "larger than 1000" in result.reason


def test_no_time_left_stops_with_a_reason():
    result = extract_text(samples.docx_bytes(), filename="a.docx", limits=ExtractLimits(max_seconds=-1))
    assert (result.status, result.reason) == (UNREADABLE, "time limit reached")


def test_the_spreadsheet_cell_budget_cuts_the_text():
    result = extract_text(samples.xlsx_bytes(), filename="a.xlsx", limits=ExtractLimits(max_cells=3))
    assert result.truncated and "名称" in result.text and ZH not in result.text


def test_a_corrupt_docx_is_unreadable_not_an_exception():
    good = samples.docx_bytes()
    for data in (good[: len(good) // 2], b"PK\x03\x04" + b"\x00" * 100):
        result = extract_text(data, filename="broken.docx")
        assert (result.status, result.format) == (UNREADABLE, "docx") and result.reason, result
    garbage = samples.zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": "<w:document 中".encode()})
    assert extract_text(garbage, filename="broken.docx").status == UNREADABLE


def test_a_zip_bomb_disguised_as_a_docx_is_refused_before_unpacking():
    bomb = samples.zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\0" * (20 * 1024**2)})
    assert len(bomb) < 100_000
    result = extract_text(bomb, filename="bomb.docx", limits=ExtractLimits(max_unzipped=10 * 1024**2))
    assert result.status == UNREADABLE and "zip bomb" in result.reason


def test_a_zip_with_too_many_parts_is_refused():
    many = samples.zip_bytes({"[Content_Types].xml": b"", **{f"xl/p{i}.xml": b"" for i in range(50)}})
    result = extract_text(many, filename="many.xlsx", limits=ExtractLimits(max_zip_entries=20))
    assert result.status == UNREADABLE and "more than 20" in result.reason


def test_the_content_decides_the_format_not_the_name():
    _ok(samples.pdf_bytes([f"{ZH} {EN}"]), "disguised.docx", "pdf")
    assert extract_text(f"{ZH} {EN}".encode(), filename="fake.pdf").format == "txt"


@pytest.mark.parametrize("data, reason", [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "PNG image"),
    (samples.zip_bytes({"a.txt": b"x"}), "zip archive, not an Office document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "legacy Office binary format (.doc, .xls, .ppt)"),
    (b"\x01\x02\x00\x03" * 50, "binary content"),
])
def test_other_formats_are_unsupported_with_the_reason(data, reason):
    result = extract_text(data, filename="file.doc")
    assert (result.status, result.reason) == (UNSUPPORTED, reason)


def test_a_password_protected_office_file_is_unreadable():
    # Encrypted OOXML is an OLE compound file holding an "EncryptedPackage" stream.
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptedPackage".encode("utf-16-le")
    result = extract_text(data, filename="locked.docx")
    assert (result.status, result.reason) == (UNREADABLE, "password-protected Office document")


def test_empty_input_is_empty():
    assert extract_text(b"", filename="empty.txt").status == EMPTY
    assert extract_text(b"   \n", filename="blank.html").status == EMPTY


def test_damaged_copies_of_every_format_never_raise():
    originals = [(samples.docx_bytes(), "a.docx"), (samples.xlsx_bytes(), "a.xlsx"), (samples.pptx_bytes(), "a.pptx"),
                 (samples.pdf_bytes([ZH, EN]), "a.pdf"), (samples.rtf_bytes(), "a.rtf"),
                 (f"<html><body>{ZH}</body></html>".encode("gb18030"), "a.html")]
    for data, name in originals:
        for at in range(0, len(data), max(1, len(data) // 12)):
            for damaged in (data[:at], data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]):
                result = extract_text(damaged, filename=name)
                assert result.status in (OK, EMPTY, UNREADABLE, UNSUPPORTED)
                assert (result.status == OK) == bool(result.text)


def test_a_file_object_is_read_like_bytes():
    _ok(io.BytesIO(samples.docx_bytes()), "a.docx", "docx")


def test_a_zip_entry_lying_about_its_size_cannot_unpack_more(tmp_path):
    data = samples.docx_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        size = archive.getinfo("word/document.xml").file_size
    lying = samples.patch_central(data, "word/document.xml", offset=24, value=(size // 10).to_bytes(4, "little"))
    result = extract_text(lying, filename="lying.docx")
    assert result.status == UNREADABLE
