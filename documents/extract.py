"""Plain text of uploaded documents for search: the format comes from the content, the name only breaks ties.

`extract_text` never raises for bad content: it returns a status (ok, empty, unreadable, unsupported)
with the reason. Input size, unpacked size, pages, cells, characters and time are bounded by limits.
"""
from __future__ import annotations

import codecs
import io
import re
import time
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from .archive import declared_entry_count

OK, EMPTY, UNREADABLE, UNSUPPORTED = "ok", "empty", "unreadable", "unsupported"
TEXT_FORMATS = {"txt", "csv", "md"}
_HEAD_ONLY = TEXT_FORMATS | {"rtf"}
_OUT_OF_TIME = "time limit reached"

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY = ((b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image"),
           (b"\x1f\x8b", "gzip archive"), (b"7z\xbc\xaf", "7z archive"), (b"Rar!", "RAR archive"),
           (b"BZh", "bzip2 archive"), (b"\xfd7zXZ", "xz archive"), (b"\x7fELF", "program"),
           (b"MZ", "program"), (b"RIFF", "media file"), (b"OggS", "media file"), (b"ID3", "audio file"))
_HTML_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b",
                         re.IGNORECASE | re.DOTALL)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.+-]+)", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_ANSI_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")
_RTF_HEX_RUN = re.compile(rb"[0-9a-fA-F\r\n]{512,}")
# Browsers read these labels as supersets (WHATWG Encoding): a "gb2312" page is really GBK/GB18030.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
                    "csgb2312": "gb18030", "chinese": "gb18030", "iso-8859-1": "cp1252", "latin1": "cp1252",
                    "us-ascii": "cp1252", "ascii": "cp1252", "big5": "big5hkscs", "utf-16": "utf-8",
                    "utf-16le": "utf-8", "utf-16be": "utf-8", "shift_jis": "cp932", "x-sjis": "cp932"}
_DROPPED_HTML = ("script", "style", "noscript", "template", "iframe", "object")
_BLOCK_HTML = ("p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "title",
               "section", "article", "header", "footer", "table", "ul", "ol", "dt", "dd", "pre", "blockquote")
# C0 controls other than tab/newline carry no text (docx and PDFs leak them); whitespace is handled by split.
_CONTROLS = dict.fromkeys([*range(0, 9), *range(14, 32), 0x7F])


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds on one extraction; bytes beyond max_bytes are not parsed (text files keep their head)."""

    max_chars: int = 2_000_000
    max_bytes: int = 100 * 1024**2
    max_unzipped: int = 256 * 1024**2
    max_zip_entries: int = 10_000
    max_pages: int = 2_000
    max_cells: int = 2_000_000
    max_seconds: float = 60.0


@dataclass(frozen=True)
class Extraction:
    """Extracted text with the detected format, a status, the reason when not ok, and whether it was cut."""

    text: str
    format: str | None
    status: str
    reason: str | None = None
    encoding: str | None = None
    truncated: bool = False


class _Unreadable(Exception):
    """The content is corrupt, encrypted or over a limit; the message is the reason."""


class _Stop(Exception):
    """Enough text, or no time left: keep what was collected."""


class _Text:
    """Collects normalised lines, stopping at the character cap or the deadline."""

    def __init__(self, limits: ExtractLimits):
        self.limit, self.size, self.lines = limits.max_chars, 0, []
        self.deadline = time.monotonic() + limits.max_seconds
        self.truncated, self.reason = False, None

    def add(self, raw: str | None) -> None:
        if time.monotonic() > self.deadline:
            self.truncated, self.reason = True, _OUT_OF_TIME
            raise _Stop
        for line in (raw or "").translate(_CONTROLS).splitlines():
            line = " ".join(line.split())  # split() also knows the ideographic space U+3000 and NBSP
            if not line:
                continue
            if self.size + len(line) > self.limit:
                self.lines.append(line[:self.limit - self.size])
                self.truncated, self.reason = True, f"text cut at {self.limit} characters"
                raise _Stop
            self.lines.append(line)
            self.size += len(line) + 1

    def result(self) -> str:
        return "\n".join(self.lines)[:self.limit]


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 4:  # a character cut by the byte cap, not a wrong guess
            try:
                return data[:exc.start].decode(encoding)
            except UnicodeDecodeError:
                return None
        return None


def _common_chinese(char: str) -> bool:
    code = ord(char)
    chinese = (0x4E00 <= code <= 0x9FFF or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF
               or 0x2010 <= code <= 0x203B or code in (0xB7, 0xD7, 0xF7, 0x2103))
    return chinese and char.encode("gb18030") == char.encode("gb2312", "replace")


def _plausible_chinese(text: str) -> bool:
    # Latin-1 or Big5 bytes often decode as GB18030 too, but into rare or non-Chinese characters;
    # real Chinese text is almost all common (GB2312) ideographs and CJK/general punctuation.
    wide = [c for c in text[:65536] if ord(c) > 0x7F]
    return bool(wide) and sum(map(_common_chinese, wide)) >= 0.9 * len(wide)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode text bytes: BOM, then UTF-8, then GB18030 if it reads as Chinese, then detection."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, "replace"), encoding
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    text = _strict(data, "gb18030")
    if text is not None and _plausible_chinese(text):
        return text, "gb18030"
    from charset_normalizer import from_bytes  # imported late: only needed for rare encodings

    # Unrestricted, the detector reads short Western text as Baltic or even Big5; the code pages our
    # users' files really come in are few: Western Windows, Traditional Chinese, Japanese, Korean, Cyrillic.
    best = from_bytes(data[:1024**2], cp_isolation=["cp1252", "big5", "shift_jis", "euc_kr", "cp1251"]).best()
    encoding = best.encoding if best else "cp1252"
    return data.decode(encoding, "replace"), encoding


def _zip_kind(data: bytes, limits: ExtractLimits) -> str:
    stream = io.BytesIO(data)
    count = declared_entry_count(stream)
    if count is not None and count > limits.max_zip_entries:
        raise _Unreadable(f"zip has {count} parts, more than {limits.max_zip_entries}")
    with zipfile.ZipFile(stream) as archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
        unpacked = sum(i.file_size for i in infos)
    if len(infos) > limits.max_zip_entries:
        raise _Unreadable(f"zip has {len(infos)} parts, more than {limits.max_zip_entries}")
    if unpacked > limits.max_unzipped:
        raise _Unreadable(f"unpacks to {unpacked} bytes, more than {limits.max_unzipped} (zip bomb?)")
    if "[Content_Types].xml" in names:
        for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(n.startswith(prefix) for n in names):
                return kind
    return "zip"


def detect_format(data: bytes, filename: str | None = None) -> tuple[str | None, str | None]:
    """Return (format, reason-if-unsupported) from the content, using the name's extension for text only."""
    head = bytes(data[:4096])
    extension = filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if b"%PDF-" in head[:1024]:
        return "pdf", None
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip", None  # which Office format is decided after the size checks
    if head.startswith(_OLE):
        if "EncryptedPackage".encode("utf-16-le") in data:
            return "office", "password-protected Office document"
        return "office", "legacy Office binary format (.doc, .xls, .ppt)"
    if head.lstrip(codecs.BOM_UTF8 + b" \r\n\t").startswith(b"{\\rtf"):
        return "rtf", None
    for magic, what in _BINARY:
        if head.startswith(magic):
            return None, what
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not utf16:
        return None, "binary content"
    sample = head.decode("utf-16", "replace").encode("utf-8") if utf16 else head
    if extension in ("html", "htm", "xhtml") or _HTML_START.match(sample.removeprefix(codecs.BOM_UTF8)):
        return "html", None
    return (extension if extension in TEXT_FORMATS else "txt"), None


