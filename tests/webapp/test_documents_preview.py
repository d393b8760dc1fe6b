"""Document previews in the browser (PDF, images, text; never HTML or SVG) and protected PDF downloads."""
from __future__ import annotations

import dataclasses
import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.constants import UserAccessPermissions as P

from documents import versions

from .test_documents_pages import drive_root, one, page, put, text

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
IMAGES = {"photo.png": (PNG, "image/png"), "photo.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 40, "image/jpeg"),
          "anim.gif": (b"GIF89a\x01\x00\x01\x00" + b"\x00" * 40, "image/gif"),
          "pic.webp": (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40, "image/webp")}
SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"


def a_pdf(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def preview_panel(client, doc):
    return one(page(client.get(f"/documents/files/{doc}?preview=1")), "preview")


def assert_inline(response, mimetype: str) -> None:
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == mimetype
    assert response.headers["Content-Disposition"].startswith("inline; filename=")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_a_pdf_is_previewed_in_a_frame_from_the_inline_route(app, login):
    root = drive_root(app, "wang.fang")
    data = a_pdf()
    doc = put(app, root, "报价单.pdf", data, "wang.fang")
    client = login("wang.fang")
    tree = page(client.get(f"/documents/files/{doc}"))
    assert not tree.xpath(".//*[@data-testid='preview']")  # drawn only when asked for
    assert one(tree, "preview-button").get("href") == f"/documents/files/{doc}?preview=1#preview"
    panel = preview_panel(client, doc)
    frame = one(panel, "preview-pdf")
    assert frame.tag == "iframe" and frame.get("src") == f"/documents/files/{doc}/preview?v=1"
    assert not panel.xpath(".//*[@sandbox]")  # Chrome refuses to run its PDF viewer in a sandboxed frame
    response = client.get(frame.get("src"))
    assert_inline(response, "application/pdf")
    assert response.data == data and "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert "default-src" not in response.headers["Content-Security-Policy"]
    # ?number= is understood too, and an older version can be previewed.
    put(app, root, "报价单.pdf", a_pdf(3), "wang.fang")
    assert client.get(f"/documents/files/{doc}/preview?number=1").data == data
    assert client.get(f"/documents/files/{doc}/preview").data != data


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_images_are_previewed_with_their_real_type(app, login, name):
    data, mimetype = IMAGES[name]
    doc = put(app, drive_root(app, "wang.fang"), name, data, "wang.fang")
    client = login("wang.fang")
    image = one(preview_panel(client, doc), "preview-image")
    assert image.tag == "img" and image.get("src") == f"/documents/files/{doc}/preview?v=1"
    response = client.get(image.get("src"))
    assert_inline(response, mimetype)
    assert response.data == data and "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_text_is_sent_as_utf8_plain_text_and_long_text_is_cut_with_a_note(app, login):
    root = drive_root(app, "wang.fang")
    client = login("wang.fang")
    gbk = put(app, root, "说明.txt", "会议纪要：第一季度销售目标".encode("gb18030"), "wang.fang")
    frame = one(preview_panel(client, gbk), "preview-text")
    assert frame.tag == "iframe"
    response = client.get(frame.get("src"))
    assert_inline(response, "text/plain; charset=utf-8")
    assert response.get_data(as_text=True) == "会议纪要：第一季度销售目标"
    csv = put(app, root, "list.csv", b"name,amount\nA,1\n", "wang.fang")
    assert client.get(f"/documents/files/{csv}/preview").headers["Content-Type"] == "text/plain; charset=utf-8"
    # HTML inside a text file stays text: the browser is told not to guess.
    sneaky = put(app, root, "notes.md", SCRIPT, "wang.fang")
    response = client.get(f"/documents/files/{sneaky}/preview")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8" and response.data == SCRIPT
    big = put(app, root, "big.log", b"line of log text\n" * 70000, "wang.fang")
    panel = preview_panel(client, big)
    assert "shows its first 1 MB" in text(one(panel, "preview-truncated"))
    body = client.get(f"/documents/files/{big}/preview").get_data(as_text=True)
    assert body.startswith("line of log text\n") and len(body) < (1 << 20) + 300
    assert body.rstrip().endswith("Download the file to read all of it.]") and "showing the first 1 MB of" in body


@pytest.mark.parametrize("name,data", [("page.html", SCRIPT), ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'>"
                                       b"<script>alert(1)</script></svg>"), ("page.xhtml", SCRIPT)])
