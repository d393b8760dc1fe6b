"""PDF protection: the password is needed to open the file, and copying and editing stay forbidden."""
from __future__ import annotations

import io

import pytest
from pypdf import PasswordType, PdfReader
from pypdf.constants import UserAccessPermissions as P
from pypdf.errors import FileNotDecryptedError

from documents.errors import InvalidPdf, PasswordRefused
from documents.pdfguard import protect_pdf

from . import samples
from .samples import EN, ZH

PDF = samples.pdf_bytes([f"{ZH} {EN}"])


def _reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def test_a_protected_pdf_needs_the_password_to_be_read():
    reader = _reader(protect_pdf(PDF, user_password="打开密码"))
    assert reader.is_encrypted
    with pytest.raises(FileNotDecryptedError):
        reader.pages[0].extract_text()
    assert reader.decrypt("wrong") == PasswordType.NOT_DECRYPTED
    assert reader.decrypt("打开密码") == PasswordType.USER_PASSWORD
    assert ZH in reader.pages[0].extract_text()


def test_the_content_is_not_readable_in_the_bytes():
    assert b"beginbfchar" in PDF
    assert b"beginbfchar" not in protect_pdf(PDF, user_password="pw")


def test_encryption_is_aes_256():
    encrypt = _reader(protect_pdf(PDF, user_password="pw")).trailer["/Encrypt"]
    assert (encrypt["/V"], encrypt["/R"]) == (5, 6)
    assert encrypt["/CF"]["/StdCF"]["/CFM"] == "/AESV3"


@pytest.mark.parametrize("allow_printing", [True, False])
def test_copying_and_editing_are_forbidden_printing_as_asked(allow_printing):
    reader = _reader(protect_pdf(PDF, user_password="pw", allow_printing=allow_printing))
    reader.decrypt("pw")
    granted = reader.user_access_permissions
    assert bool(granted & P.PRINT) is allow_printing
    assert bool(granted & P.PRINT_TO_REPRESENTATION) is allow_printing
    for forbidden in (P.EXTRACT, P.MODIFY, P.ADD_OR_MODIFY, P.FILL_FORM_FIELDS, P.ASSEMBLE_DOC):
        assert not granted & forbidden, forbidden
    assert reader.are_permissions_valid  # the encrypted copy of the flags (/Perms) matches


def test_the_owner_password_opens_with_full_rights_and_is_random_when_not_given():
    given = _reader(protect_pdf(PDF, user_password="pw", owner_password="管理员"))
    assert given.decrypt("管理员") == PasswordType.OWNER_PASSWORD
    default = _reader(protect_pdf(PDF, user_password="pw"))
    assert default.decrypt("pw") == PasswordType.USER_PASSWORD  # not the owner: restrictions hold


@pytest.mark.parametrize("data, words", [
    (b"PK\x03\x04 not a pdf", "not a PDF"),
    (b"%PDF-1.7\n1 0 obj garbage\n%%EOF", "broken PDF"),
    (b"%PDF-1.7\n", "broken PDF"),
])
def test_a_non_pdf_or_broken_pdf_is_refused_naming_the_file(data, words):
    with pytest.raises(InvalidPdf) as caught:
        protect_pdf(data, user_password="pw", filename="合同.pdf")
    assert caught.value.message.startswith("合同.pdf: ") and words in caught.value.reason


def test_an_already_protected_pdf_is_refused():
    with pytest.raises(InvalidPdf) as caught:
        protect_pdf(protect_pdf(PDF, user_password="pw"), user_password="pw2")
    assert caught.value.reason == "PDF is already password-protected"


@pytest.mark.parametrize("user, owner", [("", None), ("same", "same")])
def test_unusable_passwords_are_refused(user, owner):
    with pytest.raises(PasswordRefused):
        protect_pdf(PDF, user_password=user, owner_password=owner)
