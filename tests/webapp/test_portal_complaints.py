"""Complaints from the customer portal: a customer registers one through complaint handling and follows it."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from attachments.models import Attachment
from crm import complaints
from definitions import service as definitions
from forms.schema import FormError
from instances import directory
from instances.actors import Actor
from instances.models import OutboxMessage, ProcessInstance
from org import demo
from org import service as org
from org.directory import install
from records import service as records
from records.models import Record, RecordType
from tests.processes.test_complaint_handling import (
    HANDLED,
    KEY,
    REPLY,
    bundle,
    complete,
    instance,
    items,
    record,
    start,
    waiting,
)
from webapp.app import create_app
from webapp.config import Settings

ADMIN = Actor("admin", is_admin=True)
PDF = b"%PDF-1.4\n% evidence\n"
WHAT_HAPPENED = "三台叉车的液压系统在交付一周后全部漏油，仓库作业已经停了两天。"


@pytest.fixture
def shop(app, db):
    """Two customer companies with contacts, a partner, complaint handling deployed and four portal accounts.

    yuanhang: 远航物流's customer account with the complaint module; yuanhang.view: the same company without it;
    biejia: the other company's account with complaints; shunda: a partner's account with the module listed.
    """
    with db.command() as session:
        records.install_core_types(session=session)
        version, _ = definitions.deploy(session=session, files=bundle(KEY), actor="admin")
        assert version.report.get("issues") == [], version.report
        mine = records.create_record(session=session, type_key="customer", actor=Actor("wang.fang"),
                                     data={"name": "远航物流", "account_manager": "wang.fang"})
        other = records.create_record(session=session, type_key="customer", actor=Actor("liu.yang"),
                                      data={"name": "别家公司", "account_manager": "liu.yang"})
        ours = records.create_record(session=session, type_key="contact", actor=Actor("wang.fang"),
                                     data={"name": "王经理", "customer": mine.id})
        theirs = records.create_record(session=session, type_key="contact", actor=Actor("liu.yang"),
                                       data={"name": "陌生人", "customer": other.id})
        partner = records.create_record(session=session, type_key="partner", actor=Actor("wang.fang"),
                                        data={"name": "顺达物流", "kind": "service"})
        for username, company, kind, modules in (
                ("yuanhang", mine.id, "customer", ["customer", "contact", "complaint"]),
                ("yuanhang.view", mine.id, "customer", ["customer", "contact"]),
                ("biejia", other.id, "customer", ["customer", "contact", "complaint"]),
                ("shunda", partner.id, "partner", ["partner", "complaint"])):
            org.save_user(session=session, username=username, display_name=username, password=demo.DEMO_PASSWORD,
                          kind=kind, portal_record_id=company, portal_modules=modules)
        ids = {"mine": mine.id, "other": other.id, "ours": ours.id, "theirs": theirs.id}
    install(db)
    yield ids
    directory.set_directory(None)


def complaint_form(**changes) -> dict:
    """A complaint as a customer fills in the portal's form."""
    form = {"subject": "叉车液压系统漏油", "category": "product", "severity": "critical",
            "description": WHAT_HAPPENED, "expectation": "三天内派工程师上门更换密封件"}
    return {k: v for k, v in {**form, **changes}.items() if v is not None}


def counts(db) -> tuple[int, int, int]:
    """Return how many instances, complaint records and attachment rows exist."""
    with db.query() as session:
        complaint_type = session.scalar(select(RecordType.id).where(RecordType.key == "complaint"))
        return (session.scalar(select(func.count()).select_from(ProcessInstance)),
                session.scalar(select(func.count()).select_from(Record).where(Record.type_id == complaint_type)),
                session.scalar(select(func.count()).select_from(Attachment)))


def the_instance(db) -> ProcessInstance:
    """Return the one complaint handling instance."""
    with db.query() as session:
        return session.scalars(select(ProcessInstance).where(ProcessInstance.definition_key == KEY)).one()


def register(client, **changes):
    """Post the portal's complaint form with an evidence file."""
    data = {**complaint_form(**changes), "files": (io.BytesIO(PDF), "leak.pdf")}
    return client.post("/portal/complaints/new", data=data, content_type="multipart/form-data")


