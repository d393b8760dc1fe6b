"""Document centre pages: libraries, folders, uploads with zips and quotas, versions, downloads, locks,
encrypted documents, rename/move/delete with the recycle bin, and sharing."""
from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

import lxml.html
import pytest
from sqlalchemy import func, select

from documents import folders, library, versions
from documents.models import DocDocument, DocFolder, DocPermission, DocTrash, DocVersion
from documents.store import BlobStore
from org import service as org
from webapp.views.documents_common import content_disposition


def database(app):
    return app.extensions["flowdesk.database"]


def store(app):
    return app.extensions["flowdesk.settings"].var_dir / "files"


def actor(app, name):
    with database(app).query() as session:
        return org.actor_for(org.get_user_by_name(session=session, username=name))


def page(response, *statuses):
    assert response.status_code in (statuses or (200,)), (response.status_code, response.get_data(as_text=True)[:2000])
    return lxml.html.fromstring(response.get_data(as_text=True))


def one(tree, testid):
    found = tree.xpath(f".//*[@data-testid='{testid}']")
    assert len(found) == 1, (testid, len(found))
    return found[0]


def text(node) -> str:
    return " ".join(node.text_content().split())


def drive_root(app, username: str) -> int:
    with database(app).command() as session:
        return library.personal_drive(session=session, username=username).root_folder_id


def company_root(app) -> int:
    with database(app).command() as session:
        return library.company_library(session=session).root_folder_id


def mkdir(app, parent_id: int, name: str, who: str) -> int:
    with database(app).command() as session:
        return folders.create_folder(session=session, parent_id=parent_id, name=name, actor=actor(app, who)).id


def put(app, folder_id: int, name: str, data: bytes, who: str, **kw) -> int:
    with database(app).command() as session:
        return versions.upload_file(session=session, store_dir=store(app), folder_id=folder_id, file_name=name,
                                    stream=io.BytesIO(data), actor=actor(app, who), **kw).document_id


def documents_in(app, folder_id: int) -> dict[str, int]:
    with database(app).query() as session:
        return dict(session.execute(select(DocDocument.name, DocDocument.id).where(
            DocDocument.folder_id == folder_id, DocDocument.deleted_at.is_(None))).all())


def count(app, model) -> int:
    with database(app).query() as session:
        return session.scalar(select(func.count()).select_from(model))


def stored_blobs(app) -> list:
    root = store(app)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def post_files(client, folder_id: int, files: list[tuple[str, bytes]], **fields):
    data = {"files": [(io.BytesIO(content), name) for name, content in files], "unpack": ["0", "1"], **fields}
    return client.post(f"/documents/folders/{folder_id}/upload", data=data, content_type="multipart/form-data")


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_the_libraries_page_lists_the_company_library_the_department_library_and_the_drive(app, login):
    client = login("wang.fang")
    tree = page(client.get("/documents/"))
    assert "Documents" in text(one(tree, "nav-documents"))
    assert len(one(tree, "libraries-company").xpath(".//*[@class='card-body d-flex flex-column']")) == 1
    assert "销售部" in text(one(tree, "libraries-department"))
    drives = text(one(tree, "libraries-personal"))
    assert "My drive" in drives and "no quota" in drives
    with database(app).query() as session:
        assert library.get_library_or_raise(session, 1).key == "company"
    # Another department's library stays out of sight.
    page(login("zhao.lei").get("/documents/"))
    assert "财务部" not in text(page(client.get("/documents/")))


