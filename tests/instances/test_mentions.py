"""@mentions in approval comments and notes: one "mentioned" notice per active user named, no one else."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from instances import directory, mentions, verbs, visibility
from instances.actors import Actor
from instances.directory import EmptyDirectory
from instances.errors import Conflict
from instances.models import InstanceCopy, OutboxMessage, ProcessInstance

from .test_service import ALICE, BOB, complete, deploy, open_items, start

ACTIVE = {"alice", "bob", "carol", "dave", "erin", "li.na", "x_y-z.1"}


class People(EmptyDirectory):
    """A directory that knows a fixed set of active users (org's answers from its user table)."""

    def active_users(self, usernames: list[str]) -> set[str]:
        return {name for name in usernames if name in ACTIVE}


@pytest.fixture
def people():
    """Register the directory of active users for the test."""
    directory.set_directory(People())
    yield
    directory.set_directory(None)


def mentioned(db) -> list[dict]:
    with db.query() as session:
        return [m.payload for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notification")
                                                   .order_by(OutboxMessage.id))
                if m.payload.get("kind") == "mentioned"]


def title_of(db, iid) -> str:
    with db.query() as session:
        return session.get(ProcessInstance, iid).title


@pytest.mark.parametrize("text, names", [
    ("@dave please check", ["dave"]),
    ("请@dave看一下，谢谢", ["dave"]),  # Chinese runs straight on after the name
    ("请＠dave看一下", ["dave"]),  # the full-width ＠ of Chinese input methods
    ("write to dave@example.com or a@b.com", []),  # addresses mention nobody
    ("ask @li.na.", ["li.na"]),  # the full stop ends the sentence, not the name
    ("@x_y-z.1, then @dave and @dave again", ["x_y-z.1", "dave"]),
    ("@nobody and @frank", []),  # unknown or inactive
    ("@ alone, @@, ＠", []),
    ("", []), (None, []),
])
def test_which_names_a_text_mentions(people, text, names):
    assert mentions.mentioned_users(text) == names


def test_without_a_directory_that_knows_users_nobody_is_mentioned():
    directory.set_directory(None)
    assert mentions.find_mentions("@dave") == [["dave"]] and mentions.mentioned_users("@dave") == []


def test_mentions_are_capped_per_text(people):
    text = " ".join(f"@user{i}" for i in range(50))
    assert len(mentions.find_mentions(text)) == mentions.MAX_MENTIONS


def test_a_mention_in_an_approval_comment_notifies_the_named_user_once(db, people):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    comment = "OK. @erin please book the cover; cc a@b.com, @nobody and @bob (me)."
    complete(db, task.id, BOB, decision="approve", comment=comment)
    assert mentioned(db) == [{"to": "erin", "kind": "mentioned", "subject": f"{title_of(db, iid)} · {task.name}",
                              "instance_id": iid, "actor": "bob", "comment": comment}]
    with db.query() as session:  # erin may now read the request, as if it were copied to her
        instance = session.get(ProcessInstance, iid)
        assert visibility.may_view(session=session, actor=Actor("erin"), instance=instance)
        assert not visibility.may_view(session=session, actor=Actor("dave"), instance=instance)
        [copy] = session.scalars(select(InstanceCopy).where(InstanceCopy.instance_id == iid)).all()
        assert (copy.username, copy.sent_by, copy.note) == ("erin", "bob", comment)


def test_a_mention_in_an_urge_comment_notifies_the_named_user_once(db, people):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    comment = "@dave can you nudge @bob? Mail me at alice@corp.example, or ask @nobody. — @alice"
    with db.command() as session:
        verbs.urge_task(session=session, work_item_id=task.id, actor=ALICE, comment=comment)
    # bob holds the task: the urge itself tells him, with the same words; alice wrote it; nobody is nobody.
    assert mentioned(db) == [{"to": "dave", "kind": "mentioned", "subject": f"{title_of(db, iid)} · {task.name}",
                              "instance_id": iid, "actor": "alice", "comment": comment}]


def test_transfer_delegate_hand_back_and_copy_notes_mention_people(db, people):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    with db.command() as session:
        verbs.transfer_task(session=session, work_item_id=task.id, actor=BOB, to_user="dave",
                            comment="@dave over to you; @carol knows the background")
    assert [(m["to"], m["actor"]) for m in mentioned(db)] == [("carol", "bob")]
    with db.command() as session:
        verbs.delegate_task(session=session, work_item_id=task.id, actor=Actor("dave"), to_user="erin",
                            comment="＠erin 你怎么看？问问＠li.na")
    with db.command() as session:
        verbs.resolve_delegation(session=session, work_item_id=task.id, actor=Actor("erin"),
                                 comment="fine by me, @dave; @carol agrees")
    with db.command() as session:
        verbs.copy_instance(session=session, instance_id=iid, actor=ALICE, to_users=["carol"],
                            note="FYI @carol, and @li.na too")
    assert [(m["to"], m["actor"]) for m in mentioned(db)] == [
        ("carol", "bob"), ("li.na", "dave"), ("carol", "erin"), ("li.na", "alice")]
    # A note on the whole request names the request; a comment on a step names the step as well.
    assert mentioned(db)[-1]["subject"] == title_of(db, iid) and "work_item_id" not in mentioned(db)[-1]


def test_a_refused_verb_queues_no_mention(db, people):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    with db.command() as session:
        verbs.urge_task(session=session, work_item_id=task.id, actor=ALICE, comment="@dave")
    with pytest.raises(Conflict), db.command() as session:  # urged again too soon: the command rolls back
        verbs.urge_task(session=session, work_item_id=task.id, actor=ALICE, comment="@erin")
    assert [m["to"] for m in mentioned(db)] == ["dave"]