def test_a_customer_registers_a_complaint_that_runs_through_complaint_handling(login, shop, db):
    client = login("yuanhang")
    home = client.get("/records/").get_data(as_text=True)
    assert 'data-testid="nav-complaints"' in home
    form = client.get("/portal/complaints/new")
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and 'name="csrf_token"' in page and 'enctype="multipart/form-data"' in page
    assert "王经理" in page and "陌生人" not in page  # only the company's own contacts to pick from
    assert "Our business is stopped or at serious risk" in page and 'name="files"' in page
    answer = register(client, contact=str(shop["ours"]))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    found = the_instance(db)
    data = found.data
    assert (found.status, found.initiator) == ("running", "yuanhang")
    assert (data["customer"], data["channel"], data["responsible_department"], data["contact"]) == (
        shop["mine"], "portal", "service", shop["ours"])
    assert (data["severity"], data["registrar"], data["sla_hours"]) == ("critical", "wang.fang", 8)
    assert waiting(db, found.id) == [("dispatch", "xu.hui")]  # the customer service leader dispatches
    complaint = data["complaint_id"]
    assert answer.headers["Location"].endswith(f"/portal/complaints/{complaint}")
    stored = record(db, complaint)
    assert (stored["status"], stored["customer"], stored["subject"]) == ("registered", shop["mine"], "叉车液压系统漏油")
    with db.query() as session:
        row = session.get(Record, complaint)
        [evidence] = session.scalars(select(Attachment)).all()
    assert row.owner == "wang.fang" and row.created_by == "yuanhang"  # the account manager owns it
    assert (evidence.instance_id, evidence.created_by, evidence.file_name) == (found.id, "yuanhang", "leak.pdf")
    shown = client.get(answer.headers["Location"])
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and f"Your complaint is registered as No. {complaint}" in text
    assert "叉车液压系统漏油" in text and "Received" in text and "王经理" in text and "leak.pdf" in text
    assert "三天内派工程师上门更换密封件" in text and 'data-testid="due"' in text
    listed = client.get("/portal/complaints/").get_data(as_text=True)
    assert f'data-testid="complaint-{complaint}"' in listed and "Critical" in listed
    download = client.get(f"/portal/complaints/{complaint}/files/{evidence.id}")
    assert download.status_code == 200 and download.data == PDF
    # The same record on the records pages: readable, but without the process behind it.
    generic = client.get(f"/records/complaint/{complaint}").get_data(as_text=True)
    assert "叉车液压系统漏油" in generic and 'data-testid="record-processes"' not in generic
    assert "/instances/" not in generic


def test_validation_errors_sit_next_to_their_fields_and_nothing_is_stored(login, shop, db):
    client = login("yuanhang")
    answer = register(client, subject="", severity=None, description="太慢")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'data-testid="form-errors"' in page
    assert 'data-testid="error-subject"' in page and 'data-testid="error-severity"' in page
    assert 'data-testid="error-description"' in page and "At least 10 characters." in page
    assert "三天内派工程师上门更换密封件" in page  # what was typed comes back
    assert counts(db) == (0, 0, 0)  # no process, no record, not even the uploaded file's row


def test_a_contact_of_another_company_is_refused(login, shop, db):
    answer = register(login("yuanhang"), contact=str(shop["theirs"]))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'data-testid="error-contact"' in page
    assert "Choose one of your company&#39;s contacts." in page
    assert counts(db) == (0, 0, 0)
    with db.command() as session, pytest.raises(FormError) as refused:  # the service checks it again
        complaints.register_complaint(session=session, actor=Actor("yuanhang"), company_id=shop["mine"],
                                      details=complaint_form(contact=shop["theirs"]), department="service")
    assert "contact" in refused.value.errors
    assert counts(db) == (0, 0, 0)


@pytest.mark.parametrize("username", ["shunda", "yuanhang.view", "wang.fang"])
def test_partners_accounts_without_the_module_and_staff_are_refused(login, shop, db, username):
    client = login(username)
    for path in ("/portal/complaints/", "/portal/complaints/new"):
        assert client.get(path).status_code == 403, path
    assert register(client).status_code == 403
    assert 'data-testid="nav-complaints"' not in client.get("/records/").get_data(as_text=True)
    assert counts(db) == (0, 0, 0)


def test_a_portal_account_cannot_make_a_bare_complaint_record(login, shop, db):
    client = login("yuanhang")
    moved = client.post("/records/complaint/new", data={"subject": "直接建一条", "customer": str(shop["mine"]),
                                                        "severity": "minor"})
    assert moved.status_code == 302 and moved.headers["Location"].endswith("/portal/complaints/new")
    assert login("yuanhang.view").get("/records/complaint/new").status_code == 403
    with db.command() as session:
        user = org.get_user_or_raise(session=session, username="yuanhang")
        _token, secret = org.create_token(session=session, user=user, name="integration")
    api = client.post("/api/v1/records/complaint", headers={"Authorization": f"Bearer {secret}"},
                      json={"data": {"subject": "直接建一条", "customer": shop["mine"], "severity": "minor"}})
    assert api.status_code == 403
    assert counts(db) == (0, 0, 0)