def test_a_folder_page_shows_its_trail_content_and_the_buttons_the_reader_may_use(app, login):
    root = company_root(app)
    policies = mkdir(app, root, "制度 Policies", "admin")
    put(app, policies, "员工手册.pdf", b"%PDF handbook", "admin")
    mkdir(app, policies, "2024", "admin")
    admin = page(login("admin").get(f"/documents/folders/{policies}"))
    assert [text(li) for li in one(admin, "trail").xpath("./li")] == ["Documents", "公司文库 Company library",
                                                                      "制度 Policies"]
    content = text(one(admin, "folder-content"))
    assert "2024" in content and "员工手册.pdf" in content and "13 bytes" in content and "v1" in content
    assert "系统管理员" in content  # who uploaded it, by name
    for button in ("upload", "new-folder", "sharing", "recycle-bin"):
        one(admin, button)
    reader = page(login("wang.fang").get(f"/documents/folders/{policies}"))
    assert not reader.xpath(".//*[@data-testid='upload' or @data-testid='sharing' or @data-testid='new-folder']")
    assert "员工手册.pdf" in text(one(reader, "folder-content"))
    empty = page(login("admin").get(f"/documents/folders/{mkdir(app, root, 'Empty', 'admin')}"))
    assert "This folder is empty." in text(one(empty, "empty"))


def test_uploading_several_files_and_a_zip_creates_documents_and_folders(app, login):
    root = drive_root(app, "wang.fang")
    client = login("wang.fang")
    archive = zipped({"合同/2024/a.txt": b"contract a", "合同/b.txt": b"contract b", "../evil.txt": b"x"})
    response = post_files(client, root, [("报价单.txt", b"price 100"), ("notes.md", b"# notes"),
                                         ("bundle.zip", archive)])
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/documents/folders/{root}")
    assert documents_in(app, root).keys() == {"报价单.txt", "notes.md"}
    with database(app).query() as session:
        contracts = session.scalar(select(DocFolder.id).where(DocFolder.parent_id == root, DocFolder.name == "合同"))
        year = session.scalar(select(DocFolder.id).where(DocFolder.parent_id == contracts))
    assert documents_in(app, contracts).keys() == {"b.txt"} and documents_in(app, year).keys() == {"a.txt"}
    tree = page(client.get(f"/documents/folders/{root}"))
    assert "4 documents stored. 2 folders created." in tree.text_content()
    assert "evil.txt" in tree.text_content()  # the skipped entry is named
    # The same form sent by the script gets JSON and the same result; a same-named file is the next version.
    response = client.post(f"/documents/folders/{root}/upload", data={"files": [(io.BytesIO(b"price 120"), "报价单.txt")]},
                           content_type="multipart/form-data", headers={"X-Requested-With": "XMLHttpRequest"})
    assert response.status_code == 200 and response.get_json() == {"redirect": f"/documents/folders/{root}"}
    with database(app).query() as session:
        assert session.get(DocDocument, documents_in(app, root)["报价单.txt"]).version_count == 2
    # Without "unpack" a zip is kept as one document.
    client.post(f"/documents/folders/{root}/upload", data={"files": [(io.BytesIO(archive), "keep.zip")], "unpack": "0"},
                content_type="multipart/form-data")
    assert "keep.zip" in documents_in(app, root)


def test_the_upload_page_works_without_script_and_names_refusals_next_to_the_form(app, login):
    root = drive_root(app, "wang.fang")
    mkdir(app, root, "Reports", "wang.fang")
    client = login("wang.fang")
    tree = page(client.get(f"/documents/folders/{root}/upload"))
    form = one(tree, "upload-form")
    assert form.get("enctype") == "multipart/form-data" and form.xpath(".//input[@type='file'][@multiple]")
    assert tree.xpath(".//script[contains(@src, 'documents-upload.js')]")
    before = stored_blobs(app)
    # A file named like a folder clashes: nothing of the whole upload is kept.
    tree = page(post_files(client, root, [("fine.txt", b"fine"), ("reports", b"clash")]), 409)
    assert "“reports” already exists in this folder" in text(one(tree, "upload-error"))
    assert documents_in(app, root) == {} and stored_blobs(app) == before
    tree = page(post_files(client, root, [("bad.zip", b"PK\x03\x04 this is no zip")]), 400)
    assert "bad.zip was refused" in text(one(tree, "upload-error")) and documents_in(app, root) == {}
    response = client.post(f"/documents/folders/{root}/upload", data={"files": [(io.BytesIO(b"x"), "a/b.txt")]},
                           content_type="multipart/form-data", headers={"X-Requested-With": "XMLHttpRequest"})
    assert response.status_code == 400 and "without “/”" in response.get_json()["error"]["message"]
    assert page(client.post(f"/documents/folders/{root}/upload", data={}), 400) is not None
    app.extensions["flowdesk.settings"].max_upload_mb = 0  # every file is now too large
    tree = page(post_files(client, root, [("big.txt", b"12345")]), 413)
    assert "big.txt is larger than the limit of 0 bytes" in text(one(tree, "upload-error"))


