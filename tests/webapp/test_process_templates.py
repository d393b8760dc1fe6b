"""Templates, copies and process categories through the pages and the API, with the OpenAPI document."""
from __future__ import annotations

import html
import io
import json
import re
import zipfile

from sqlalchemy import func, select, update

from audit.models import AuditEntry
from definitions import service as definitions
from definitions.bundle import read_path
from definitions.models import DefinitionFile, DefinitionVersion, ProcessCategory, ProcessTemplate
from tests.conftest import ROOT

from .test_api import LEAVE, assert_error, sign_in


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _db(app):
    return app.extensions["flowdesk.database"]


def _counts(app) -> tuple:
    """Count the rows a refused change must not add to (sign-ins are audited as access, so only changes)."""
    with _db(app).query() as session:
        changes = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.kind == "change"))
        return (changes, *(session.scalar(select(func.count()).select_from(model))
                           for model in (DefinitionVersion, DefinitionFile, ProcessTemplate, ProcessCategory)))


def _versions(app, key):
    with _db(app).query() as session:
        return [(v.version, v.status) for v in definitions.list_versions(session=session, key=key)]


def _headings(page: str) -> list[str]:
    return re.findall(r'data-testid="category-([^"]+)">([^<]+)<', page)


def test_designer_marks_a_template_lists_it_and_removes_it(app, login):
    designer = login("luo.bin")
    index = _text(designer.get("/designer/"))
    assert 'data-testid="templates"' in index and 'data-testid="no-templates"' in index
    show = _text(designer.get("/designer/leave_request"))
    assert 'data-testid="mark-template"' in show and 'data-testid="is-template"' not in show
    response = designer.post("/designer/leave_request/template", data={"description": "For every absence"})
    assert response.status_code == 302
    show = _text(designer.get(response.headers["Location"]))
    assert "now offered as a template" in show and 'data-testid="is-template"' in show
    assert 'data-testid="unmark-template"' in show and "For every absence" in show
    index = _text(designer.get("/designer/"))
    row = index[index.index('data-testid="template-leave_request"'):]
    assert "Leave request" in row[:800] and "For every absence" in row[:800] and "People &amp; HR" not in row[:800]
    assert "People & HR" in row[:1200] and 'href="/designer/leave_request/copy"' in row[:1200]
    refused = designer.post("/designer/leave_request/template", data={"description": "x" * 2001})
    assert "too long" in _text(designer.get(refused.headers["Location"]))
    designer.post("/designer/leave_request/template/delete")
    assert 'data-testid="no-templates"' in _text(designer.get("/designer/"))
    assert _versions(app, "leave_request") == [(1, "published")]
    employee = login("wang.fang")
    for path in ("/designer/leave_request/template", "/designer/leave_request/template/delete",
                 "/designer/leave_request/copy"):
        assert employee.post(path, data={"key": "x", "name": "x"}).status_code == 403
    assert employee.get("/designer/leave_request/copy").status_code == 403
    assert designer.post("/designer/nothing/template").status_code == 404