def test_html_and_svg_are_never_shown_inline(app, login, name, data):
    doc = put(app, drive_root(app, "wang.fang"), name, data, "wang.fang")
    client = login("wang.fang")
    panel = preview_panel(client, doc)
    assert "There is no preview for this type of file." in text(one(panel, "no-preview"))
    assert "can run scripts" in text(panel)
    assert one(panel, "preview-download").get("href") == f"/documents/files/{doc}/download"
    assert not panel.xpath(".//iframe | .//img")
    response = client.get(f"/documents/files/{doc}/preview")
    assert response.status_code == 415 and data not in response.data


def test_a_version_readable_only_as_a_stream_previews_the_same(app, login, monkeypatch):
    # A store sealed at rest has no plain file to send: the preview streams the decrypted bytes instead.
    real = versions.open_version
    monkeypatch.setattr(versions, "open_version", lambda **kw: dataclasses.replace(real(**kw), path=None))
    root = drive_root(app, "wang.fang")
    client = login("wang.fang")
    data = a_pdf()
    pdf, png = put(app, root, "a.pdf", data, "wang.fang"), put(app, root, "b.png", PNG, "wang.fang")
    txt = put(app, root, "c.txt", "第一行\n".encode() * 10, "wang.fang")
    response = client.get(f"/documents/files/{pdf}/preview")
    assert_inline(response, "application/pdf")
    assert response.data == data
    assert client.get(f"/documents/files/{png}/preview").data == PNG
    assert client.get(f"/documents/files/{txt}/preview").get_data(as_text=True) == "第一行\n" * 10


def test_content_that_does_not_match_its_name_or_has_no_viewer_is_not_previewed(app, login):
    root = drive_root(app, "wang.fang")
    client = login("wang.fang")
    fake = put(app, root, "fake.png", SCRIPT, "wang.fang")
    panel = preview_panel(client, fake)
    assert "does not look like what its name says" in text(one(panel, "no-preview"))
    assert client.get(f"/documents/files/{fake}/preview").status_code == 415
    not_pdf = put(app, root, "report.pdf", b"just words", "wang.fang")
    assert client.get(f"/documents/files/{not_pdf}/preview").status_code == 415
    binary = put(app, root, "data.txt", b"\x00\x01\x02binary", "wang.fang")
    assert client.get(f"/documents/files/{binary}/preview").status_code == 415
    sheet = put(app, root, "book.xlsx", b"PK\x03\x04 zip", "wang.fang")
    assert "PDFs, images" in text(one(preview_panel(client, sheet), "no-preview"))


def test_an_encrypted_document_is_not_previewed_and_strangers_find_nothing(app, login):
    root = drive_root(app, "wang.fang")
    secret = put(app, root, "secret.pdf", a_pdf(), "wang.fang", password="pa55word")
    client = login("wang.fang")
    panel = preview_panel(client, secret)
    assert "This document is encrypted: there is no preview." in text(one(panel, "no-preview"))
    assert not panel.xpath(".//iframe")
    response = client.get(f"/documents/files/{secret}/preview")
    assert response.status_code == 403 and b"%PDF" not in response.data
    plain = put(app, root, "photo.png", PNG, "wang.fang")
    stranger = login("zhao.lei")
    for doc in (secret, plain):
        assert stranger.get(f"/documents/files/{doc}/preview").status_code == 404
    assert stranger.get("/documents/files/999999/preview").status_code == 404