def test_reply_and_survey_go_to_the_account_manager_and_the_customer_follows_to_closed(login, shop, db):
    client = login("yuanhang")
    assert register(client).status_code == 302
    iid = the_instance(db).id
    complaint = instance(db, iid).data["complaint_id"]
    complete(db, iid, "dispatch", "xu.hui", {"handler": "hu.yan", "dispatch_note": "内部：先查批次记录"},
             decision="approve")
    page = client.get(f"/portal/complaints/{complaint}").get_data(as_text=True)
    assert "Assigned to a handler" in page and "先查批次记录" not in page
    complete(db, iid, "handle", "hu.yan", HANDLED)
    assert waiting(db, iid) == [("reply", "wang.fang")]  # the registrar, never the portal account
    complete(db, iid, "reply", "wang.fang", REPLY)
    assert waiting(db, iid) == [("survey", "wang.fang")]
    complete(db, iid, "survey", "wang.fang", {"survey_result": "done", "score": 5, "feedback": "满意"})
    assert instance(db, iid).status == "completed" and record(db, complaint)["status"] == "closed"
    assert "yuanhang" not in {i.assignee for i in items(db, iid)} | {i.completed_by for i in items(db, iid)}
    page = client.get(f"/portal/complaints/{complaint}").get_data(as_text=True)
    progress = page.split('data-testid="complaint-progress"', 1)[1].split("Evidence you sent", 1)[0]
    assert re.findall(r"<strong>([^<]+)</strong>", progress) == ["Received", "Assigned to a handler", "Resolved",
                                                                 "Closed"]
    assert HANDLED["solution"] in page and REPLY["reply"] in page  # the answer the customer was given
    assert HANDLED["findings"] not in page and "先查批次记录" not in page  # the staff's own notes stay inside
    listed = client.get("/portal/complaints/").get_data(as_text=True)
    assert "Closed" in listed
    with db.query() as session:
        told = [m.payload for m in session.scalars(select(OutboxMessage)) if m.payload.get("to") == "yuanhang"]
    assert told == []  # no staff notice (with its comments) is sent to the portal account


def test_without_an_account_manager_the_service_leader_answers(shop, db):
    with db.command() as session:
        bare = records.create_record(session=session, type_key="customer", actor=ADMIN, owner="ghost",
                                     data={"name": "无人负责公司"})
        gone = org.save_user(session=session, username="left.company", display_name="离职",
                             password=demo.DEMO_PASSWORD)
        managed = records.create_record(session=session, type_key="customer", actor=ADMIN, owner="yuanhang",
                                        data={"name": "经理离职公司", "account_manager": "left.company"})
        org.set_status(session=session, user=gone, status="left")  # left after the customer was given to them
        owned = records.create_record(session=session, type_key="customer", actor=Actor("emma.chen"),
                                      data={"name": "只有负责人公司"})
        for customer, expected in ((bare, "xu.hui"), (managed, "xu.hui"), (owned, "emma.chen")):
            assert complaints.registrar_for(session=session, customer=customer, department="service") == expected
        assert complaints.registrar_for(session=session, customer=bare, department="finance") == "zhao.lei"


def test_a_staff_complaint_still_gives_reply_and_survey_to_whoever_registered_it(shop, db):
    data = {"customer": shop["mine"], "channel": "phone", "subject": "司机态度差", "category": "service",
            "severity": "minor", "responsible_department": "service", "description": "送货司机在客户仓库与保安发生争吵。"}
    iid = start(db, KEY, "ma.chao", data, "complaint_form.json")
    assert instance(db, iid).data["registrar"] == "ma.chao"
    complete(db, iid, "dispatch", "xu.hui", {"handler": "hu.yan"}, decision="approve")
    complete(db, iid, "handle", "hu.yan", HANDLED)
    assert waiting(db, iid) == [("reply", "ma.chao")]
    complete(db, iid, "reply", "ma.chao", REPLY)
    assert waiting(db, iid) == [("survey", "ma.chao")]
    with db.query() as session:
        assert session.get(Record, instance(db, iid).data["complaint_id"]).owner == "ma.chao"


