"""The permission model on records: role scopes, grant and deny rules, participation, portals and fields."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forms.schema import FormError
from instances.actors import Actor
from org import grants
from org import service as org
from org.models import RoleGrant, User
from org.permissions import RecordFacts, access_for
from records import access, fields, service
from records.errors import Forbidden, NotFound
from records.models import Record

from .conftest import ADMIN, ANNA, BEN, EVE, MAYA, SAM


def _customers(db, type_key="lead"):
    """One lead (department-scoped by default) or customer owned by each person; return {owner: id}."""
    ids = {}
    with db.command() as session:
        for actor in (ANNA, BEN, EVE, SAM, MAYA):
            data = {"company": f"{actor.username} Ltd", "status": "new"} if type_key == "lead" \
                else {"name": f"{actor.username} Ltd"}
            ids[actor.username] = service.create_record(session=session, type_key=type_key, actor=actor,
                                                        data=data).id
    return ids


def _visible(db, actor, type_key="lead"):
    with db.query() as session:
        _view, page = service.list_records(session=session, type_key=type_key, actor=actor, page_size=200)
    return {r.owner for r in page.items}


def _set_scope(db, role, action, scope, resource="records:*"):
    with db.command() as session:
        for row in session.scalars(select(RoleGrant).where(RoleGrant.role_code == role, RoleGrant.action == action,
                                                           RoleGrant.resource == resource)):
            session.delete(row)
        session.flush()
        grants.add_grant(session=session, role=role, resource=resource, action=action, scope=scope, actor="admin")


def test_default_scopes_department_and_department_tree(core):
    _customers(core)
    assert _visible(core, ANNA) == {"anna", "ben", "maya"}  # her department, not its sub-department
    assert _visible(core, EVE) == {"eve"}
    assert _visible(core, SAM) == {"sam"}
    assert _visible(core, MAYA) == {"anna", "ben", "eve", "maya"}  # manager: department and below
    assert _visible(core, ADMIN) == {"anna", "ben", "eve", "sam", "maya"}


@pytest.mark.parametrize("scope, expected", [
    ("own", {"anna"}), ("department", {"anna", "ben", "maya"}), ("department_tree", {"anna", "ben", "maya", "eve"}),
    ("all", {"anna", "ben", "eve", "sam", "maya"}),
])
def test_each_scope(core, scope, expected):
    _customers(core)
    _set_scope(core, "employee", "view", scope)
    assert _visible(core, ANNA) == expected


def test_subordinates_and_group_scopes(core):
    _customers(core)
    _set_scope(core, "manager", "view", "subordinates")
    assert _visible(core, MAYA) == {"maya", "anna", "ben", "eve"}
    with core.command() as session:
        org.save_unit(session=session, kind="group", code="crm_project", name="CRM project")
        for name in ("anna", "sam"):
            user = org.get_user_or_raise(session=session, username=name)
            org.save_user(session=session, user=user, username=name, display_name=user.display_name,
                          department=user.department.code, groups=["crm_project"], roles=["employee"])
    _set_scope(core, "employee", "view", "group")
    assert _visible(core, ANNA) == {"anna", "sam"}


def test_customers_are_shared_reading_by_default(core):
    _customers(core, "customer")
    assert _visible(core, SAM, "customer") == {"anna", "ben", "eve", "sam", "maya"}


def test_a_deny_rule_wins_over_grants(core):
    _customers(core)
    with core.command() as session:
        grants.add_rule(session=session, effect="deny", resource="records:lead", actions=["view"],
                        who_kind="user", who="maya", which_kind="department_tree", which="sales_east", actor="admin")
    assert _visible(core, MAYA) == {"anna", "ben", "maya"}
    assert _visible(core, ADMIN) == {"anna", "ben", "eve", "sam", "maya"}


@pytest.mark.parametrize("who_kind, who, sees_sam", [
    ("everyone", "", {"anna", "ben", "eve"}), ("role", "employee", {"anna", "ben", "eve"}),
    ("department", "sales", {"anna", "ben"}), ("department_tree", "sales", {"anna", "ben", "eve"}),
    ("user", "eve", {"eve"}),
])
def test_grant_rules_by_who(core, who_kind, who, sees_sam):
    _customers(core)
    with core.command() as session:
        grants.add_rule(session=session, effect="grant", resource="records:lead", actions=["view"],
                        who_kind=who_kind, who=who, which_kind="department", which="service", actor="admin")
    got = {a.username for a in (ANNA, BEN, EVE) if "sam" in _visible(core, a)}
    assert got == sees_sam


def test_position_and_authored_rules(core):
    with core.command() as session:
        org.save_unit(session=session, kind="position", code="auditor", name="Auditor")
        user = org.get_user_or_raise(session=session, username="sam")
        org.save_user(session=session, user=user, username="sam", display_name="Sam", department="service",
                      position="auditor", roles=["employee"])
        grants.add_rule(session=session, effect="grant", resource="records:*", actions=["view"],
                        who_kind="position", who="auditor", which_kind="all", actor="admin")
    _customers(core)
    assert _visible(core, SAM) == {"anna", "ben", "eve", "sam", "maya"}
    with core.command() as session:  # maya records a customer that anna will own: anna sees it, and so does maya
        service.create_record(session=session, type_key="lead", actor=MAYA, owner="sam",
                              data={"company": "Handed over", "status": "new"})
        grants.add_rule(session=session, effect="grant", resource="records:lead", actions=["view"],
                        who_kind="everyone", which_kind="authored", actor="admin")
    with core.query() as session:
        _view, page = service.list_records(session=session, type_key="lead", actor=MAYA, search="handed")
    assert [r.owner for r in page.items] == ["sam"]


def test_taking_part_in_a_process_lets_you_read_its_records(core):
    from definitions import service as definitions
    from instances import service as instances
    from tests.conftest import read_bundle
    from tests.records.test_operations import _start
    with core.command() as session:
        definitions.deploy(session=session, files=read_bundle("records/complaint_record.bpmn"), actor="designer")
        customer = service.create_record(session=session, type_key="customer", actor=ANNA, data={"name": "C"})
    _set_scope(core, "employee", "view", "own")
    instance = _start(core, subject="坏了", customer_id=customer.id, severity="minor", resolution="")
    with core.query() as session:
        complaint_id = instances.get_instance_or_raise(session=session, instance_id=instance.id).data["complaint_id"]
        with pytest.raises(NotFound):
            service.get_record_or_raise(session=session, record_id=complaint_id, actor=SAM)
        [task] = instances.list_open_work_items(session=session, instance_id=instance.id)
    with core.command() as session:  # the task goes to sam, who completes it
        from instances import verbs
        verbs.transfer_task(session=session, work_item_id=task.id, actor=ANNA, to_user="sam", comment="请处理")
    with core.query() as session:
        assert service.get_record_or_raise(session=session, record_id=complaint_id, actor=SAM)[0].id == complaint_id


def test_portal_users_see_only_their_company(core):
    ids = _customers(core, "customer")
    with core.command() as session:
        contact = service.create_record(session=session, type_key="contact", actor=ANNA,
                                        data={"name": "王总", "customer": ids["anna"]})
        service.create_record(session=session, type_key="contact", actor=ANNA,
                              data={"name": "别家", "customer": ids["ben"]})
        user = org.save_user(session=session, username="portal.wang", display_name="王总")
        user.kind, user.portal_record_id, user.portal_modules = "customer", ids["anna"], ["customer", "contact"]
    portal = Actor("portal.wang")
    assert _visible(core, portal, "customer") == {"anna"}
    with core.query() as session:
        _view, page = service.list_records(session=session, type_key="contact", actor=portal)
        assert [r.id for r in page.items] == [contact.id]
        _view, orders = service.list_records(session=session, type_key="order", actor=portal)  # module not enabled
        assert orders.total == 0
    with pytest.raises(Forbidden), core.command() as session:
        service.update_record(session=session, record_id=ids["anna"], data={"phone": "1"}, actor=portal,
                              lock_version=None)


def test_field_level_permissions_hide_and_lock_fields(core):
    ids = _customers(core, "customer")
    with core.command() as session:
        view = service.get_type_or_raise(session=session, key="customer")
        meta = {**view.meta, "field_access": {"credit_limit": {"view": ["finance", "manager"], "edit": ["finance"]}}}
        service.change_type(session=session, key="customer", schema=view.schema, meta=meta, actor="admin")
        service.update_record(session=session, record_id=ids["anna"], data={"credit_limit": "1000.00"},
                              actor=ADMIN, lock_version=None)
    with core.query() as session:
        view = service.get_type_or_raise(session=session, key="customer")
        record, _ = service.get_record_or_raise(session=session, record_id=ids["anna"], actor=ANNA)
        assert "credit_limit" not in fields.visible_data(view, ANNA, record.data)
        assert fields.visible_data(view, MAYA, record.data)["credit_limit"] == "1000.00"
        from records.errors import Invalid
        with pytest.raises(Invalid):  # filtering on a hidden field would leak it
            service.list_records(session=session, type_key="customer", actor=ANNA,
                                 filters=[service.Filter("credit_limit", "gte", "500")])
    with pytest.raises(FormError) as caught, core.command() as session:
        service.update_record(session=session, record_id=ids["maya"], data={"credit_limit": "9.00"}, actor=MAYA,
                              lock_version=None)
    assert "credit_limit" in caught.value.errors


def test_the_python_and_sql_forms_agree_and_explain(core):
    _customers(core)
    with core.command() as session:
        grants.add_rule(session=session, effect="deny", resource="records:*", actions=["view"],
                        who_kind="role", who="employee", which_kind="department", which="service", actor="admin")
        grants.add_rule(session=session, effect="grant", resource="records:lead", actions=["view"],
                        who_kind="everyone", which_kind="department_tree", which="sales", actor="admin")
    with core.query() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        records_ = list(session.scalars(select(Record)))
        for actor in (ANNA, BEN, EVE, SAM, MAYA):
            resolved = access_for(session=session, actor=actor, resource="records:lead", action="view")
            for record in records_:
                facts = RecordFacts(record.id, record.owner, record.department_id, record.created_by)
                assert resolved.allows(facts) == access.may(session, actor, record, "lead", "view"), \
                    (actor.username, record.owner)
        sam_record = next(r for r in records_ if r.owner == "sam")
        resolved = access_for(session=session, actor=EVE, resource="records:lead", action="view")
        facts = RecordFacts(sam_record.id, "sam", users["sam"].department_id, "sam")
        reasons = resolved.explain(facts)
    assert not resolved.allows(facts) and [r.effect for r in reasons] == ["deny"]
