"""Word and PDF output: a sheet (title, fields, a table, signature lines, a stamp) as .docx or .pdf.

The built-in layout serves every record and approval form; a company's own Word template (any .docx with
Jinja tags such as {{ fields.name }} or a {% for row in rows %} table) is filled by docxtpl instead. PDFs
embed the subset of a CJK font they use (fpdf2), so Chinese reads the same on every machine. Bytes in,
bytes out: no database here.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DocumentError

# Looked up in this order; FLOWDESK_CJK_FONT names another TrueType/OpenType file or collection.
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
             "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SC_FACE = {"NotoSansCJK-Regular.ttc": 2, "NotoSerifCJK-Regular.ttc": 2}  # the Simplified Chinese face
MAX_STAMP_BYTES = 2 * 2**20
MAX_TEMPLATE_BYTES = 10 * 2**20


class OutputError(DocumentError):
    """A sheet cannot be produced: no CJK font, a bad template or stamp; the message says which."""

    code = "output_refused"


@dataclass
class Sheet:
    """What one generated document shows, in reading order."""

    title: str
    subtitle: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)
    table_title: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    stamp: bytes | None = None
    footer: str = ""

    def context(self) -> dict:
        """Return the values a Word template sees: title, subtitle, fields (by label), rows, signatures."""
        return {"title": self.title, "subtitle": self.subtitle, "fields": dict(self.fields),
                "field_list": [{"label": k, "value": v} for k, v in self.fields],
                "columns": self.columns, "rows": self.rows, "signatures": self.signatures, "footer": self.footer}


def cjk_font() -> tuple[str, int]:
    """Return the CJK font file to embed and its face number, or raise OutputError naming what to install."""
    configured = os.environ.get("FLOWDESK_CJK_FONT")
    for candidate in ([configured] if configured else []) + list(CJK_FONTS):
        if candidate and Path(candidate).is_file():
            return candidate, SC_FACE.get(Path(candidate).name, 0)
    raise OutputError("No Chinese font for PDF output: install fonts-noto-cjk or set FLOWDESK_CJK_FONT to a "
                      ".ttf, .otf or .ttc file.", details={"field": "font"})


def _check_stamp(stamp: bytes | None) -> None:
    if stamp is None:
        return
    if len(stamp) > MAX_STAMP_BYTES:
        raise OutputError(f"The stamp image is larger than {MAX_STAMP_BYTES // 2**20} MB.", details={"field": "stamp"})
    if not (stamp.startswith(b"\x89PNG\r\n\x1a\n") or stamp.startswith(b"\xff\xd8")):
        raise OutputError("The stamp must be a PNG or JPEG image.", details={"field": "stamp"})


def sheet_docx(sheet: Sheet) -> bytes:
    """Return the sheet as a Word document in the built-in layout."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    _check_stamp(sheet.stamp)
    document = Document()
    normal = document.styles["Normal"]
    normal.font.size = Pt(10.5)
    # East Asian text takes the eastAsia font of the run; without it Word falls back to a Latin font's look.
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    heading = document.add_heading(sheet.title, level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if sheet.subtitle:
        document.add_paragraph(sheet.subtitle).alignment = WD_ALIGN_PARAGRAPH.CENTER
    if sheet.fields:
        table = document.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in sheet.fields:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, value
            cells[0].width, cells[1].width = Cm(4.5), Cm(11.5)
    if sheet.columns:
        if sheet.table_title:
            document.add_heading(sheet.table_title, level=2)
        table = document.add_table(rows=1, cols=len(sheet.columns))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, sheet.columns, strict=True):
            cell.text = name
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for row in sheet.rows:
            for cell, value in zip(table.add_row().cells, row, strict=False):
                cell.text = value
    if sheet.signatures:
        document.add_paragraph()
        for label in sheet.signatures:
            document.add_paragraph(f"{label}：________________________    日期 Date：____________")
    if sheet.stamp:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.add_run().add_picture(io.BytesIO(sheet.stamp), width=Cm(4))
    if sheet.footer:
        document.sections[0].footer.paragraphs[0].text = sheet.footer
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def template_docx(template: bytes, sheet: Sheet) -> bytes:
    """Fill a company's Word template (Jinja tags, docxtpl) with the sheet's values; `stamp` is an image."""
    from docx.shared import Cm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    if len(template) > MAX_TEMPLATE_BYTES:
        raise OutputError(f"The template is larger than {MAX_TEMPLATE_BYTES // 2**20} MB.",
                          details={"field": "template"})
    _check_stamp(sheet.stamp)
    try:
        document = DocxTemplate(io.BytesIO(template))
        context = sheet.context()
        context["stamp"] = InlineImage(document, io.BytesIO(sheet.stamp), width=Cm(4)) if sheet.stamp else ""
        # Sandboxed: a template is uploaded by users and must not reach Python objects beyond its values.
        document.render(context, jinja_env=SandboxedEnvironment(autoescape=True))
        out = io.BytesIO()
        document.save(out)
    except TemplateError as exc:
        raise OutputError(f"The Word template has an error: {exc}", details={"field": "template"}) from None
    except Exception as exc:  # a file that is not a .docx at all: zip, XML or package errors of any kind
        raise OutputError("The template is not a Word (.docx) file.",
                          details={"field": "template", "reason": type(exc).__name__}) from None
    return out.getvalue()


def sheet_pdf(sheet: Sheet) -> bytes:
    """Return the sheet as a PDF in the built-in layout, with the CJK font's used glyphs embedded."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    _check_stamp(sheet.stamp)
    font_file, face = cjk_font()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font("cjk", fname=font_file, collection_font_number=face)
    pdf.set_title(sheet.title)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(width, 9, sheet.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=10)
    if sheet.subtitle:
        pdf.multi_cell(width, 6, sheet.subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    if sheet.fields:
        with pdf.table(col_widths=(30, 70), text_align="LEFT", line_height=6, first_row_as_headings=False) as table:
            for label, value in sheet.fields:
                table.row([label, value])
        pdf.ln(4)
    if sheet.columns:
        if sheet.table_title:
            pdf.set_font("cjk", size=12)
            pdf.multi_cell(width, 8, sheet.table_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font("cjk", size=9)
        # One embedded face only (no bold): the heading row is told apart by its shading.
        heading = FontFace(emphasis="", fill_color=(232, 236, 241))
        with pdf.table(text_align="LEFT", line_height=5, headings_style=heading) as table:
            table.row(sheet.columns)
            for row in sheet.rows:
                table.row([*row, *[""] * (len(sheet.columns) - len(row))][:len(sheet.columns)])
        pdf.ln(4)
    pdf.set_font("cjk", size=10)
    for label in sheet.signatures:
        pdf.ln(6)
        pdf.cell(width * 0.6, 8, f"{label}：______________________", new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(width * 0.4, 8, "日期 Date：____________", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if sheet.stamp:
        try:
            pdf.image(io.BytesIO(sheet.stamp), x=pdf.w - pdf.r_margin - 40, y=max(pdf.get_y() - 30, pdf.t_margin),
                      w=40)
        except Exception as exc:  # a PNG or JPEG header on a broken image
            raise OutputError("The stamp image cannot be read.", details={"field": "stamp",
                                                                          "reason": type(exc).__name__}) from None
    if sheet.footer:
        pdf.set_y(-15)
        pdf.set_font("cjk", size=8)
        pdf.cell(width, 6, sheet.footer, align="C")
    return bytes(pdf.output())
