"""Work is never handed to someone who left or to a portal account, whichever door the verb comes through."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from instances import assists, directory, signers, verbs
from instances.errors import InvalidInput
from instances.models import HistoryEvent, WorkItem
from org import service as org
from tests.instances.test_overdue_actions import actor, deploy, item_of, start


def _leave(db, username: str) -> None:
    with db.command() as session:
        org.set_status(session=session, user=org.get_user_or_raise(session=session, username=username),
                       status="left")


def _make_portal(db, username: str) -> None:
    with db.command() as session:
        user = org.get_user_or_raise(session=session, username=username)
        user.kind, user.portal_record_id = "customer", 1


def _snapshot(db, iid: int) -> tuple:
    with db.query() as session:
        items = session.scalars(select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id)).all()
        history = session.scalar(select(func.count()).select_from(HistoryEvent)
                                 .where(HistoryEvent.instance_id == iid))
        return [(i.id, i.assignee, i.owner, i.status, i.kind) for i in items], history


VERBS = {
    "transfer": lambda session, item_id, who, name: verbs.transfer_task(
        session=session, work_item_id=item_id, actor=who, to_user=name),
    "delegate": lambda session, item_id, who, name: verbs.delegate_task(
        session=session, work_item_id=item_id, actor=who, to_user=name),
    "add_sign": lambda session, item_id, who, name: signers.add_signers(
        session=session, work_item_id=item_id, actor=who, users=[name], position="after"),
    "ask_for_help": lambda session, item_id, who, name: assists.ask_for_help(
        session=session, work_item_id=item_id, actor=who, users=[name]),
}


@pytest.mark.parametrize("verb", sorted(VERBS))
@pytest.mark.parametrize("gone", ["left", "portal"])
def test_a_verb_refuses_someone_who_cannot_take_work_and_changes_nothing(org_db, verb, gone):
    iid = start(org_db, deploy(org_db, None), "li.na")
    (_leave if gone == "left" else _make_portal)(org_db, "sun.li")
    before = _snapshot(org_db, iid)
    holder = actor(org_db, "li.na")
    with pytest.raises(InvalidInput) as refused:
        with org_db.command() as session:
            VERBS[verb](session, item_of(org_db, iid).id, holder, "sun.li")
    field = "to_user" if verb in ("transfer", "delegate") else "users"
    assert refused.value.details == {"field": field, "usernames": ["sun.li"]}
    assert _snapshot(org_db, iid) == before


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_a_verb_still_hands_work_to_an_active_colleague(org_db, verb):
    iid = start(org_db, deploy(org_db, None), "li.na")
    with org_db.command() as session:
        VERBS[verb](session, item_of(org_db, iid).id, actor(org_db, "li.na"), "sun.li")
    items, _ = _snapshot(org_db, iid)
    # Signing after the holder waits for the holder's decision; every other verb gives the work at once.
    status = "pending" if verb == "add_sign" else "open"
    assert [(assignee, state) for _, assignee, _, state, _ in items if assignee == "sun.li"] == [("sun.li", status)]


def test_without_an_organisation_names_are_not_judged(db):
    # The service layer alone (no directory installed) knows nobody, so it refuses nobody: the pages and the
    # API check names against the organisation before they get here.
    assert directory.get_directory().unable(["anyone"]) == set()
    directory.refuse_unable(["anyone"], "to_user")