# The parsers are imported where used: a worker that only fingerprints never loads python-pptx and Pillow.
def _docx(data: bytes, out: _Text, limits: ExtractLimits) -> None:
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    def blocks(container) -> None:
        for block in container.iter_inner_content():
            if isinstance(block, Paragraph):
                out.add(block.text)
            else:
                # Walking the table's paragraphs covers nested tables and lists a merged cell once.
                for p in block._tbl.iter(qn("w:p")):
                    out.add(Paragraph(p, block).text)

    document = docx.Document(io.BytesIO(data))
    blocks(document)
    for section in document.sections:
        for part in (section.first_page_header, section.header, section.even_page_header,
                     section.first_page_footer, section.footer, section.even_page_footer):
            if not part.is_linked_to_previous:  # linked parts repeat the previous section's text
                blocks(part)


def _cell_text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _xlsx(data: bytes, out: _Text, limits: ExtractLimits) -> None:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    cells = 0
    try:
        for sheet in book.worksheets:
            out.add(sheet.title)
            # Saved dimensions are often wrong (whole formatted rows); without them rows are not padded.
            sheet.reset_dimensions()
            for row in sheet.iter_rows(values_only=True):
                cells += max(len(row), 1)
                if cells > limits.max_cells:
                    out.truncated, out.reason = True, f"more than {limits.max_cells} cells"
                    raise _Stop
                out.add(" ".join(_cell_text(v) for v in row if v is not None and v != ""))
    finally:
        book.close()


def _pptx_shapes(shapes, out: _Text) -> None:
    for shape in shapes:
        if getattr(shape, "shapes", None) is not None:  # a group
            _pptx_shapes(shape.shapes, out)
        if shape.has_text_frame:
            out.add(shape.text_frame.text)
        if getattr(shape, "has_table", False):
            for row in shape.table.rows:
                for cell in row.cells:
                    out.add(cell.text)


def _pptx(data: bytes, out: _Text, limits: ExtractLimits) -> None:
    from pptx import Presentation

    for number, slide in enumerate(Presentation(io.BytesIO(data)).slides):
        if number >= limits.max_pages:
            out.truncated, out.reason = True, f"more than {limits.max_pages} slides"
            raise _Stop
        _pptx_shapes(slide.shapes, out)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            out.add(slide.notes_slide.notes_text_frame.text)


