"""Designer pages: upload, validation reports, versions and publishing, downloads, table view, node load."""
from __future__ import annotations

import html
import io
import re
import zipfile

import pytest

from definitions import service as definitions
from definitions.errors import InvalidDefinition
from tests.conftest import DATA, ROOT

from .test_pages import _start_leave

BPMN = DATA / "bpmn"


def _upload(client, path=None, *, name=None, data=None, key=None):
    content = data if data is not None else path.read_bytes()
    form = {"file": (io.BytesIO(content), name or path.name)}
    if key:
        form["key"] = key
    return client.post("/designer/", data=form, content_type="multipart/form-data")


def _versions(app, key):
    with app.extensions["flowdesk.database"].query() as session:
        return [(v.version, v.status) for v in definitions.list_versions(session=session, key=key)]


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _between(page: str, first: str, second: str) -> str:
    return page[page.index(f'data-testid="{first}"'):page.index(f'data-testid="{second}"')]


def test_upload_stores_a_draft_with_its_report(app, login):
    admin = login("admin")
    response = _upload(admin, BPMN / "countersign.bpmn")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/designer/countersign?version=1")
    page = _text(admin.get(response.headers["Location"]))
    assert "Stored as version 1 (draft)" in page
    assert 'data-testid="ready"' in page and "Draft" in page
    assert _versions(app, "countersign") == [(1, "draft")]
    listing = _text(admin.get("/designer/"))
    assert 'data-testid="definition-countersign"' in listing
    assert 'data-testid="definition-leave_request"' in listing
    assert "countersign" not in _text(admin.get("/designer/?q=leave"))


def test_identical_upload_is_unchanged_and_a_changed_one_is_a_new_version(app, login):
    designer = login("luo.bin")
    _upload(designer, BPMN / "countersign.bpmn")
    again = designer.get(_upload(designer, BPMN / "countersign.bpmn").headers["Location"])
    assert "unchanged" in _text(again) and "version 1" in _text(again)
    original = (BPMN / "countersign.bpmn").read_bytes()
    changed = original.replace(b'name="Countersign"', b'name="Countersign v2"', 1)
    response = _upload(designer, name="countersign.bpmn", data=changed)
    assert response.headers["Location"].endswith("version=2")
    assert _versions(app, "countersign") == [(2, "draft"), (1, "draft")]
    page = _text(designer.get("/designer/countersign"))
    assert 'data-testid="version-1"' in page and 'data-testid="version-2"' in page


@pytest.mark.parametrize("name, data, expected", [
    ("xxe.bpmn", (BPMN / "xxe.bpmn").read_bytes(), "DOCTYPE"),
    ("models.zip", b"PK\x03\x04 this is not a zip archive", "not a valid zip archive"),
    ("notes.txt", b"hello", "is not a BPMN file"),
    ("empty.zip", b"", "not a valid zip archive"),
])
def test_refused_upload_shows_the_error_and_stores_nothing(app, login, name, data, expected):
    admin = login("admin")
    response = _upload(admin, name=name, data=data)
    page = _text(response)
    assert response.status_code == 422
    assert 'data-testid="upload-error"' in page and expected in page and "nothing was stored" in page
    assert name in page
    with app.extensions["flowdesk.database"].query() as session:
        assert [v.key for v in definitions.list_versions(session=session)] == ["leave_request"]


def test_refused_upload_names_file_and_line(login):
    page = _text(_upload(login("admin"), BPMN / "xxe.bpmn"))
    assert "<code>xxe.bpmn</code>" in page and "Line: 2" in page


def test_unsafe_zip_path_is_refused(app, login):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.bpmn", (BPMN / "countersign.bpmn").read_bytes())
    response = _upload(login("admin"), name="evil.zip", data=buffer.getvalue())
    assert response.status_code == 422 and "unsafe path" in _text(response)
    assert _versions(app, "countersign") == []


