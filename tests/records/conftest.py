"""Fixtures for the records tests: the core types, the default grants and a small organisation to act in.

Sales (anna, ben; maya leads it) and its sub-department sales_east (eve), plus service (sam). Everyone
is an employee; maya is a manager.
"""
from __future__ import annotations

import pytest

from instances.actors import Actor
from org import grants
from org import service as org
from records import service
from tests.snapshots import prepared

ANNA = Actor("anna", frozenset({"role:employee"}))
BEN = Actor("ben", frozenset({"role:employee"}))
EVE = Actor("eve", frozenset({"role:employee"}))
SAM = Actor("sam", frozenset({"role:employee"}))
MAYA = Actor("maya", frozenset({"role:manager", "role:employee"}))
ADMIN = Actor("admin", is_admin=True)


def load_org(session) -> None:
    """Create the small organisation and the default grants."""
    for code in ("employee", "manager", "finance"):
        org.save_unit(session=session, kind="role", code=code, name=code)
    org.save_unit(session=session, kind="department", code="sales", name="销售部")
    org.save_unit(session=session, kind="department", code="sales_east", name="华东销售", parent="sales")
    org.save_unit(session=session, kind="department", code="service", name="服务部")
    org.save_user(session=session, username="maya", display_name="Maya", department="sales",
                  roles=["manager", "employee"])
    for username, dept in (("anna", "sales"), ("ben", "sales"), ("eve", "sales_east"), ("sam", "service")):
        org.save_user(session=session, username=username, display_name=username.title(), department=dept,
                      superior="maya" if dept.startswith("sales") else None, roles=["employee"])
    grants.install_default_grants(session=session)


@pytest.fixture
def core(db):
    """A database with the organisation, the default grants and the core CRM record types."""
    prepared(db, "records core", _core_data)
    return db


def _core_data(db) -> None:
    with db.command() as session:
        load_org(session)
        service.install_core_types(session=session)


@pytest.fixture
def people(db):
    """A database with the small organisation and the default grants, without record types."""
    with db.command() as session:
        load_org(session)
    return db