def _pdf(data: bytes, out: _Text, limits: ExtractLimits) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # protected only by an owner password: readable by anyone
        except Exception as exc:
            raise _Unreadable(f"encrypted PDF ({exc})") from None
        if not opened:
            raise _Unreadable("password-protected PDF")
    pages = reader.pages
    failed = 0
    for number in range(min(len(pages), limits.max_pages)):
        try:
            text = pages[number].extract_text()
        except Exception:  # one broken page must not lose the others
            failed += 1
            continue
        out.add(text)
    if pages and failed == len(pages):
        raise _Unreadable("no page could be read")
    if len(pages) > limits.max_pages:
        out.truncated, out.reason = True, f"more than {limits.max_pages} pages"


def _html_encoding(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    label = match.group(1).decode("ascii").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _html(data: bytes, out: _Text, limits: ExtractLimits) -> str:
    import lxml.html

    encoding = None if data.startswith(tuple(b for b, _ in _BOMS)) else _html_encoding(data)
    if encoding:
        text = data.decode(encoding, "replace")
    else:
        text, encoding = decode_text(data)
    text = _XML_DECLARATION.sub("", text, count=1)  # lxml refuses str input that declares an encoding
    if not text.strip():
        return encoding
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    root = lxml.html.document_fromstring(text, parser=parser)
    for element in list(root.iter(*_DROPPED_HTML)):
        element.drop_tree()
    for element in root.iter(*_BLOCK_HTML):
        # Block boundaries become line breaks, so words of adjacent paragraphs do not run together.
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    out.add(root.text_content())
    return encoding


def _rtf(data: bytes, out: _Text, limits: ExtractLimits) -> str:
    from striprtf.striprtf import rtf_to_text

    match = _ANSI_CODEPAGE.search(data[:4096])
    encoding = "cp1252"
    if match:
        try:
            encoding = codecs.lookup(f"cp{int(match.group(1))}").name
        except LookupError:
            pass
    # Embedded pictures are long hex runs that striprtf would walk a character at a time.
    data = _RTF_HEX_RUN.sub(b"", data)
    # RTF is 7-bit with \'hh escapes in the ANSI code page; raw 8-bit bytes, if any, are in it too.
    out.add(rtf_to_text(data.decode(encoding, "replace"), encoding=encoding, errors="replace"))
    return encoding


def _plain(data: bytes, out: _Text, limits: ExtractLimits) -> str:
    text, encoding = decode_text(data)
    out.add(text)
    return encoding


_HANDLERS = {"docx": _docx, "xlsx": _xlsx, "pptx": _pptx, "pdf": _pdf, "html": _html, "rtf": _rtf,
             **dict.fromkeys(TEXT_FORMATS, _plain)}


def _read(source: bytes | bytearray | memoryview | BinaryIO, limit: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:limit + 1])
    return source.read(limit + 1)


def extract_text(source: bytes | BinaryIO, *, filename: str | None = None,
                 limits: ExtractLimits | None = None) -> Extraction:
    """Extract the plain text of a document; never raises for bad content."""
    limits = limits or ExtractLimits()
    try:
        data = _read(source, limits.max_bytes)
    except OSError as exc:
        return Extraction("", None, UNREADABLE, f"cannot read the file ({exc})")
    too_big = len(data) > limits.max_bytes
    fmt, reason = detect_format(data, filename)
    if reason is not None:
        status = UNREADABLE if reason.startswith("password") else UNSUPPORTED
        return Extraction("", fmt, status, reason)
    # Text and RTF need only their head: at most 4 bytes a character in every text encoding we read,
    # about 10 in RTF escapes (\'hh\'hh or \uN?). Other formats cannot be parsed from a part.
    head = {"rtf": limits.max_chars * 10}.get(fmt, limits.max_chars * 4 + 4) if fmt in _HEAD_ONLY else None
    if head is None and too_big:
        return Extraction("", fmt, UNREADABLE, f"file is larger than {limits.max_bytes} bytes")
    cut = head is not None and len(data) > min(head, limits.max_bytes)
    if head is not None:
        data = data[:min(head, limits.max_bytes)]
    out = _Text(limits)
    if cut:
        out.truncated, out.reason = True, "only the head of the file was read"
    encoding = None
    try:
        if fmt == "zip":
            fmt = _zip_kind(data, limits)
            if fmt == "zip":
                return Extraction("", fmt, UNSUPPORTED, "zip archive, not an Office document")
        encoding = _HANDLERS[fmt](data, out, limits)
    except _Stop:
        pass
    except Exception as exc:  # corrupt files surface as any exception type from the parsers
        if fmt == "zip" and filename and filename.lower().endswith((".docx", ".xlsx", ".pptx")):
            fmt = filename.rsplit(".", 1)[-1].lower()  # a broken zip: the name is the best guess left
        reason = str(exc) if isinstance(exc, _Unreadable) else f"{type(exc).__name__}: {exc}"[:300]
        return Extraction("", fmt, UNREADABLE, reason)
    text = out.result()
    if not text:
        reason = out.reason or ("no text layer (scanned?)" if fmt == "pdf" else "no text")
        return Extraction("", fmt, UNREADABLE if reason == _OUT_OF_TIME else EMPTY, reason, encoding)
    return Extraction(text, fmt, OK, out.reason, encoding, out.truncated)