def test_the_customer_sees_only_its_companys_complaints(login, shop, db):
    assert register(login("biejia"), subject="别家的投诉").status_code == 302
    theirs = instance(db, the_instance(db).id).data["complaint_id"]
    client = login("yuanhang")
    assert "别家的投诉" not in client.get("/portal/complaints/").get_data(as_text=True)
    assert client.get(f"/portal/complaints/{theirs}").status_code == 404
    with db.query() as session:
        [file_id] = session.scalars(select(Attachment.id)).all()
    assert client.get(f"/portal/complaints/{theirs}/files/{file_id}").status_code == 404
    assert client.get(f"/records/complaint/{theirs}").status_code == 404


def test_missing_process_department_or_an_unsafe_model_is_a_clear_refusal(app, login, shop, db):
    client = login("yuanhang")
    settings = app.extensions["flowdesk.settings"]
    settings.portal_complaint_department = "nowhere"
    try:
        refused = register(client)
        assert refused.status_code == 503 and 'data-testid="unavailable"' in refused.get_data(as_text=True)
        assert counts(db) == (0, 0, 0)
        assert client.get("/portal/complaints/new").status_code == 503
    finally:
        settings.portal_complaint_department = "service"
    with db.command() as session:  # an older model: the customer would answer its own complaint
        files = dict(bundle(KEY))
        files[f"{KEY}.bpmn"] = files[f"{KEY}.bpmn"].replace(b"${registrar}", b"${initiator}")
        definitions.deploy(session=session, files=files, actor="admin")
        with pytest.raises(complaints.ComplaintsUnavailable) as unsafe:
            complaints.check_portal_ready(session=session, department="service")
    assert unsafe.value.details == {"reason": "process_unsafe", "steps": ["reply", "survey"]}
    assert register(client).status_code == 503 and counts(db) == (0, 0, 0)


def test_without_the_process_the_page_says_so(login, app, db):
    with db.command() as session:
        records.install_core_types(session=session)
        company = records.create_record(session=session, type_key="customer", actor=Actor("wang.fang"),
                                        data={"name": "远航物流"})
        org.save_user(session=session, username="yuanhang", display_name="远航", password=demo.DEMO_PASSWORD,
                      kind="customer", portal_record_id=company.id, portal_modules=["customer", "complaint"])
    client = login("yuanhang")
    page = client.get("/portal/complaints/new")
    assert page.status_code == 503 and "cannot be registered online" in page.get_data(as_text=True)
    assert register(client).status_code == 503 and counts(db) == (0, 0, 0)
    assert client.get("/portal/complaints/").status_code == 200  # following what exists still works


def test_the_form_needs_its_csrf_token(shop, db, tmp_path):
    settings = Settings(database_url=db.url, var_dir=tmp_path, secret_key="csrf-secret", testing=True,
                        csrf_enabled=True)
    application = create_app(settings)
    try:
        client = application.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
        signed = client.post("/login", data={"username": "yuanhang", "password": demo.DEMO_PASSWORD,
                                             "csrf_token": token.group(1)})
        assert signed.status_code == 302
        assert register(client).status_code == 400 and counts(db) == (0, 0, 0)
        form = client.get("/portal/complaints/new").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        data = {**complaint_form(), "csrf_token": token, "files": (io.BytesIO(PDF), "leak.pdf")}
        sent = client.post("/portal/complaints/new", data=data, content_type="multipart/form-data")
        assert sent.status_code == 302 and counts(db) == (1, 1, 1)
    finally:
        application.extensions["flowdesk.database"].dispose()



def test_with_nobody_to_answer_the_steps_go_to_the_admins_never_to_the_customer(app, login, shop, db):
    with db.command() as session:  # a department of its own, without a leader anywhere above it
        org.save_unit(session=session, kind="department", code="claims", name="理赔组", name_en="Claims")
        records.update_record(session=session, record_id=shop["mine"], data={"account_manager": None},
                              actor=ADMIN, lock_version=None)
        session.get(Record, shop["mine"]).owner = "yuanhang"
    app.extensions["flowdesk.settings"].portal_complaint_department = "claims"
    assert register(login("yuanhang")).status_code == 302
    found = the_instance(db)
    assert found.data["registrar"] is None
    with db.query() as session:
        assert session.get(Record, found.data["complaint_id"]).owner == "yuanhang"
    [dispatch] = items(db, found.id)
    assert dispatch.assignee is None and dispatch.candidate_groups == ["role:admin"]
    complete(db, found.id, "dispatch", "admin", {"handler": "hu.yan"}, decision="approve")
    complete(db, found.id, "handle", "hu.yan", HANDLED)
    reply = items(db, found.id)[-1]
    assert (reply.element_id, reply.assignee, reply.candidate_groups) == ("reply", None, ["role:admin"])