def test_upload_under_a_chosen_key(app, login):
    admin = login("admin")
    response = _upload(admin, BPMN / "countersign.bpmn", key="countersign_copy")
    assert response.headers["Location"].endswith("/designer/countersign_copy?version=1")
    refused = _upload(admin, BPMN / "countersign.bpmn", key="bad/key")
    assert refused.status_code == 422 and "A key starts with a letter" in _text(refused)
    assert _versions(app, "countersign_copy") == [(1, "draft")] and _versions(app, "countersign") == []


def test_blocking_error_is_stored_shown_and_publishing_refused(app, login):
    admin = login("admin")
    location = _upload(admin, BPMN / "unknown_service.bpmn").headers["Location"]
    page = _text(admin.get(location))
    assert 'data-testid="cannot-publish"' in page and 'data-testid="issue-error"' in page
    assert "call_erp" in page and "unknown service operation" in page and "unknown_service.bpmn:5" in page
    response = admin.post("/designer/erp_sync/versions/1/status", data={"status": "published"})
    assert response.status_code == 302
    page = _text(admin.get(response.headers["Location"]))
    assert "cannot be published while it has errors" in page and "call_erp" in page
    assert _versions(app, "erp_sync") == [(1, "draft")]


def test_set_status_refuses_to_publish_errors_or_documentation(app):
    documentation = (ROOT / "bpmn" / "leave_request" / "leave_request.bpmn").read_bytes().replace(
        b'isExecutable="true"', b'isExecutable="false"')
    with app.extensions["flowdesk.database"].command() as session:
        files = {"u.bpmn": (BPMN / "unknown_service.bpmn").read_bytes()}
        broken, _ = definitions.deploy(session=session, files=files, publish=False)
        with pytest.raises(InvalidDefinition) as refused:
            definitions.set_status(session=session, definition_id=broken.id, status="published")
        assert refused.value.details["element_id"] == "call_erp"
        assert refused.value.details["problem"] == "errors"
        docs, _ = definitions.deploy(session=session, files={"doc.bpmn": documentation}, key="doc",
                                     publish=False)
        assert not docs.executable
        with pytest.raises(InvalidDefinition) as refused:
            definitions.set_status(session=session, definition_id=docs.id, status="published")
        assert refused.value.details["problem"] == "not_executable"
        assert definitions.set_status(session=session, definition_id=docs.id, status="deprecated").status == \
            "deprecated"


def test_publish_deprecate_round_trip_drives_the_start_catalogue(app, login):
    designer = login("luo.bin")
    employee = login("wang.fang")
    _upload(designer, BPMN / "countersign.bpmn")
    assert 'data-testid="start-countersign"' not in employee.get("/processes/").get_data(as_text=True)
    for status, listed in (("published", True), ("deprecated", False), ("draft", False), ("published", True)):
        response = designer.post("/designer/countersign/versions/1/status", data={"status": status})
        assert response.status_code == 302
        assert _versions(app, "countersign") == [(1, status)]
        catalogue = employee.get("/processes/").get_data(as_text=True)
        assert ('data-testid="start-countersign"' in catalogue) is listed, status
    page = _text(designer.get("/designer/countersign"))
    assert "Version 1 is now published" in page and 'data-testid="deprecated-1"' in page
    url = "/designer/countersign/versions/{}/status"
    assert designer.post(url.format(1), data={"status": "bogus"}).status_code == 302
    assert _versions(app, "countersign") == [(1, "published")]
    assert designer.post(url.format(9), data={"status": "draft"}).status_code == 404


