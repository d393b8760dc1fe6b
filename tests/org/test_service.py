"""The organisation: users and structures, sign-in with throttling, API tokens, the demo data."""
from __future__ import annotations

import pytest

from org import demo, service
from org.errors import Duplicate, Invalid, NotFound, SignInRefused, Throttled
from org.models import Department, User


def test_demo_organisation_loads_twice_without_change(db):
    with db.command() as session:
        assert demo.load_demo(session=session) == 20
    with db.command() as session:
        assert demo.load_demo(session=session) == 20
    with db.query() as session:
        sales = session.query(Department).filter_by(code="sales").one()
        assert sales.leader.username == "li.na" and sales.parent.code == "office"
        wang = service.get_user_or_raise(session=session, username="wang.fang")
        assert wang.superior.username == "li.na" and wang.department.code == "sales"
        actor = service.actor_for(wang)
        assert {"employee", "role:employee", "sales", "dept:sales", "staff", "position:staff"} <= actor.groups
        assert not actor.is_admin
        assert service.actor_for(service.get_user_or_raise(session=session, username="admin")).is_admin
        assert service.department_leader(session=session, username="wang.fang") == "li.na"


def test_sign_in_checks_password_and_throttles(db):
    with db.command() as session:
        demo.load_demo(session=session)
    with db.command() as session:
        user = service.authenticate(session=session, username="Wang.Fang", password=demo.DEMO_PASSWORD, ip="1.2.3.4")
        assert user.username == "wang.fang" and user.last_login_at is not None
    for _ in range(service.MAX_FAILURES):
        with db.command() as session, pytest.raises(SignInRefused):
            service.authenticate(session=session, username="wang.fang", password="wrong-password")
    with db.command() as session, pytest.raises(Throttled):
        service.authenticate(session=session, username="wang.fang", password=demo.DEMO_PASSWORD)
    with db.command() as session, pytest.raises(SignInRefused):
        service.authenticate(session=session, username="nobody", password="whatever-123")


def test_users_who_left_cannot_sign_in(db):
    with db.command() as session:
        service.save_user(session=session, username="temp", display_name="Temp", password="long-enough-1")
    with db.command() as session:
        user = service.get_user_or_raise(session=session, username="temp")
        service.save_user(session=session, user=user, username="temp", display_name="Temp", status="left")
    with db.command() as session, pytest.raises(SignInRefused):
        service.authenticate(session=session, username="temp", password="long-enough-1")


def test_user_input_is_checked_field_by_field(db):
    with db.command() as session:
        demo.load_demo(session=session)
    cases = [
        (dict(username="a b", display_name="x"), Invalid, "username"),
        (dict(username="new.user", display_name=""), Invalid, "display_name"),
        (dict(username="new.user", display_name="N", email="not-mail"), Invalid, "email"),
        (dict(username="new.user", display_name="N", department="nope"), NotFound, "department"),
        (dict(username="new.user", display_name="N", superior="ghost"), NotFound, "superior"),
        (dict(username="new.user", display_name="N", password="short"), Invalid, "password"),
        (dict(username="LI.NA", display_name="N"), Duplicate, "username"),
    ]
    for kwargs, error, field in cases:
        with db.command() as session, pytest.raises(error) as info:
            service.save_user(session=session, **kwargs)
        assert info.value.details["field"] == field
    with db.query() as session:
        assert session.query(User).filter_by(username="new.user").count() == 0


def test_department_cannot_be_inside_itself(db):
    with db.command() as session:
        demo.load_demo(session=session)
    with db.command() as session, pytest.raises(Invalid):
        service.save_unit(session=session, kind="department", code="office", name="总经办", parent="sales")


def test_api_tokens_are_shown_once_hashed_and_revocable(db):
    with db.command() as session:
        demo.load_demo(session=session)
        user = service.get_user_or_raise(session=session, username="wang.fang")
        token, secret = service.create_token(session=session, user=user, name="laptop")
        token_id = token.id
        assert token.token_hash != secret and secret.startswith("fd_") and token.prefix == secret[:10]
    with db.command() as session:
        assert service.user_for_token(session=session, secret=secret).username == "wang.fang"
        assert service.user_for_token(session=session, secret=secret + "x") is None
        user = service.get_user_or_raise(session=session, username="wang.fang")
        service.revoke_token(session=session, user=user, token_id=token_id)
    with db.command() as session:
        assert service.user_for_token(session=session, secret=secret) is None
        other = service.get_user_or_raise(session=session, username="li.na")
        with pytest.raises(NotFound):
            service.revoke_token(session=session, user=other, token_id=token_id)
