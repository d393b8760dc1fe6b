"""Word and PDF output: the built-in layout and a company template, read back with python-docx and pypdf."""
from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from docx import Document
from pypdf import PdfReader

from documents import output
from documents.output import OutputError, Sheet


def png(width: int = 8, height: int = 8) -> bytes:
    """A small red PNG made here, so the tests need no image file."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


SHEET = Sheet(title="采购合同审批单 Purchase contract approval", subtitle="编号 CT-2026-0042",
              fields=[("客户 Customer", "华东精密机械有限公司"), ("金额 Amount", "¥ 128,000.00")],
              table_title="审批记录 Approval history", columns=["步骤", "处理人", "结果", "意见"],
              rows=[["部门审批", "李娜", "同意", "价格合理"], ["财务审核", "赵磊", "同意", ""]],
              signatures=["经办人 Handled by", "负责人 Approved by"], stamp=png(), footer="Flowdesk")


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    # pypdf reports the positioned glyphs with NULs and spaces between them; compare without either.
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"[\s\x00]+", "", text)


def test_the_built_in_word_layout_holds_every_field_row_signature_and_the_stamp():
    data = output.sheet_docx(SHEET)
    text = docx_text(data)
    for expected in ("采购合同审批单", "华东精密机械有限公司", "¥ 128,000.00", "价格合理", "赵磊", "经办人 Handled by"):
        assert expected in text
    assert len(Document(io.BytesIO(data)).inline_shapes) == 1  # the stamp


def test_the_pdf_embeds_a_chinese_font_and_reads_back():
    try:
        output.cjk_font()
    except OutputError:
        pytest.skip("no CJK font on this machine (scripts/install-system installs fonts-noto-cjk)")
    data = output.sheet_pdf(SHEET)
    text = pdf_text(data)
    for expected in ("采购合同审批单", "华东精密机械有限公司", "¥128,000.00", "价格合理", "财务审核", "负责人Approvedby"):
        assert expected in text, expected
    reader = PdfReader(io.BytesIO(data))
    fonts = [f for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    descendant = fonts[0].get_object()["/DescendantFonts"][0].get_object()
    assert "/FontFile2" in descendant["/FontDescriptor"] or "/FontFile3" in descendant["/FontDescriptor"]
    # Copying text out works in any viewer: the font's ToUnicode map names 采 (U+91C7).
    assert b"<91C7>" in fonts[0].get_object()["/ToUnicode"].get_object().get_data()
    assert any("/XObject" in page["/Resources"] for page in reader.pages)  # the stamp


def test_a_missing_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(output, "CJK_FONTS", ())
    monkeypatch.setenv("FLOWDESK_CJK_FONT", "/no/such/font.ttf")
    with pytest.raises(OutputError, match="fonts-noto-cjk"):
        output.sheet_pdf(SHEET)


def company_template(body: list[str]) -> bytes:
    document = Document()
    for line in body:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_company_template_is_filled_with_the_fields_rows_and_stamp():
    template = company_template(["{{ title }}", "客户：{{ fields['客户 Customer'] }}",
                                 "{% for row in rows %}{{ row[0] }}={{ row[2] }};{% endfor %}", "{{ stamp }}",
                                 "{{ '<b>' }}"])
    data = output.template_docx(template, SHEET)
    text = docx_text(data)
    assert "客户：华东精密机械有限公司" in text and "部门审批=同意;财务审核=同意;" in text
    assert len(Document(io.BytesIO(data)).inline_shapes) == 1


@pytest.mark.parametrize("template, message", [
    (b"not a word file", "not a Word"),
    ("{{ title.__class__.__mro__[1].__subclasses__() }}", "has an error"),
    ("{% for x in %}", "has an error"),
])
def test_a_bad_template_is_refused_with_the_reason(template, message):
    data = template if isinstance(template, bytes) else company_template([template])
    with pytest.raises(OutputError, match=message):
        output.template_docx(data, SHEET)


@pytest.mark.parametrize("stamp, message", [(b"GIF89a....", "PNG or JPEG"), (b"\x89PNG\r\n\x1a\n" + b"x" * 10,
                                                                              None)])
def test_a_bad_stamp_is_refused(stamp, message):
    sheet = Sheet(title="t", stamp=stamp)
    with pytest.raises(OutputError) as refused:
        output.sheet_docx(sheet) if message else output.sheet_pdf(sheet)
    assert refused.value.details["field"] == "stamp"