def test_a_protected_download_opens_only_with_its_password_and_keeps_the_permissions(app, login):
    root = drive_root(app, "wang.fang")
    data = a_pdf(2)
    doc = put(app, root, "合同.pdf", data, "wang.fang")
    client = login("wang.fang")
    one(page(client.get(f"/documents/files/{doc}")), "protect-form")
    response = client.post(f"/documents/files/{doc}/protect", data={"open_password": "open-Me", "owner_password":
                                                                    "owner-Me", "allow_printing": "1"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "protected" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.is_encrypted and reader.decrypt("wrong") == 0
    assert reader.decrypt("open-Me") == 1 and len(reader.pages) == 2
    granted = reader.user_access_permissions
    assert P.PRINT in granted and P.MODIFY not in granted and P.EXTRACT not in granted
    assert PdfReader(io.BytesIO(response.data)).decrypt("owner-Me") == 2
    # Without printing, and without an owner password (nobody can lift the restrictions).
    response = client.post(f"/documents/files/{doc}/protect", data={"open_password": "open-Me"})
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.decrypt("open-Me") == 1 and P.PRINT not in reader.user_access_permissions
    # The stored document is unchanged.
    assert client.get(f"/documents/files/{doc}/download").data == data


def test_bad_protect_input_is_explained_next_to_the_form(app, login):
    root = drive_root(app, "wang.fang")
    doc = put(app, root, "合同.pdf", a_pdf(), "wang.fang")
    client = login("wang.fang")
    tree = page(client.post(f"/documents/files/{doc}/protect", data={"open_password": ""}), 400)
    form_card = one(tree, "protect-form").getparent()
    assert "Enter a password for opening the PDF." in text(one(form_card, "error-protect"))
    tree = page(client.post(f"/documents/files/{doc}/protect", data={"open_password": "same", "owner_password":
                                                                     "same"}), 400)
    assert "must differ" in text(one(tree, "error-protect"))
    fake = put(app, root, "fake.pdf", b"not really a pdf", "wang.fang")
    tree = page(client.post(f"/documents/files/{fake}/protect", data={"open_password": "x1"}), 400)
    assert "This file is not a PDF, so it cannot be protected." in text(one(tree, "error-protect"))
    notes = put(app, root, "notes.txt", b"notes", "wang.fang")
    tree = page(client.get(f"/documents/files/{notes}"))
    assert not tree.xpath(".//*[@data-testid='protect-form']")
    tree = page(client.post(f"/documents/files/{notes}/protect", data={"open_password": "x1"}), 400)
    assert "not a PDF" in text(one(tree, "error-protect"))  # shown at the top, as the form is not there
    already = io.BytesIO()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(a_pdf())))
    writer.encrypt("u", "o")
    writer.write(already)
    locked = put(app, root, "locked.pdf", already.getvalue(), "wang.fang")
    tree = page(client.post(f"/documents/files/{locked}/protect", data={"open_password": "x1"}), 400)
    assert "already password-protected" in text(one(tree, "error-protect"))


def test_an_encrypted_pdf_needs_its_own_password_before_it_is_protected(app, login):
    root = drive_root(app, "wang.fang")
    doc = put(app, root, "secret.pdf", a_pdf(), "wang.fang", password="pa55word")
    client = login("wang.fang")
    form = one(page(client.get(f"/documents/files/{doc}")), "protect-form")
    assert form.xpath(".//input[@name='password']")
    tree = page(client.post(f"/documents/files/{doc}/protect", data={"open_password": "x1", "password": "bad"}), 403)
    assert text(one(tree, "error-protect")) == "The password is wrong."
    response = client.post(f"/documents/files/{doc}/protect", data={"open_password": "x1", "password": "pa55word"})
    assert response.status_code == 200 and PdfReader(io.BytesIO(response.data)).decrypt("x1") == 1
    assert login("zhao.lei").post(f"/documents/files/{doc}/protect",
                                  data={"open_password": "x1", "password": "pa55word"}).status_code == 404
