"""Word and PDF printouts of records and requests, with a company template and a stamp from the document centre."""
from __future__ import annotations

import io
import re

import pytest
from docx import Document
from pypdf import PdfReader

from documents import library, versions
from documents.output import OutputError, cjk_font
from instances.actors import Actor
from records import service as records
from tests.documents.test_output import company_template, png

from .test_api import only_task, sign_in, start_leave


def pdf_text(data: bytes) -> str:
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    return "\n".join([p.text for p in document.paragraphs] +
                     [c.text for t in document.tables for r in t.rows for c in r.cells])


@pytest.fixture
def customer(app, db) -> int:
    with db.command() as s:
        records.install_core_types(session=s)
        return records.create_record(session=s, type_key="customer", actor=Actor("wang.fang", frozenset({"role:employee"})),
                                     data={"name": "华东精密机械有限公司", "notes": "重点客户"}).id


def need_font():
    try:
        cjk_font()
    except OutputError:
        pytest.skip("no CJK font on this machine")


def test_a_record_prints_as_word_and_pdf(customer, login):
    client = login("wang.fang")
    assert 'data-testid="printouts"' in client.get(f"/records/customer/{customer}").get_data(as_text=True)
    word = client.get(f"/records/customer/{customer}/print.docx")
    assert word.status_code == 200 and word.mimetype.endswith("wordprocessingml.document")
    assert "filename*=UTF-8''" in word.headers["Content-Disposition"]
    text = docx_text(word.data)
    assert "华东精密机械有限公司" in text and "重点客户" in text
    need_font()
    pdf = client.get(f"/records/customer/{customer}/print.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "华东精密机械有限公司" in pdf_text(pdf.data) and "重点客户" in pdf_text(pdf.data)
    assert client.get("/records/customer/999999/print.pdf").status_code == 404


def test_a_request_prints_with_its_approval_history(app, client, login):
    need_font()
    employee, manager = sign_in(client, "wang.fang"), sign_in(client, "li.na")
    instance = start_leave(employee)
    task = only_task(manager)
    assert manager.post(f"/tasks/{task['id']}/approve", json={"comment": "同意，注意交接工作"}).status_code == 200
    page = login("li.na")
    text = pdf_text(page.get(f"/instances/{instance['id']}/print.pdf").data)
    assert "同意，注意交接工作" in text and "Approved" in text and "wang.fang" in text
    text = docx_text(page.get(f"/instances/{instance['id']}/print.docx").data)
    assert "同意，注意交接工作" in text
    assert login("gao.yu").get(f"/instances/{instance['id']}/print.pdf").status_code == 404


def test_a_company_template_and_a_stamp_come_from_the_document_centre(app, db, customer, login):
    store = app.extensions["flowdesk.settings"].var_dir / "files"
    admin = Actor("admin", frozenset({"role:admin"}), is_admin=True)
    with db.command() as s:
        root = library.company_library(session=s).root_folder_id
        template = versions.upload_file(session=s, store_dir=store, folder_id=root, file_name="客户卡片.docx",
                                        stream=io.BytesIO(company_template(["客户卡片：{{ title }}", "{{ stamp }}"])),
                                        actor=admin).document_id
        stamp = versions.upload_file(session=s, store_dir=store, folder_id=root, file_name="公章.png",
                                     stream=io.BytesIO(png()), actor=admin).document_id
        drive = library.personal_drive(session=s, username="admin").root_folder_id
        private = versions.upload_file(session=s, store_dir=store, folder_id=drive, file_name="mine.docx",
                                       stream=io.BytesIO(company_template(["x"])), actor=admin).document_id
        broken = versions.upload_file(session=s, store_dir=store, folder_id=root, file_name="broken.docx",
                                      stream=io.BytesIO(b"not a docx"), actor=admin).document_id
    client = login("wang.fang")
    word = client.get(f"/records/customer/{customer}/print.docx?template={template}&stamp={stamp}")
    assert word.status_code == 200
    assert "客户卡片：华东精密机械有限公司" in docx_text(word.data)
    assert len(Document(io.BytesIO(word.data)).inline_shapes) == 1
    # Another person's file is not found; a broken template is refused with the reason on the record's page.
    assert client.get(f"/records/customer/{customer}/print.docx?template={private}").status_code == 404
    refused = client.get(f"/records/customer/{customer}/print.docx?template={broken}", follow_redirects=True)
    assert "not a Word (.docx) file" in refused.get_data(as_text=True)
    assert client.get(f"/records/customer/{customer}/print.docx?stamp=abc").status_code == 404