def test_copy_page_checks_each_field_and_makes_a_draft_that_publishes_and_starts(app, login):
    designer = login("luo.bin")
    page = _text(designer.get("/designer/leave_request/copy"))
    assert 'data-testid="copy-form"' in page and 'value="hr" selected' in page
    assert "An employee asks for leave" in page  # the description comes along, ready to change
    before = _counts(app)
    cases = [({"key": "", "name": "Annual"}, "key", "Enter a key for the new process."),
             ({"key": "bad key", "name": "Annual"}, "key", "A key starts with a letter"),
             ({"key": "leave_request", "name": "Annual"}, "key", "A process with this key already exists."),
             ({"key": "submitted", "name": "Annual"}, "key", "already uses this id"),
             ({"key": "annual", "name": ""}, "name", "Enter a name for the new process."),
             ({"key": "annual", "name": "A / 甲", "name_zh": "年假"}, "name_zh", "already holds both languages"),
             ({"key": "annual", "name": "Annual", "category": "nope"}, "category", "Choose one of the listed"),
             ({"key": "annual", "name": "Annual", "version": "9"}, "version", "This version does not exist.")]
    for form, field, message in cases:
        response = designer.post("/designer/leave_request/copy", data={"version": "1", **form})
        assert response.status_code == 422, form
        text = _text(response)
        assert 'data-testid="copy-refused"' in text and f'data-testid="error-{field}"' in text, form
        assert message in text, (form, message)
    assert _counts(app) == before  # nothing was written

    response = designer.post("/designer/leave_request/copy", data={
        "version": "1", "key": "annual_leave", "name": "Annual leave", "name_zh": "年假", "category": "hr",
        "description": "Only annual leave"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/designer/annual_leave?version=1")
    show = _text(designer.get(response.headers["Location"]))
    assert "Copied as annual_leave, version 1 (draft)" in show and "Annual leave" in show
    assert _versions(app, "annual_leave") == [(1, "draft")]
    assert "<svg" in show  # the renamed model still draws: its diagram points at the new process id
    download = designer.get("/designer/annual_leave/versions/1/download")
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        metadata = json.loads(archive.read("process.json"))
        bpmn = archive.read("leave_request.bpmn").decode()
    assert metadata["key"] == "annual_leave" and metadata["name"] == "Annual leave / 年假"
    assert 'process id="annual_leave"' in bpmn and 'bpmnElement="annual_leave"' in bpmn
    designer.post("/designer/annual_leave/versions/1/status", data={"status": "published"})
    employee = login("wang.fang")
    catalogue = _text(employee.get("/processes/"))
    assert 'data-testid="start-annual_leave"' in catalogue
    started = employee.post("/processes/annual_leave/start", data={**LEAVE, "days": "3"})
    assert started.status_code == 302, _text(started)[:2000]
    assert "/instances/" in started.headers["Location"]


def test_admin_manages_categories_and_the_catalogue_follows(app, login):
    admin = login("admin")
    nav = _text(admin.get("/admin/"))
    assert 'href="/admin/categories/"' in nav and "Process categories" in nav
    page = _text(admin.get("/admin/categories/"))
    assert re.findall(r'<tr data-testid="category-([^"]+)"', page) == ["hr", "finance", "sales", "service",
                                                                         "office", "general"]
    assert 'data-testid="used-hr">1<' in page
    for form, field in (({"code": "9x", "name": "甲"}, "code"), ({"code": "ok", "name": " "}, "name"),
                        ({"code": "ok", "name": "甲", "sort": "-1"}, "sort")):
        refused = admin.post("/admin/categories/", data=form)
        assert refused.status_code == 422 and f'data-testid="error-{field}"' in _text(refused), form
        assert 'value="ok"' in _text(refused) or field == "code"  # what was typed stays
    assert admin.post("/admin/categories/", data={"code": "hr", "name": "人事"}).status_code == 422
    created = admin.post("/admin/categories/", data={"code": "legal", "name": "法务", "name_en": "Legal"})
    assert created.status_code == 302
    assert "Category legal added." in _text(admin.get(created.headers["Location"]))
    bad_sort = admin.post("/admin/categories/legal", data={"name": "法务", "name_en": "Legal", "sort": "soon"})
    assert bad_sort.status_code == 422 and "Enter a whole number." in _text(bad_sort)
    admin.post("/admin/categories/legal", data={"name": "法务部", "name_en": "Legal affairs", "sort": "70"})
    admin.post("/admin/categories/hr/move", data={"direction": "down"})  # hr after finance
    refused = admin.post("/admin/categories/hr/delete")
    assert "is used by 1 process definition;" in _text(admin.get(refused.headers["Location"]))
    protected = admin.post("/admin/categories/general/delete")
    assert "cannot be deleted" in _text(admin.get(protected.headers["Location"]))
    deleted = admin.post("/admin/categories/office/delete")
    assert "Category office deleted." in _text(admin.get(deleted.headers["Location"]))
    assert admin.post("/admin/categories/nope/delete").status_code == 404
    page = _text(admin.get("/admin/categories/"))
    assert re.findall(r'<tr data-testid="category-([^"]+)"', page) == ["finance", "hr", "sales", "service",
                                                                         "general", "legal"]

    # The catalogue groups by category in this order, with the name in the reader's language.
    with _db(app).command() as session:
        bundle = read_path(ROOT / "bpmn" / "leave_request")
        for key, category in (("legal_review", "legal"), ("money", "finance")):
            files = {**bundle, "process.json": json.dumps({"key": key, "name": key, "category": category}).encode()}
            definitions.deploy(session=session, files=files, actor="admin")
        # A category stored before the list existed, and not in it, comes last under its code.
        definitions.deploy(session=session, files={**bundle, "process.json": json.dumps(
            {"key": "old_one", "name": "old_one", "category": "general"}).encode()}, actor="admin")
        session.execute(update(DefinitionVersion).where(DefinitionVersion.key == "old_one")
                        .values(category="archive"))
    employee = login("wang.fang")
    assert _headings(_text(employee.get("/processes/"))) == [
        ("finance", "Finance"), ("hr", "People & HR"), ("legal", "Legal affairs"), ("archive", "archive")]
    chinese = login("wang.fang", lang="zh_CN")
    assert _headings(_text(chinese.get("/processes/"))) == [
        ("finance", "财务"), ("hr", "人事"), ("legal", "法务部"), ("archive", "archive")]
    assert "Legal affairs" in _text(admin.get("/designer/"))  # the models list names categories too


def test_category_pages_are_for_admins_only(app, login):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin_categories.")]
    assert len(rules) >= 5
    before = _counts(app)
    for username in ("luo.bin", "wang.fang"):
        client = login(username)
        for rule in rules:
            url = re.sub(r"<[^>]+>", "hr", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method, data={"code": "x", "name": "x", "direction": "up"})
                assert response.status_code == 403, (username, method, url)
    assert _counts(app) == before


def test_upload_with_an_unknown_category_is_refused_with_the_field(app, login):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in read_path(ROOT / "bpmn" / "leave_request").items():
            if name != "process.json":
                archive.writestr(name, content)
        archive.writestr("process.json", json.dumps({"key": "leave2", "category": "nope"}))
    admin, api = login("admin"), sign_in(app.test_client(), "luo.bin")
    before = _counts(app)
    response = admin.post("/designer/", data={"file": (io.BytesIO(buffer.getvalue()), "leave.zip")},
                          content_type="multipart/form-data")
    assert response.status_code == 422
    assert "category 'nope' is not a known process category" in _text(response)
    error = assert_error(api.post("/definitions", data={"file": (io.BytesIO(buffer.getvalue()), "leave.zip")},
                                  content_type="multipart/form-data"), 400, "invalid_definition")
    assert error["details"]["field"] == "category" and error["details"]["file"] == "process.json"
    assert _counts(app) == before


def test_api_copies_marks_templates_and_manages_categories(app, client):
    designer, admin, employee = sign_in(client, "luo.bin"), sign_in(client, "admin"), sign_in(client, "wang.fang")
    marked = designer.post("/definitions/leave_request/template", json={"description": "Absences"})
    assert marked.status_code == 201 and marked.get_json()["source_version"] == 1
    listed = designer.get("/process-templates").get_json()
    assert [(t["key"], t["description"], t["category"]) for t in listed["items"]] == [
        ("leave_request", "Absences", "hr")]
    copied = designer.post("/definitions/leave_request/copy", json={
        "key": "annual_leave", "name": "Annual leave", "name_zh": "年假", "category": "hr"})
    assert copied.status_code == 201, copied.get_data(as_text=True)
    body = copied.get_json()
    assert (body["key"], body["version"], body["status"], body["name"]) == ("annual_leave", 1, "draft",
                                                                            "Annual leave / 年假")
    assert body["primary_process_id"] == "annual_leave" and body["report"]["issues"] == []
    assert copied.headers["Location"].endswith("/api/v1/definitions/annual_leave")
    for payload, status, field in (({"key": "annual_leave", "name": "x"}, 409, "key"),
                                   ({"key": "a b", "name": "x"}, 400, "key"),
                                   ({"key": "other"}, 400, "name"),
                                   ({"key": "other", "name": "x", "category": "nope"}, 400, "category"),
                                   ({"key": "other", "name": "x", "version": "1"}, 400, "version"),
                                   ({"key": "other", "name": "x", "version": 7}, 404, "version"),
                                   ({"key": "other", "name": "x", "extra": 1}, 400, "extra")):
        error = assert_error(designer.post("/definitions/leave_request/copy", json=payload), status)
        assert error["details"]["field"] == field, (payload, error)
    assert_error(employee.post("/definitions/leave_request/copy", json={"key": "z", "name": "z"}), 403)
    published = designer.post("/definitions/annual_leave/versions/1/status", json={"status": "published"})
    assert published.status_code == 200
    started = employee.post("/definitions/annual_leave/instances", json={"data": LEAVE})
    assert started.status_code == 201 and started.get_json()["process"] == "annual_leave"
    removed = designer.client.delete("/api/v1/definitions/leave_request/template", headers=designer.headers)
    assert removed.status_code == 200 and removed.get_json()["key"] == "leave_request"
    assert designer.get("/process-templates").get_json()["items"] == []

    categories = employee.get("/process-categories").get_json()
    assert [c["code"] for c in categories["items"]][:2] == ["hr", "finance"]
    assert categories["items"][0] == {"code": "hr", "name": "人事", "name_en": "People & HR", "sort": 10,
                                      "definitions": 2}
    created = admin.post("/process-categories", json={"code": "legal", "name": "法务", "name_en": "Legal"})
    assert created.status_code == 201 and created.get_json()["sort"] == 70
    changed = admin.client.patch("/api/v1/process-categories/legal", headers=admin.headers, json={"sort": 1})
    assert changed.get_json()["sort"] == 1
    assert employee.get("/process-categories").get_json()["items"][0]["code"] == "legal"
    in_use = assert_error(admin.client.delete("/api/v1/process-categories/hr", headers=admin.headers), 409,
                          "category_in_use")
    assert in_use["details"] == {"field": "code", "code": "hr", "definitions": 2}
    assert "used by 2 process definition(s)" in in_use["message"]
    assert_error(admin.client.delete("/api/v1/process-categories/general", headers=admin.headers), 409,
                 "category_protected")
    assert_error(designer.post("/process-categories", json={"code": "x", "name": "x"}), 403)
    gone = admin.client.delete("/api/v1/process-categories/legal", headers=admin.headers)
    assert gone.status_code == 200 and gone.get_json()["code"] == "legal"

    document = client.get("/api/v1/openapi.json").get_json()
    for path, methods in (("/definitions/{key}/copy", {"post"}), ("/definitions/{key}/template", {"post", "delete"}),
                          ("/process-templates", {"get"}),
                          ("/process-categories", {"get", "post"}),
                          ("/process-categories/{code}", {"patch", "delete"})):
        assert set(document["paths"][path]) == methods, path
    assert "409" in document["paths"]["/process-categories/{code}"]["delete"]["responses"]
