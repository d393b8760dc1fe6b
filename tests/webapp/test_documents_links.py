"""The Documents card on record and request pages: link, unlink, and archive an approved request's attachments."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from attachments import service as attachments
from definitions import service as definitions
from documents.models import DocDocument, DocLink
from instances import service as instances
from instances.actors import Actor
from records import service as records

from .test_documents_pages import company_root, database, drive_root, mkdir, one, page, put, store, text

DONE_FLOW = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://t">
  <bpmn:process id="signed_contract" name="Signed contract" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def customer(app, db):
    """A customer record created by wang.fang."""
    with db.command() as session:
        records.install_core_types(session=session)
        return records.create_record(session=session, type_key="customer", actor=Actor("wang.fang"),
                                     data={"name": "华东机械有限公司", "level": "a"}).id


def request_with_attachments(app, db, *, done: bool = True) -> int:
    """Start a request as wang.fang (finished at once unless done=False) with two attachments."""
    flow = DONE_FLOW if done else DONE_FLOW.replace(b'<bpmn:endEvent id="end"/>',
                                                    b'<bpmn:userTask id="end" name="Sign"/>')
    with db.command() as session:
        version, _ = definitions.deploy(session=session, files={"signed.bpmn": flow}, actor="admin")
        instance = instances.start_instance(session=session, key=version.key, actor=Actor("wang.fang"))
        saved = [attachments.store(session=session, store_dir=store(app), stream=io.BytesIO(data), file_name=name,
                                   actor="wang.fang", max_bytes=10_000)
                 for name, data in (("合同.pdf", b"%PDF-1.4 contract"), ("quote.txt", b"quote"))]
        attachments.link(session=session, ids=[a.id for a in saved], actor="wang.fang", instance_id=instance.id)
        return instance.id


def card(client, url):
    return one(page(client.get(url)), "linked-documents")


def links_of(app, kind: str, target_id: int) -> set[int]:
    with database(app).query() as session:
        return set(session.scalars(select(DocLink.document_id).where(DocLink.target_kind == kind,
                                                                     DocLink.target_id == target_id)))


def test_linking_and_unlinking_a_document_on_a_record_page(app, login, customer):
    root = drive_root(app, "wang.fang")
    offer = put(app, root, "报价单 2024.pdf", b"%PDF offer" * 100, "wang.fang")
    put(app, drive_root(app, "li.na"), "报价单 private.pdf", b"%PDF li", "li.na")
    client = login("wang.fang")
    url = f"/records/customer/{customer}"
    found = card(client, url)
    assert "No document is linked yet." in text(one(found, "linked-empty"))
    form = one(found, "link-form")
    assert form.get("method") == "get" and form.xpath(".//input[@name='q']")
    # The search lists only documents the reader may read.
    tree = page(client.get(f"/documents/links/choose?kind=record&target={customer}&q=报价单"))
    choices = text(one(tree, "link-choices"))
    assert "报价单 2024.pdf" in choices and "private" not in choices and "My drive" in choices
    response = client.post("/documents/links/add", data={"kind": "record", "target": customer, "document_id": offer})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    tree = page(client.get(url))
    assert "“报价单 2024.pdf” is linked." in tree.text_content()
    row = one(one(tree, "linked-documents"), f"linked-{offer}")
    assert "报价单 2024.pdf" in text(row) and "1,000 bytes" in text(row) and "Updated" in text(row)
    assert row.xpath(".//a/@href")[0] == f"/documents/files/{offer}"
    assert "Linked" in text(one(page(client.get(f"/documents/links/choose?kind=record&target={customer}")),
                                f"already-{offer}"))
    doc_page = page(client.get(f"/documents/files/{offer}"))
    assert f"/records/customer/{customer}" in one(doc_page, "links").xpath(".//a/@href")
    one(row, f"unlink-{offer}")
    assert client.post("/documents/links/remove", data={"kind": "record", "target": customer,
                                                        "document_id": offer}).status_code == 302
    assert links_of(app, "record", customer) == set()
    with database(app).query() as session:
        assert session.get(DocDocument, offer).deleted_at is None  # unlinking keeps the document
    tree = page(client.get(f"/documents/links/choose?kind=record&target={customer}&q=nothing-like-this"))
    assert "has “nothing-like-this” in its name" in text(one(tree, "no-choices"))


def test_the_card_shows_only_readable_documents_and_unlink_only_to_editors(app, login, customer):
    company = company_root(app)
    rules = put(app, company, "规章制度.txt", b"rules", "admin")
    private = put(app, mkdir(app, drive_root(app, "li.na"), "私人", "li.na"), "li-only.txt", b"li", "li.na")
    admin, lina = login("admin"), login("li.na")
    assert admin.post("/documents/links/add", data={"kind": "record", "target": customer,
                                                    "document_id": rules}).status_code == 302
    assert lina.post("/documents/links/add", data={"kind": "record", "target": customer,
                                                   "document_id": private}).status_code == 302
    reader = login("wang.fang")
    found = card(reader, f"/records/customer/{customer}")
    assert text(one(found, "linked-count")) == "1" and "li-only.txt" not in text(found)
    row = one(found, f"linked-{rules}")
    assert not row.xpath(".//button")  # wang.fang reads the company library but may not edit it
    reader.post("/documents/links/remove", data={"kind": "record", "target": customer, "document_id": rules})
    assert "You may not edit here." in page(reader.get(f"/records/customer/{customer}")).text_content()
    assert links_of(app, "record", customer) == {rules, private}
    # A document the reader may not read cannot be linked either.
    reader.post("/documents/links/add", data={"kind": "record", "target": customer, "document_id": private})
    assert links_of(app, "record", customer) == {rules, private}
    assert reader.post("/documents/links/add", data={"kind": "nope", "target": customer,
                                                     "document_id": rules}).status_code == 400
    assert reader.post("/documents/links/add", data={"kind": "record", "target": 999999,
                                                     "document_id": rules}).status_code == 404


def test_a_request_page_links_documents_and_archives_its_attachments(app, db, login):
    instance_id = request_with_attachments(app, db)
    root = drive_root(app, "wang.fang")
    client = login("wang.fang")
    found = card(client, f"/instances/{instance_id}")
    form = one(found, "archive-form")
    assert "Archive the 2 attachments to a folder" in text(form)
    assert str(root) in form.xpath(".//select[@name='folder_id']/option/@value")
    response = client.post("/documents/links/archive", data={"target": instance_id, "folder_id": root})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/instances/{instance_id}")
    tree = page(client.get(f"/instances/{instance_id}"))
    assert "2 documents archived to “My drive”." in tree.text_content()
    listed = text(one(tree, "linked-rows"))
    assert "合同.pdf" in listed and "quote.txt" in listed
    client.post("/documents/links/archive", data={"target": instance_id, "folder_id": root})
    assert "Nothing new to archive" in page(client.get(f"/instances/{instance_id}")).text_content()
    assert len(links_of(app, "instance", instance_id)) == 2
    # Linking another document to the request works as on a record page.
    extra = put(app, root, "notes.txt", b"notes", "wang.fang")
    client.post("/documents/links/add", data={"kind": "instance", "target": instance_id, "document_id": extra})
    assert text(one(card(client, f"/instances/{instance_id}"), "linked-count")) == "3"
    # Someone who cannot open the request can neither link to it nor archive it.
    stranger = login("zhao.lei")
    assert stranger.get(f"/documents/links/choose?kind=instance&target={instance_id}").status_code == 404
    assert stranger.post("/documents/links/archive", data={"target": instance_id,
                                                           "folder_id": drive_root(app, "zhao.lei")}).status_code == 404


def test_a_running_request_offers_no_archive_and_a_folder_without_upload_is_refused(app, db, login):
    running = request_with_attachments(app, db, done=False)
    client = login("wang.fang")
    found = card(client, f"/instances/{running}")
    assert not found.xpath(".//*[@data-testid='archive-form']") and one(found, "link-form") is not None
    client.post("/documents/links/archive", data={"target": running, "folder_id": drive_root(app, "wang.fang")})
    assert "Only an approved (completed) request’s attachments can be archived." in \
        page(client.get(f"/instances/{running}")).text_content()
    done = request_with_attachments(app, db)
    client.post("/documents/links/archive", data={"target": done, "folder_id": company_root(app)})
    assert "You may not upload here." in page(client.get(f"/instances/{done}")).text_content()
    client.post("/documents/links/archive", data={"target": done, "folder_id": ""})
    assert "Choose a folder." in page(client.get(f"/instances/{done}")).text_content()
    assert links_of(app, "instance", done) == set()


@pytest.mark.parametrize("lang", ["zh_CN"])
def test_the_card_and_the_chooser_render_in_chinese(app, db, login, customer, lang):
    instance_id = request_with_attachments(app, db)
    client = login("wang.fang", lang=lang)
    for url in (f"/records/customer/{customer}", f"/instances/{instance_id}",
                f"/documents/links/choose?kind=record&target={customer}"):
        assert client.get(url).status_code == 200, url
