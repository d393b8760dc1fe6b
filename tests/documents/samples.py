"""Small documents built in memory for the document tests: each holds Chinese and English text."""
from __future__ import annotations

import io
import zipfile

ZH = "客户投诉处理流程"
EN = "Customer complaint"


def docx_bytes() -> bytes:
    """Return a Word file with body text, a merged and a nested table, a header and a footer."""
    import docx

    document = docx.Document()
    document.add_paragraph(f"正文 {ZH} body {EN}")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "合同编号 contract"
    table.cell(0, 1).text = "应收账款 receivable"
    merged = table.cell(1, 0).merge(table.cell(1, 1))
    merged.text = "合并单元格 merged"
    nested = table.cell(0, 1).add_table(rows=1, cols=1)
    nested.cell(0, 0).text = "嵌套表格 nested"
    section = document.sections[0]
    section.header.paragraphs[0].text = "页眉 header text"
    section.footer.paragraphs[0].text = "页脚 footer text"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    """Return a workbook with two sheets, Chinese strings, numbers and a date."""
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户"
    sheet.append(["名称", "Name", "金额"])
    sheet.append([ZH, EN, 1234.5])
    other = book.create_sheet("订单 orders")
    other["C5"] = "应收账款 receivable"
    other["A7"] = datetime.date(2024, 3, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pptx_bytes() -> bytes:
    """Return a presentation with a title, a body, a table, a group and speaker notes."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = f"{ZH} title"
    slide.placeholders[1].text = f"{EN} 正文"
    table = slide.shapes.add_table(1, 2, Inches(1), Inches(4), Inches(4), Inches(1)).table
    table.cell(0, 0).text = "表格 cell"
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(5), Inches(2), Inches(1)).text_frame.text = "组合 grouped"
    slide.notes_slide.notes_text_frame.text = "备注 speaker notes"
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def pdf_bytes(lines: list[str]) -> bytes:
    """Return a one-page PDF whose text uses a Type0 font with a ToUnicode map, as real CJK PDFs do."""
    chars = sorted({c for line in lines for c in line})
    code = {c: i + 1 for i, c in enumerate(chars)}  # glyph ids of a font subset: 1, 2, 3...
    bfchar = "\n".join(f"<{code[c]:04X}> <{ord(c):04X}>" for c in chars)
    cmap = (f"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /FD-UCS def "
            f"1 begincodespacerange <0000> <FFFF> endcodespacerange {len(chars)} beginbfchar\n{bfchar}\n"
            f"endbfchar endcmap CMapName currentdict /CMap defineresource pop end end").encode()
    shows = " ".join(f"<{''.join(f'{code[c]:04X}' for c in line)}> Tj 0 -24 Td" for line in lines)
    content = f"BT /F1 14 Tf 50 760 Td {shows} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /NotoSansCJKsc /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /NotoSansCJKsc /CIDSystemInfo "
        b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap),
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def blank_pdf_bytes() -> bytes:
    """Return a PDF page without any text, like a scan."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def rtf_bytes() -> bytes:
    """Return RTF from a Chinese Windows: GBK bytes as \\'hh escapes, plus \\uN escapes."""
    escaped = "".join(f"\\'{b:02x}" for b in "客户投诉".encode("gbk"))
    unicode = "".join(f"\\u{ord(c)}?" for c in "处理流程")
    return (r"{\rtf1\ansi\ansicpg936\deff0{\fonttbl{\f0\fnil\fcharset134 SimSun;}}"
            r"\f0 " + escaped + unicode + r" Customer complaint\par "
            r"{\*\generator Riched20}second line\par}").encode("ascii")


def zip_bytes(entries: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """Return a zip holding the given names and contents."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def patch_central(data: bytes, name: str, *, offset: int, value: bytes) -> bytes:
    """Overwrite bytes of one entry's central-directory record (where zipfile reads sizes and flags)."""
    eocd = data.rindex(b"PK\x05\x06")
    start = int.from_bytes(data[eocd + 16:eocd + 20], "little")  # offset of the central directory
    encoded = name.encode("utf-8")
    while data[start + 46:start + 46 + int.from_bytes(data[start + 28:start + 30], "little")] != encoded:
        lengths = [int.from_bytes(data[start + at:start + at + 2], "little") for at in (28, 30, 32)]
        start += 46 + sum(lengths)
        if data[start:start + 4] != b"PK\x01\x02":
            raise KeyError(name)
    return data[:start + offset] + value + data[start + offset + len(value):]