def test_a_quota_refusal_shows_the_numbers_and_stores_nothing(app, login):
    root = drive_root(app, "wang.fang")
    with database(app).command() as session:
        drive = library.personal_drive(session=session, username="wang.fang")
        library.set_quota(session=session, library_id=drive.id, quota_bytes=1000, actor=actor(app, "admin"))
    put(app, root, "old.txt", b"o" * 900, "wang.fang")
    before_documents, before_blobs = count(app, DocDocument), stored_blobs(app)
    client = login("wang.fang")
    tree = page(post_files(client, root, [("a.txt", b"a" * 50), ("b.txt", b"b" * 300)]), 413)
    message = text(one(tree, "upload-error"))
    assert "holds 900 bytes of its 1,000 bytes quota and 350 bytes more do not fit" in message, message
    assert count(app, DocDocument) == before_documents and count(app, DocVersion) == 1
    assert stored_blobs(app) == before_blobs
    assert "900 bytes of 1,000 bytes used" in text(one(page(client.get(f"/documents/folders/{root}")), "space"))
    # A zip that would pass the quota is refused as a whole too.
    tree = page(post_files(client, root, [("more.zip", zipped({"x.txt": b"x" * 400}))]), 413)
    assert "1,000 bytes" in text(one(tree, "upload-error")) and count(app, DocDocument) == before_documents
    assert stored_blobs(app) == before_blobs


def test_someone_without_read_permission_finds_nothing(app, login):
    root = drive_root(app, "li.na")
    private = mkdir(app, root, "私人", "li.na")
    doc = put(app, private, "salary.xlsx", b"numbers", "li.na")
    stranger = login("zhao.lei")
    for url in (f"/documents/folders/{private}", f"/documents/files/{doc}", f"/documents/files/{doc}/download",
                f"/documents/files/{doc}/download?v=1", f"/documents/files/{doc}/versions/1/verify",
                f"/documents/folders/{private}/upload", f"/documents/folders/{private}/sharing",
                f"/documents/files/{doc}/rename", f"/documents/folders/{private}/move"):
        assert stranger.get(url).status_code == 404, url
    for url in (f"/documents/files/{doc}/delete", f"/documents/folders/{private}/delete",
                f"/documents/files/{doc}/lock", f"/documents/folders/{private}/sharing"):
        assert stranger.post(url, data={"who": "user:zhao.lei", "actions": ["read"]}).status_code == 404, url
    assert post_files(stranger, private, [("x.txt", b"x")]).status_code == 404
    assert documents_in(app, private).keys() == {"salary.xlsx"}
    assert stranger.get("/documents/folders/999999").status_code == 404
    assert stranger.get("/documents/files/999999").status_code == 404


def test_a_download_sends_the_exact_bytes_with_the_utf8_file_name(app, login):
    root = drive_root(app, "wang.fang")
    data = bytes(range(256)) * 1000
    doc = put(app, root, "报价单 2024.xlsx", data, "wang.fang")
    response = login("wang.fang").get(f"/documents/files/{doc}/download")
    assert response.status_code == 200 and response.data == data
    disposition = response.headers["Content-Disposition"]
    assert disposition == f"attachment; filename=\"2024.xlsx\"; filename*=UTF-8''{quote('报价单 2024.xlsx')}"
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert content_disposition("report.pdf") == 'attachment; filename="report.pdf"'
    assert content_disposition("合同.pdf").startswith('attachment; filename="download.pdf"; filename*=UTF-8\'\'')
    assert '"' not in content_disposition('a"b;c.txt').split("filename=")[1].strip('"').split('"')[0]