def test_download_single_file_and_zip(login):
    admin = login("admin")
    _upload(admin, BPMN / "countersign.bpmn")
    single = admin.get("/designer/countersign/versions/1/download")
    assert single.status_code == 200 and single.mimetype == "application/xml"
    assert 'filename=countersign.bpmn' in single.headers["Content-Disposition"]
    assert single.data == (BPMN / "countersign.bpmn").read_bytes()
    bundle = admin.get("/designer/leave_request/versions/1/download")
    assert bundle.status_code == 200 and bundle.mimetype == "application/zip"
    assert "leave_request-v1.zip" in bundle.headers["Content-Disposition"]
    names = set(zipfile.ZipFile(io.BytesIO(bundle.data)).namelist())
    assert names == {"leave_request.bpmn", "leave_request_form.json", "approval_form.json", "process.json"}
    again = admin.get(_upload(admin, name="leave_request-v1.zip", data=bundle.data).headers["Location"])
    assert "unchanged" in _text(again)  # the downloaded bundle uploads back to the same version


def test_table_view_lists_assignment_forms_and_conditions(login):
    page = _text(login("admin").get("/designer/leave_request?view=table"))
    table = page[page.index('data-testid="node-table"'):]
    manager = _between(table, "node-manager_approval", "node-manager_decision")
    assert "${manager}" in manager and "approval_form.json" in manager and "P2D" in manager
    assert "<td>60</td>" in manager
    hr = table[table.index('data-testid="node-hr_approval"'):]
    assert "Candidate groups" in hr and "<code>hr</code>" in hr
    decision = _between(table, "node-manager_decision", "node-hr_approval")
    assert "${decision == 'approve'}" in decision and "no condition (default)" in decision
    assert "${decision eq 'approve'}" in table


def test_table_view_shows_multi_instance_and_diagram(login):
    admin = login("admin")
    _upload(admin, BPMN / "countersign.bpmn")
    page = _text(admin.get("/designer/countersign"))
    assert 'data-testid="diagram"' in page and "<svg" in page
    assert "nrOfApproved * 2 > nrOfInstances" in page and "approvers" in page and "Parallel" in page


def test_load_view_counts_open_tasks(login):
    employee = login("wang.fang")
    _start_leave(employee)
    _start_leave(employee)
    manager = login("li.na")
    page = manager.get("/designer/leave_request/load")
    assert page.status_code == 200
    text = _text(page)
    assert re.search(r'data-testid="active-manager_approval">\s*2\s*<', text)
    assert 'data-testid="diagram"' in text and "<svg" in text
    assert login("admin").get("/designer/leave_request/load").status_code == 200
    assert manager.get("/designer/nope/load").status_code == 404


def test_permissions(login, client):
    routes = [("get", "/designer/"), ("post", "/designer/"), ("get", "/designer/leave_request"),
              ("post", "/designer/leave_request/versions/1/status"),
              ("get", "/designer/leave_request/versions/1/download"), ("get", "/designer/leave_request/load")]
    employee = login("wang.fang")
    for method, path in routes:
        assert getattr(employee, method)(path, data={"status": "deprecated"}).status_code == 403, path
    manager = login("li.na")
    for method, path in routes[:-1]:
        assert getattr(manager, method)(path, data={"status": "deprecated"}).status_code == 403, path
    assert manager.get("/designer/leave_request/load").status_code == 200
    for method, path in routes:
        response = getattr(client, method)(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_pages_in_chinese(login):
    designer = login("luo.bin", lang="zh_CN")
    assert "流程模型" in designer.get("/designer/").get_data(as_text=True)
    page = designer.get("/designer/leave_request?view=table").get_data(as_text=True)
    assert "候选组" in page and "主管审批" in page


def test_table_view_shows_the_countersign_rule_and_node_policies(login):
    from tests.conftest import DATA

    admin = login("admin")
    _upload(admin, DATA / "returns" / "countersign.bpmn")
    key = "ret_cs"
    page = _text(admin.get(f"/designer/{key}?view=table"))
    assert 'data-testid="rule-sign"' in page and "all approve (会签)" in page
    _upload(admin, DATA / "returns" / "sequence.bpmn")
    page = _text(admin.get("/designer/ret_seq?view=table"))
    finance = page[page.index('data-testid="node-finance"'):]
    assert "<code>onResubmit</code> = <code>backToReturner</code>" in finance[:3000]
