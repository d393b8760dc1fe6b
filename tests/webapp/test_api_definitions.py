"""The JSON API for process definitions: uploads, reports, versions, status and diagrams."""
from __future__ import annotations

import io
import zipfile

from tests.conftest import DATA, ROOT

from .test_api import assert_error, sign_in

COUNTERSIGN = (DATA / "bpmn" / "countersign.bpmn").read_bytes()


def _upload(api, name: str, content: bytes, **fields):
    return api.post("/definitions", data={"file": (io.BytesIO(content), name), **fields},
                    content_type="multipart/form-data")


def test_designer_uploads_a_model_and_gets_its_report(client):
    designer = sign_in(client, "luo.bin")
    response = _upload(designer, "countersign.bpmn", COUNTERSIGN)
    assert response.status_code == 201, response.get_data(as_text=True)
    version = response.get_json()
    assert (version["key"], version["version"], version["status"]) == ("countersign", 1, "draft")
    assert version["report"]["executable"] is True and version["report"]["issues"] == []
    assert version["files"][0]["name"] == "countersign.bpmn" and version["created_by"] == "luo.bin"
    assert response.headers["Location"].endswith("/api/v1/definitions/countersign")
    again = _upload(designer, "countersign.bpmn", COUNTERSIGN)
    assert again.status_code == 200 and again.get_json()["id"] == version["id"]

    listed = {d["key"]: d for d in designer.get("/definitions").get_json()["items"]}
    assert listed["countersign"]["startable"] is False and listed["leave_request"]["startable"] is True
    employee = sign_in(client, "wang.fang")
    assert [d["key"] for d in employee.get("/definitions").get_json()["items"]] == ["leave_request"]
    assert_error(employee.get("/definitions/countersign"), 404)  # drafts are for designers

    published = designer.post("/definitions/countersign/versions/1/status", json={"status": "published"})
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    detail = employee.get("/definitions/countersign").get_json()
    assert [v["version"] for v in detail["versions"]] == [1] and detail["start_form"] is None
    assert_error(employee.post("/definitions/countersign/versions/1/status", json={"status": "draft"}), 403)
    assert_error(designer.post("/definitions/countersign/versions/7/status", json={"status": "draft"}), 404)
    assert_error(designer.post("/definitions/countersign/versions/1/status", json={"status": "gone"}), 400)
    svg = employee.get("/definitions/countersign/diagram.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"sign" in svg.data
    assert_error(employee.get("/definitions/countersign/diagram.svg?version=2"), 404)


def test_a_zip_bundle_can_be_published_at_once(client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in (ROOT / "bpmn" / "leave_request").iterdir():
            archive.writestr(path.name, path.read_bytes().replace(b'"leave_request"', b'"leave_copy"'))
    response = _upload(sign_in(client, "admin"), "leave.zip", buffer.getvalue(), key="leave_copy", publish="true")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["key"], body["status"], body["startable"]) == ("leave_copy", "published", True)
    assert {f["kind"] for f in body["files"]} == {"bpmn", "form"}


def test_broken_or_forbidden_uploads_are_refused(client):
    designer = sign_in(client, "luo.bin")
    error = assert_error(_upload(designer, "xxe.bpmn", (DATA / "bpmn" / "xxe.bpmn").read_bytes()), 400,
                         "invalid_definition")
    assert "xxe.bpmn" in error["message"] and error["details"]["file_name"] == "xxe.bpmn"
    error = assert_error(_upload(designer, "notes.txt", b"hello"), 400, "invalid_definition")
    assert error["details"]["file"] == "notes.txt"
    assert_error(_upload(designer, "broken.zip", b"PK not really"), 400, "invalid_definition")
    assert_error(_upload(designer, "nul.bpmn", COUNTERSIGN + b"\x00"), 400)
    assert_error(_upload(designer, "countersign.bpmn", COUNTERSIGN, key="1 bad key"), 400)
    assert_error(designer.post("/definitions", data={}, content_type="multipart/form-data"), 400)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("countersign.bpmn", COUNTERSIGN)
        archive.writestr("process.json", '{"key": "%s"}' % ("k" * 300))
    error = assert_error(_upload(designer, "long.zip", buffer.getvalue()), 400, "invalid_definition")
    assert error["details"] == {"file": "process.json", "field": "key"}
    assert_error(_upload(sign_in(client, "wang.fang"), "countersign.bpmn", COUNTERSIGN), 403, "forbidden")
    assert [d["key"] for d in designer.get("/definitions").get_json()["items"]] == ["leave_request"]
