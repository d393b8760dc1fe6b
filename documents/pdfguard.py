"""Protect PDFs with a password (AES-256) and restricted permissions, through pypdf."""
from __future__ import annotations

import io
import secrets

from pypdf import PdfReader, PdfWriter
from pypdf.constants import UserAccessPermissions as P

from .errors import InvalidPdf, PasswordRefused

# Bits 7-8 and 13-32 are reserved and must be 1 (ISO 32000-2, table 22); bit 10 (extraction for
# accessibility) stays granted because PDF 2.0 readers must allow it anyway and screen readers need it.
_ALWAYS = P.R7 | P.R8 | P.EXTRACT_TEXT_AND_GRAPHICS
for _bit in range(13, 33):
    _ALWAYS |= P(1 << (_bit - 1))
_PRINTING = P.PRINT | P.PRINT_TO_REPRESENTATION


def permissions(*, allow_printing: bool) -> P:
    """Return the permission flags we grant: printing or not; never copying, editing or annotating."""
    return _ALWAYS | _PRINTING if allow_printing else _ALWAYS


def _load(data: bytes, filename: str | None) -> PdfReader:
    if b"%PDF-" not in bytes(data[:1024]):
        raise InvalidPdf("not a PDF (no %PDF- header)", filename=filename)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if not encrypted and len(reader.pages) == 0:
            raise InvalidPdf("PDF has no pages", filename=filename)
    except InvalidPdf:
        raise
    except Exception as exc:  # pypdf reports broken files through many exception types
        raise InvalidPdf(f"broken PDF ({type(exc).__name__}: {exc})"[:300], filename=filename) from None
    if encrypted:
        raise InvalidPdf("PDF is already password-protected", filename=filename)
    return reader


def protect_pdf(data: bytes, *, user_password: str, owner_password: str | None = None,
                allow_printing: bool = True, filename: str | None = None) -> bytes:
    """Return the PDF encrypted with AES-256: opening needs the user password, rights are restricted."""
    if not user_password:
        raise PasswordRefused("a password to open the PDF is required", filename=filename)
    if owner_password == user_password:
        # Opening with the owner password lifts every restriction, so the two must differ.
        raise PasswordRefused("the owner password must differ from the user password", filename=filename)
    # Without an owner password pypdf would reuse the user password; a random one nobody knows
    # keeps the restrictions binding for everyone who opens the file.
    owner_password = owner_password or secrets.token_urlsafe(32)
    reader = _load(data, filename)
    try:
        writer = PdfWriter(clone_from=reader)
        writer.encrypt(user_password, owner_password, permissions_flag=permissions(allow_printing=allow_printing),
                       algorithm="AES-256")
        out = io.BytesIO()
        writer.write(out)
    except Exception as exc:  # a file pypdf can read but not rewrite is as unusable as a broken one
        raise InvalidPdf(f"cannot protect PDF ({type(exc).__name__}: {exc})"[:300], filename=filename) from None
    return out.getvalue()
