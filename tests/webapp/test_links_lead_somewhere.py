"""A page offers only links its reader may follow, and pickers offer only people who can take the work."""
from __future__ import annotations

import re

from instances.actors import Actor
from org import service as org
from records import service as records
from tests.webapp.test_api import make_portal_account, only_task, sign_in, start_leave


def _at_hr(client) -> tuple[int, int]:
    """Start a leave request as wang.fang, approve it as li.na; return the instance and the HR task's ids."""
    instance = start_leave(sign_in(client, "wang.fang"))
    manager = sign_in(client, "li.na")
    done = manager.post(f"/tasks/{only_task(manager)['id']}/complete", json={"decision": "approve"})
    assert done.status_code == 200, done.get_data(as_text=True)
    hr_task = only_task(sign_in(client, "wu.qiang"), view="group")
    return instance["id"], hr_task["id"]


def test_a_group_task_has_an_open_button_only_for_those_it_is_offered_to(app, client, login):
    instance_id, task_id = _at_hr(client)
    link = f'href="/tasks/{task_id}"'
    # The initiator and the manager who approved see who the request waits for, without a button that 404s.
    for outsider in ("wang.fang", "li.na"):
        page = login(outsider).get(f"/instances/{instance_id}").get_data(as_text=True)
        assert "HR approval" in page  # the step it waits for is named
        assert link not in page, outsider
        assert login(outsider).get(f"/tasks/{task_id}").status_code == 404
    hr = login("wu.qiang")
    assert link in hr.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert hr.get(f"/tasks/{task_id}").status_code == 200


def test_a_record_names_the_processes_its_reader_may_not_open_without_linking_them(app, client, login):
    instance_id, _task = _at_hr(client)
    with app.extensions["flowdesk.database"].command() as session:
        records.install_core_types(session=session)
        customer = records.create_record(session=session, type_key="customer", actor=Actor("zhang.wei"),
                                         data={"name": "远航物流"})
        records.link_process(session=session, record_id=customer.id, instance_id=instance_id, relation="linked")
    link = f'href="/instances/{instance_id}"'
    own = login("wang.fang").get(f"/records/customer/{customer.id}").get_data(as_text=True)
    assert link in own  # the initiator opens their request from the customer
    other = login("zhao.lei")  # reads customers, took no part in the leave request
    page = other.get(f"/records/customer/{customer.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="record-processes"' in text and link not in text
    assert other.get(f"/instances/{instance_id}").status_code == 404


def test_library_settings_link_only_the_libraries_the_admin_may_read(app, login):
    admin = login("admin")
    with app.extensions["flowdesk.database"].command() as session:
        from documents import library
        drive = library.personal_drive(session=session, username="wang.fang")
        company = library.company_library(session=session)
        drive_root, company_root = drive.root_folder_id, company.root_folder_id
    page = admin.get("/documents/settings/").get_data(as_text=True)
    assert f'href="/documents/folders/{company_root}"' in page
    assert f'href="/documents/folders/{drive_root}"' not in page  # a personal drive is its owner's
    assert admin.get(f"/documents/folders/{drive_root}").status_code in (403, 404)
    owner = login("wang.fang")
    assert owner.get(f"/documents/folders/{drive_root}").status_code == 200


def test_a_portal_account_sees_no_print_buttons_it_would_be_refused(app, login):
    company = make_portal_account(app, "emma.chen")
    portal = login("emma.chen")
    page = portal.get(f"/records/customer/{company}").get_data(as_text=True)
    assert "远航物流" in page and 'data-testid="printouts"' not in page
    assert portal.get(f"/records/customer/{company}/print.pdf").status_code == 403
    staff = login("wang.fang").get(f"/records/customer/{company}").get_data(as_text=True)
    assert 'data-testid="printouts"' in staff


def test_pickers_offer_staff_and_never_a_portal_account(app, login):
    make_portal_account(app, "emma.chen")
    admin = login("admin")
    for path in ("/messages/new", "/admin/users/new", "/admin/departments/new"):
        page = admin.get(path).get_data(as_text=True)
        assert re.search(r'value="li\.na"', page), path
        assert 'value="emma.chen"' not in page, path
    with app.extensions["flowdesk.database"].query() as session:
        kinds = {u.kind for u in org.list_users(session=session, status="active", kind="staff", limit=1000)}
        assert kinds == {"staff"}
        assert "emma.chen" in {u.username for u in org.list_users(session=session, limit=1000)}


def test_a_missing_task_page_says_so_in_the_readers_language(login):
    page = login("emma.chen", lang="zh_CN").get("/tasks/987654").get_data(as_text=True)
    assert "no task" not in page and "emma.chen" not in page.split("<main", 1)[-1].split("</main>")[0]
    assert "此页面不存在" in page or "不存在" in page
