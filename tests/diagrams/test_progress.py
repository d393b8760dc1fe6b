"""progress_from_history: the per-instance view built from recorded history and open work items."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lxml import etree

from diagrams import progress_from_history, render_definition

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def completed(element_id, minutes, kind, flow=None, state="completed", actor=None):
    details = {"type": kind, "state": state}
    if flow:
        details["flow"] = flow
    return {"type": "element_completed", "element_id": element_id, "actor": actor, "at": at(minutes),
            "details": details}


def rework_history() -> list[dict]:
    """Two rounds of submit/review, a cancelled reminder task, then review open again."""
    return [
        {"type": "instance_started", "element_id": None, "actor": "alice", "at": at(0), "details": {}},
        completed("start", 0, "StartEvent", actor="alice"),
        completed("merge", 0, "ExclusiveGateway", "f1", actor="alice"),
        {"type": "task_created", "element_id": "submit", "actor": None, "at": at(0),
         "details": {"assignee": "alice", "candidate_users": [], "candidate_groups": []}},
        {"type": "data_changed", "element_id": None, "actor": "alice", "at": at(0), "details": {"x": {"to": 1}}},
        {"type": "task_completed", "element_id": "submit", "actor": "alice", "at": at(10), "details": {}},
        completed("submit", 10, "UserTask", "f2", actor="alice"),
        {"type": "task_created", "element_id": "review", "actor": None, "at": at(10).isoformat(),
         "details": {"assignee": None, "candidate_users": ["bob"], "candidate_groups": ["reviewers"]}},
        {"type": "task_created", "element_id": "remind", "actor": None, "at": at(10),
         "details": {"assignee": "carol"}},
        {"type": "task_completed", "element_id": "review", "actor": "bob", "at": at(70).isoformat(),
         "details": {"decision": "reject", "comment": "numbers missing"}},
        completed("review", 70, "UserTask", "f3", actor="bob"),
        {"type": "task_cancelled", "element_id": "remind", "actor": None, "at": at(70), "details": {}},
        completed("remind", 70, "UserTask", state="cancelled"),
        completed("decide", 70, "ExclusiveGateway", "f4", actor="bob"),
        completed("merge", 70, "ExclusiveGateway", "f_back", actor="bob"),
        {"type": "task_created", "element_id": "submit", "actor": None, "at": at(70),
         "details": {"assignee": "alice"}},
        {"type": "timers_fired", "element_id": None, "actor": "system", "at": at(100), "details": {}},
        {"type": "task_completed", "element_id": "submit", "actor": "alice", "at": at(130), "details": {}},
        completed("submit", 130, "UserTask", "f2", actor="alice"),
        {"type": "task_created", "element_id": "review", "actor": None, "at": at(130),
         "details": {"candidate_users": ["bob", "dave"]}},
    ]


def test_loop_keeps_the_last_round_and_counts_rounds():
    progress = progress_from_history(rework_history(), [
        {"element_id": "review", "assignee": None, "candidate_users": ["bob", "dave"], "candidate_groups": [],
         "created_at": at(130)}])
    elements = progress["elements"]
    submit = elements["submit"]
    assert submit["state"] == "completed" and submit["count"] == 2 and submit["actor"] == "alice"
    assert submit["started"] == at(70).isoformat() and submit["ended"] == at(130).isoformat()
    assert submit["duration_s"] == 3600.0
    assert elements["merge"]["count"] == 2 and elements["merge"]["started"] is None
    review = elements["review"]
    assert review["state"] == "active" and review["assignees"] == ["bob", "dave"]
    assert review["started"] == at(130).isoformat() and review["ended"] is None and review["count"] == 1
    assert review["actor"] is None  # the open round has no finisher yet
    remind = elements["remind"]
    assert remind["state"] == "cancelled" and remind["count"] == 0 and remind["duration_s"] == 3600.0
    assert elements["start"]["state"] == "completed" and elements["start"]["actor"] is None
    assert progress["flows"] == ["f1", "f2", "f3", "f4", "f_back"]


def test_waiting_timers_incidents_and_multi_instance_items():
    history = [
        completed("start", 0, "StartEvent"),
        {"type": "task_created", "element_id": "sign", "actor": None, "at": at(1), "details": {"assignee": "ann"}},
        {"type": "task_created", "element_id": "sign", "actor": None, "at": at(1), "details": {"assignee": "ben"}},
        {"type": "incident", "element_id": "charge", "actor": "system", "at": at(5),
         "details": {"reason": "payment service down", "element_id": "charge"}},
    ]
    open_items = [{"element_id": "sign", "assignee": "ann", "candidate_users": [], "candidate_groups": [],
                   "created_at": at(1).isoformat()},
                  {"element_id": "sign", "assignee": "ben", "candidate_users": [], "candidate_groups": [],
                   "created_at": at(2).isoformat()}]
    progress = progress_from_history(history, open_items, {"timers": ["wait_a_day"], "error": None})
    elements = progress["elements"]
    assert elements["sign"]["state"] == "active" and elements["sign"]["assignees"] == ["ann", "ben"]
    assert elements["sign"]["started"] == at(1).isoformat()
    assert elements["wait_a_day"]["state"] == "waiting"
    assert elements["charge"]["state"] == "error" and elements["charge"]["reason"] == "payment service down"
    assert progress["flows"] == []
    error = progress_from_history(history, [], {"timers": [], "error": "sign"})
    assert error["elements"]["sign"]["state"] == "error"


def test_empty_history_and_naive_times():
    assert progress_from_history([], []) == {"elements": {}, "flows": []}
    naive = [{"type": "task_created", "element_id": "t", "at": "2024-05-06T09:00:00", "details": {}},
             {"type": "element_completed", "element_id": "t", "at": "2024-05-06T09:00:30+00:00",
              "details": {"type": "UserTask", "state": "completed"}}]
    assert progress_from_history(naive, [])["elements"]["t"]["duration_s"] == 30.0


def test_history_progress_renders_on_a_model():
    bpmn = b"""<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:t">
  <process id="p" isExecutable="true">
    <startEvent id="start"/><userTask id="submit" name="Submit"/><userTask id="review" name="Review"/>
    <endEvent id="end"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="submit"/>
    <sequenceFlow id="f2" sourceRef="submit" targetRef="review"/>
    <sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
  </process>
</definitions>"""
    progress = progress_from_history([
        completed("start", 0, "StartEvent"),
        {"type": "task_created", "element_id": "submit", "at": at(0), "details": {"assignee": "alice"}},
        {"type": "task_completed", "element_id": "submit", "actor": "alice", "at": at(5), "details": {}},
        completed("submit", 5, "UserTask", "f1"),
    ], [{"element_id": "review", "assignee": "bob", "created_at": at(5)}])
    try:
        svg = render_definition({"p.bpmn": bpmn}, progress=progress)
    except Exception as exc:  # only a missing Graphviz may stop this model without DI
        assert "Graphviz" in str(exc)
        return
    root = etree.fromstring(svg.encode())
    states = {g.get("data-element-id"): g.get("data-state") for g in root.iter("{*}g") if g.get("data-state")}
    assert states == {"start": "completed", "submit": "completed", "review": "active", "end": "none"}