def test_a_new_version_and_restoring_an_old_one(app, login):
    root = drive_root(app, "wang.fang")
    doc = put(app, root, "plan.txt", b"version one", "wang.fang")
    client = login("wang.fang")
    tree = page(client.get(f"/documents/files/{doc}"))
    assert [text(one(tree, "document-title"))] == ["plan.txt"] and one(tree, "version-form") is not None
    response = client.post(f"/documents/files/{doc}/versions", data={"file": (io.BytesIO(b"version two"), "plan-v2.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    tree = page(client.get(f"/documents/files/{doc}"))
    assert "Version 2 uploaded." in tree.text_content()
    assert "plan-v2.txt" in text(one(tree, "version-2")) and "current" in text(one(tree, "version-2"))
    assert client.get(f"/documents/files/{doc}/download?v=1").data == b"version one"
    assert client.post(f"/documents/files/{doc}/versions/1/restore").status_code == 302
    tree = page(client.get(f"/documents/files/{doc}"))
    assert "restored from v1" in text(one(tree, "version-3")) and "Version 1 restored as version 3." in tree.text_content()
    assert client.get(f"/documents/files/{doc}/download").data == b"version one"
    tree = page(client.post(f"/documents/files/{doc}/versions", data={}, content_type="multipart/form-data"), 400)
    assert "Choose a file." in text(one(tree, "error-version"))
    # A reader without edit sees no version form and is refused with a reason.
    company = company_root(app)
    shared = put(app, company, "rules.txt", b"rules", "admin")
    reader = login("wang.fang")
    assert not page(reader.get(f"/documents/files/{shared}")).xpath(".//*[@data-testid='version-form']")
    tree = page(reader.post(f"/documents/files/{shared}/versions", data={"file": (io.BytesIO(b"x"), "r.txt")},
                            content_type="multipart/form-data"), 403)
    assert "You may not edit here." in text(one(tree, "error-version"))


def test_verify_shows_the_fingerprint_and_whether_the_file_changed(app, login):
    root = drive_root(app, "wang.fang")
    doc = put(app, root, "contract.pdf", b"%PDF signed", "wang.fang")
    client = login("wang.fang")
    tree = page(client.get(f"/documents/files/{doc}/versions/1/verify"))
    result = one(tree, "verify-result")
    with database(app).query() as session:
        version = session.scalar(select(DocVersion).where(DocVersion.document_id == doc))
    assert "Version 1 is unchanged" in text(result) and "alert-success" in result.get("class")
    assert text(one(tree, "sha256")) == version.sha256 and text(one(tree, "crc32")) == f"{version.crc32:08X}"
    BlobStore(store(app)).path(version.sha256).write_bytes(b"%PDF forged")
    result = one(page(client.get(f"/documents/files/{doc}/versions/1/verify")), "verify-result")
    assert "Version 1 changed since it was stored" in text(result) and "alert-danger" in result.get("class")
    BlobStore(store(app)).path(version.sha256).unlink()
    assert "the stored file is missing" in text(one(page(client.get(f"/documents/files/{doc}/versions/1/verify")),
                                                    "verify-result"))


def test_a_lock_with_a_reason_refuses_a_new_version_until_unlocked(app, login):
    root = drive_root(app, "wang.fang")
    doc = put(app, root, "signed.pdf", b"%PDF signed", "wang.fang")
    client = login("wang.fang")
    assert client.post(f"/documents/files/{doc}/lock", data={"reason": "已签署 signed"}).status_code == 302
    tree = page(client.get(f"/documents/files/{doc}"))
    assert "Reason: 已签署 signed" in text(one(tree, "lock-note")) and one(tree, "unlock") is not None
    assert not tree.xpath(".//*[@data-testid='version-form' or @data-testid='delete' or @data-testid='rename']")
    tree = page(client.post(f"/documents/files/{doc}/versions", data={"file": (io.BytesIO(b"changed"), "s.pdf")},
                            content_type="multipart/form-data"), 409)
    assert "This document is locked by wang.fang; unlock it first." in text(one(tree, "error-version"))
    assert "locked" in text(one(page(client.get(f"/documents/folders/{root}")), "locked")).lower()
    assert client.post(f"/documents/files/{doc}/delete").status_code == 302
    assert documents_in(app, root) == {"signed.pdf": doc}
    assert page(client.post(f"/documents/files/{doc}/rename", data={"name": "x.pdf"}), 400) is not None
    assert client.post(f"/documents/files/{doc}/unlock").status_code == 302
    assert client.post(f"/documents/files/{doc}/versions", data={"file": (io.BytesIO(b"changed"), "s.pdf")},
                       content_type="multipart/form-data").status_code == 302
    with database(app).query() as session:
        assert session.get(DocDocument, doc).version_count == 2


def test_an_encrypted_document_asks_for_its_password_and_refuses_a_wrong_one(app, login):
    root = drive_root(app, "wang.fang")
    client = login("wang.fang")
    tree = page(post_files(client, root, [("secret.txt", b"top secret")], password="pa55word", password2="other"), 400)
    assert "The two passwords differ." in text(one(tree, "upload-error"))
    assert post_files(client, root, [("secret.txt", b"top secret")], password="pa55word",
                      password2="pa55word").status_code == 302
    doc = documents_in(app, root)["secret.txt"]
    assert "Encrypted" in text(one(page(client.get(f"/documents/folders/{root}")), "encrypted"))
    tree = page(client.get(f"/documents/files/{doc}/download"))
    assert one(tree, "password-form") is not None and not tree.xpath(".//*[@data-testid='password-error']")
    tree = page(client.post(f"/documents/files/{doc}/download", data={"password": "wrong"}), 403)
    assert text(one(tree, "password-error")) == "The password is wrong."
    response = client.post(f"/documents/files/{doc}/download", data={"password": "pa55word"})
    assert response.status_code == 200 and response.data == b"top secret"
    assert 'filename="secret.txt"' in response.headers["Content-Disposition"]
    assert b"top secret" not in b"".join(p.read_bytes() for p in stored_blobs(app))
    # A new version needs the same password.
    tree = page(client.post(f"/documents/files/{doc}/versions", data={"file": (io.BytesIO(b"v2"), "secret.txt")},
                            content_type="multipart/form-data"), 400)
    assert "This document is encrypted: enter its password." in text(one(tree, "error-version"))
    assert client.post(f"/documents/files/{doc}/versions", data={"file": (io.BytesIO(b"v2"), "secret.txt"),
                                                                 "password": "pa55word"},
                       content_type="multipart/form-data").status_code == 302
    assert client.post(f"/documents/files/{doc}/download?v=2", data={"password": "pa55word"}).data == b"v2"


def test_rename_move_delete_restore_and_purge(app, login):
    root = drive_root(app, "wang.fang")
    inbox, archive = mkdir(app, root, "Inbox", "wang.fang"), mkdir(app, root, "Archive", "wang.fang")
    doc = put(app, inbox, "draft.txt", b"draft", "wang.fang")
    client = login("wang.fang")
    assert page(client.get(f"/documents/files/{doc}/rename")).xpath(".//input[@name='name']/@value") == ["draft.txt"]
    assert client.post(f"/documents/files/{doc}/rename", data={"name": "最终版.txt"}).status_code == 302
    put(app, inbox, "other.txt", b"other", "wang.fang")
    tree = page(client.post(f"/documents/files/{doc}/rename", data={"name": "OTHER.txt"}), 400)
    assert "already exists" in text(one(tree, "error-name"))
    tree = page(client.get(f"/documents/files/{doc}/move"))
    options = dict(zip(tree.xpath(".//select[@name='target_id']/option/@value"),
                       [text(o) for o in tree.xpath(".//select[@name='target_id']/option")], strict=True))
    assert options[str(archive)] == "My drive / Archive" and options[""] == "Choose a folder"
    assert client.post(f"/documents/files/{doc}/move", data={"target_id": archive}).status_code == 302
    assert documents_in(app, archive) == {"最终版.txt": doc}
    # Folders: rename, move (not into themselves), delete.
    assert client.post(f"/documents/folders/{inbox}/rename", data={"name": "Incoming"}).status_code == 302
    tree = page(client.get(f"/documents/folders/{archive}/move"))
    assert str(archive) not in tree.xpath(".//select[@name='target_id']/option[not(@disabled)]/@value")
    assert client.post(f"/documents/folders/{archive}/move", data={"target_id": inbox}).status_code == 302
    with database(app).query() as session:
        assert session.get(DocFolder, archive).parent_id == inbox
    assert page(client.post(f"/documents/folders/{inbox}/move", data={"target_id": archive}), 400) is not None
    assert client.post(f"/documents/files/{doc}/delete").status_code == 302
    assert client.post(f"/documents/folders/{archive}/delete").status_code == 302
    with database(app).query() as session:
        lib_id = session.get(DocFolder, root).library_id
        entries = dict(session.execute(select(DocTrash.name, DocTrash.id)).all())
    tree = page(client.get(f"/documents/libraries/{lib_id}/recycle"))
    listed = text(one(tree, "recycle-entries"))
    assert "最终版.txt" in listed and "My drive / Incoming / Archive" in listed and "deleted too" in listed
    # The document's folder is in the bin: restoring the document alone is refused with the reason.
    client.post(f"/documents/recycle/{entries['最终版.txt']}/restore")
    assert "restore it first" in page(client.get(f"/documents/libraries/{lib_id}/recycle")).text_content()
    assert client.post(f"/documents/recycle/{entries['Archive']}/restore").status_code == 302
    assert client.post(f"/documents/recycle/{entries['最终版.txt']}/restore").status_code == 302
    assert documents_in(app, archive) == {"最终版.txt": doc}
    assert client.post(f"/documents/files/{doc}/delete").status_code == 302
    with database(app).query() as session:
        trash_id = session.scalar(select(DocTrash.id))
    assert client.post(f"/documents/recycle/{trash_id}/purge").status_code == 302
    assert "The recycle bin is empty." in text(one(page(client.get(f"/documents/libraries/{lib_id}/recycle")), "empty"))
    with database(app).query() as session:
        assert session.get(DocDocument, doc) is None
    assert login("zhao.lei").get(f"/documents/libraries/{lib_id}/recycle").status_code == 404


def test_sharing_a_folder_lets_another_person_read_it(app, login):
    root = drive_root(app, "li.na")
    team = mkdir(app, root, "Team", "li.na")
    doc = put(app, team, "targets.txt", b"Q3 targets", "li.na")
    colleague, owner = login("wang.fang"), login("li.na")
    assert colleague.get(f"/documents/folders/{team}").status_code == 404
    tree = page(owner.get(f"/documents/folders/{team}/sharing"))
    assert one(tree, "no-permissions") is not None
    picker = tree.xpath(".//select[@name='who']//option/@value")
    assert {"user:wang.fang", "dept:sales", "dept_tree:sales", "role:manager", "group:crm_rollout",
            "position:staff", "everyone"} <= set(picker)
    assert owner.post(f"/documents/folders/{team}/sharing", data={"who": "user:wang.fang",
                                                                  "actions": ["read"]}).status_code == 302
    tree = page(owner.get(f"/documents/folders/{team}/sharing"))
    row = text(one(tree, "permission-user:wang.fang"))
    assert "王芳 (wang.fang)" in row and "Read" in row and "this folder" in row
    assert "targets.txt" in text(one(page(colleague.get(f"/documents/folders/{team}")), "folder-content"))
    assert colleague.get(f"/documents/files/{doc}/download").data == b"Q3 targets"
    colleague.post(f"/documents/files/{doc}/delete")  # reads, may not delete
    assert "You may not delete here." in page(colleague.get(f"/documents/files/{doc}")).text_content()
    assert documents_in(app, team) == {"targets.txt": doc}
    # A subfolder inherits the share until it takes its own permissions.
    sub = mkdir(app, team, "Sub", "li.na")
    tree = page(owner.get(f"/documents/folders/{sub}/sharing"))
    assert "inherited from Team" in text(one(tree, "permission-user:wang.fang"))
    assert owner.post(f"/documents/folders/{sub}/sharing/own").status_code == 302
    assert owner.post(f"/documents/folders/{sub}/sharing/remove", data={"principal": "user:wang.fang"}).status_code == 302
    assert colleague.get(f"/documents/folders/{sub}").status_code == 404
    assert colleague.get(f"/documents/folders/{team}").status_code == 200
    assert owner.post(f"/documents/folders/{sub}/sharing/inherit").status_code == 302
    assert colleague.get(f"/documents/folders/{sub}").status_code == 200
    # Department and role rows; removing the share closes the folder again.
    assert owner.post(f"/documents/folders/{team}/sharing", data={"who": "dept_tree:finance",
                                                                  "actions": ["upload"]}).status_code == 302
    with database(app).query() as session:
        rows = dict(session.execute(select(DocPermission.principal, DocPermission.actions)
                                    .where(DocPermission.folder_id == team)).all())
    assert rows == {"user:wang.fang": library.READ, "dept_tree:finance": library.READ | library.UPLOAD}
    tree = page(owner.post(f"/documents/folders/{team}/sharing", data={"who": "user:nobody", "actions": ["read"]}), 404)
    assert one(tree, "sharing-error") is not None
    assert page(owner.post(f"/documents/folders/{team}/sharing", data={"who": "user:wang.fang"}), 400) is not None
    assert owner.post(f"/documents/folders/{team}/sharing/remove", data={"principal": "user:wang.fang"}).status_code == 302
    assert colleague.get(f"/documents/folders/{team}").status_code == 404
    assert colleague.get(f"/documents/folders/{team}/sharing").status_code == 404
    assert login("sun.li").get(f"/documents/folders/{team}").status_code == 200  # finance reads through its row


@pytest.mark.parametrize("lang", ["zh_CN"])
def test_the_pages_render_in_chinese_too(app, login, lang):
    root = drive_root(app, "wang.fang")
    doc = put(app, root, "说明.txt", b"text", "wang.fang")
    client = login("wang.fang", lang=lang)
    for url in ("/documents/", f"/documents/folders/{root}", f"/documents/folders/{root}/upload",
                f"/documents/files/{doc}", f"/documents/files/{doc}/rename", f"/documents/files/{doc}/move",
                f"/documents/folders/{root}/sharing"):
        assert client.get(url).status_code == 200, url


def test_every_document_page_needs_sign_in_and_the_progress_script_is_served_locally(app, client):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/documents")]
    assert len(rules) >= 25
    for rule in rules:
        url = rule.rule.replace("<int:", "<").replace("<folder_id>", "1").replace("<document_id>", "1") \
            .replace("<library_id>", "1").replace("<trash_id>", "1").replace("<number>", "1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
    script = client.get("/static/js/documents-upload.js")
    body = script.get_data(as_text=True)
    script.close()
    assert script.status_code == 200 and "upload.onprogress" in body and "http" not in body


def test_the_upload_script_gets_refusals_as_json(app, login):
    root = drive_root(app, "wang.fang")
    with database(app).command() as session:
        drive = library.personal_drive(session=session, username="wang.fang")
        library.set_quota(session=session, library_id=drive.id, quota_bytes=10, actor=actor(app, "admin"))
    response = login("wang.fang").post(f"/documents/folders/{root}/upload",
                                       data={"files": [(io.BytesIO(b"x" * 20), "a.txt")]},
                                       content_type="multipart/form-data",
                                       headers={"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"})
    assert response.status_code == 413
    assert "0 bytes of its 10 bytes quota and 20 bytes more do not fit" in response.get_json()["error"]["message"]
    assert count(app, DocDocument) == 0
