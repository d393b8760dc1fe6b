"""Run every BPMN construct Flowdesk relies on through ProcessRuntime, saving and restoring between steps.

Every command goes through `Instance`, which restores the workflow from its saved JSON text, runs the
command and saves it again: that is how instances run in production (one request, one load, one dump).
"""
from __future__ import annotations

import json
import random
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

from engine import expressions
from engine.errors import EngineError
from engine.model import compile_model
from engine.runtime import MAX_ENGINE_STEPS, ProcessRuntime
from engine.services import default_registry

DATA = Path(__file__).resolve().parents[1] / "data" / "bpmn"
MODELS = DATA / "engine"
TIMER_WAIT = 0.25  # the models' timers are PT0.2S


def compile_files(*names: str, folder: Path = MODELS):
    return compile_model({name: (folder / name).read_bytes() for name in names}, operations=default_registry())


def runtime_for(*names: str, folder: Path = MODELS) -> ProcessRuntime:
    model = compile_files(*names, folder=folder)
    assert model.blocking_issues == []
    return ProcessRuntime(model)


class Instance:
    """One process instance whose state lives only as saved text between commands."""

    def __init__(self, runtime: ProcessRuntime, data: dict | None = None, process_id: str | None = None):
        self.runtime = runtime
        workflow, self.report = runtime.start(data, process_id=process_id)
        self.state = runtime.dump(workflow)

    @property
    def workflow(self):
        return self.runtime.load(self.state)

    def _command(self, action):
        workflow = self.runtime.load(self.state)
        try:
            result = action(workflow)
        finally:
            self.state = self.runtime.dump(workflow)
        if result is not None:
            self.report = result
        return result

    def tasks(self):
        return self.runtime.human_tasks(self.workflow)

    def ready(self) -> list[str]:
        return sorted(task.element_id for task in self.tasks())

    def task(self, element_id: str, item=None):
        found = [t for t in self.tasks() if t.element_id == element_id and (item is None or t.item == item)]
        assert len(found) == 1, f"expected one ready {element_id!r} (item {item!r}), found {len(found)}"
        return found[0]

    def complete(self, element_id: str, data: dict | None = None, item=None):
        task_id = self.task(element_id, item).id
        return self._command(lambda wf: self.runtime.complete(wf, task_id, data))

    def fire_timers(self):
        return self._command(self.runtime.fire_timers)

    def deliver(self, name: str, payload=None):
        return self._command(lambda wf: self.runtime.deliver_message(wf, name, payload))

    def completed(self) -> bool:
        return self.runtime.is_completed(self.workflow)

    def data(self) -> dict:
        return self.workflow.data

    def states(self, spec_name: str) -> list[str]:
        return sorted(TaskState.get_name(t.state) for t in self.workflow.get_tasks() if t.task_spec.name == spec_name)

    def reached(self) -> set[str]:
        return {entry["element_id"] for entry in self.report.completed}


def fire_before_due(inst: Instance) -> None:
    """Fire timers before they are due: nothing may change (judged only when the clock really was early)."""
    wake = inst.runtime.next_wake(inst.workflow)
    assert wake is not None
    ready = inst.ready()
    inst.fire_timers()
    if datetime.now(timezone.utc) < wake:
        assert inst.ready() == ready
        assert inst.runtime.next_wake(inst.workflow) == wake


# ---------------------------------------------------------------- 1. start data, user/manual task, XOR
@pytest.mark.parametrize(("amount", "urgent", "next_task", "flow"), [
    (5000, False, "director", "f_big"),      # ${amount > 1000}
    (500, True, "file_paper", "f_urgent"),   # ${amount gt 100 && urgent}
    (500, False, None, "f_small"),           # default flow
    (50, True, None, "f_small"),             # gt 100 fails, so && fails
])
def test_exclusive_gateway_routes_on_submitted_data(amount, urgent, next_task, flow):
    runtime = runtime_for("gateways.bpmn")
    inst = Instance(runtime, {"requester": "alice"})
    submit = inst.task("submit")
    assert submit.data == {"requester": "alice"}
    assert submit.name == "Submit expense"
    assert expressions.evaluate(submit.info["assignee"], submit.data) == "alice"

    inst.complete("submit", {"amount": amount, "urgent": urgent})
    if next_task is None:
        assert inst.ready() == []
        assert inst.completed()
        assert flow in inst.report.flows
        assert "end_small" in inst.reached()
    else:
        assert inst.ready() == [next_task]
        assert not inst.completed()
        assert inst.task(next_task).data == {"requester": "alice", "amount": amount, "urgent": urgent}
        inst.complete(next_task, {"done_by": "bob"})
        assert flow in inst.report.flows
        assert inst.completed()
        assert {"end_director", "end_paper"} & inst.reached() == {"end_director" if amount > 1000 else "end_paper"}
    assert inst.data() == {"requester": "alice", "amount": amount, "urgent": urgent,
                           **({"done_by": "bob"} if next_task else {})}


def test_manual_task_is_a_human_task():
    inst = Instance(runtime_for("gateways.bpmn"), {"requester": "alice"})
    inst.complete("submit", {"amount": 700, "urgent": True})
    manual = inst.task("file_paper")
    assert manual.info["type"] == "manualTask"
    assert manual.name == "File the paper receipt"


def test_completing_a_task_twice_is_refused():
    inst = Instance(runtime_for("gateways.bpmn"), {"requester": "alice"})
    stale_id = inst.task("submit").id
    inst.complete("submit", {"amount": 5000, "urgent": False})
    with pytest.raises(EngineError, match="not ready"):
        inst._command(lambda wf: inst.runtime.complete(wf, stale_id, {}))
    assert inst.ready() == ["director"]


# ---------------------------------------------------------------- 2. parallel and inclusive gateways
def test_parallel_split_and_join():
    inst = Instance(runtime_for("parallel.bpmn"), {"contract": "C-1"})
    assert inst.ready() == ["finance_review", "legal_review"]
    inst.complete("legal_review", {"legal_ok": True})
    assert inst.ready() == ["finance_review"]  # the join waits for the other branch
    inst.complete("finance_review", {"budget": 100})
    assert inst.ready() == ["archive"]
    assert inst.task("archive").data == {"contract": "C-1", "legal_ok": True, "budget": 100}
    inst.complete("archive")
    assert inst.completed()
    assert inst.data() == {"contract": "C-1", "legal_ok": True, "budget": 100}


def test_inclusive_gateway_takes_two_of_three_branches_flowable_dialect():
    runtime = runtime_for("inclusive.bpmn20.xml")
    inst = Instance(runtime, {"needs_it": True, "needs_desk": False, "level": 6, "remote": False})
    assert inst.ready() == ["car_setup", "it_setup"]
    assert inst.task("car_setup").info["assignee"] == "fleet"
    assert inst.task("it_setup").info["candidate_groups"] == ["it"]
    inst.complete("car_setup", {"car": "ordered"})
    assert inst.ready() == ["it_setup"]
    assert not inst.completed()  # the join waits for the taken branch only, not for desk_setup
    inst.complete("it_setup", {"laptop": "LT-9"})
    assert inst.completed()
    assert inst.data()["car"] == "ordered" and inst.data()["laptop"] == "LT-9"
    assert "desk_setup" not in {e["element_id"] for e in inst.report.completed}


# ---------------------------------------------------------------- 3. event-based gateway
def test_event_based_gateway_message_wins():
    runtime = runtime_for("event_gateway.bpmn")
    inst = Instance(runtime, {"order": 7})
    assert inst.ready() == []
    assert runtime.waiting_messages(inst.workflow) == ["payment_received"]
    wake = runtime.next_wake(inst.workflow)
    assert wake is not None and wake.tzinfo is not None
    inst.deliver("payment_received", {"paid": 10})
    assert inst.ready() == ["ship"]
    assert inst.task("ship").data == {"order": 7, "paid": 10}
    assert runtime.waiting_messages(inst.workflow) == []
    assert runtime.next_wake(inst.workflow) is None  # the timer branch is gone
    time.sleep(TIMER_WAIT)
    inst.fire_timers()
    assert inst.ready() == ["ship"]
    inst.complete("ship")
    assert inst.completed()
    assert "end_shipped" in inst.reached()


def test_event_based_gateway_timer_wins():
    runtime = runtime_for("event_gateway.bpmn")
    inst = Instance(runtime, {"order": 8})
    fire_before_due(inst)
    time.sleep(TIMER_WAIT)
    inst.fire_timers()
    assert inst.ready() == ["remind"]
    with pytest.raises(EngineError, match="not waiting for message 'payment_received'"):
        inst.deliver("payment_received", {"paid": 10})
    inst.complete("remind")
    assert inst.completed()
    assert "end_reminded" in inst.reached()


# ---------------------------------------------------------------- 4. timers
def test_timer_start_event_waits_until_due():
    """A timer start event is supported in the sense that the started instance waits at it.

    SpiffWorkflow has no scheduler: creating instances on a schedule is the application's job. The
    instance itself stays at the start event until its timer is due, then runs on.
    """
    runtime = runtime_for("timer_start.bpmn")
    before = datetime.now(timezone.utc)
    inst = Instance(runtime, {"period": "2026-11"})
    wake = runtime.next_wake(inst.workflow)
    assert wake is not None and wake.utcoffset() == timedelta(0)
    assert before < wake <= before + timedelta(seconds=5)
    assert inst.ready() == [] and not inst.completed()
    time.sleep(TIMER_WAIT)
    inst.fire_timers()
    assert inst.ready() == ["report"]
    assert inst.task("report").data == {"period": "2026-11"}


def test_intermediate_timer_bare_camunda_literal():
    runtime = runtime_for("timer_catch.bpmn")
    before = datetime.now(timezone.utc)
    inst = Instance(runtime, {"order": 7})
    after = datetime.now(timezone.utc)
    assert inst.ready() == []
    wake = runtime.next_wake(inst.workflow)
    assert isinstance(wake, datetime) and wake.tzinfo is not None and wake.utcoffset() == timedelta(0)
    assert before + timedelta(seconds=0.2) <= wake <= after + timedelta(seconds=0.2)
    fire_before_due(inst)
    time.sleep(TIMER_WAIT)
    inst.fire_timers()
    assert inst.ready() == ["confirm"]
    assert runtime.next_wake(inst.workflow) is None
    assert inst.task("confirm").data == {"order": 7}
    inst.complete("confirm")
    assert inst.completed()


def test_interrupting_timer_boundary_takes_escalation_path():
    runtime = runtime_for("boundary_timers.bpmn")
    inst = Instance(runtime, {"case": 1}, process_id="interrupting")
    assert inst.ready() == ["review"]
    assert runtime.next_wake(inst.workflow) is not None
    time.sleep(TIMER_WAIT)
    inst.fire_timers()
    assert inst.ready() == ["escalate"]
    assert inst.states("review") == ["CANCELLED"]
    inst.complete("escalate", {"escalated_to": "boss"})
    assert inst.completed()
    assert "end_escalated" in inst.reached()
    assert inst.data() == {"case": 1, "escalated_to": "boss"}


def test_interrupting_timer_boundary_not_taken_when_task_done_in_time():
    runtime = runtime_for("boundary_timers.bpmn")
    inst = Instance(runtime, {"case": 2}, process_id="interrupting")
    inst.complete("review", {"ok": True})
    assert inst.completed()
    assert runtime.next_wake(inst.workflow) is None
    assert "end_reviewed" in inst.reached()


def test_non_interrupting_timer_boundary_keeps_the_task():
    runtime = runtime_for("boundary_timers.bpmn")
    inst = Instance(runtime, {"case": 3}, process_id="reminding")
    assert inst.ready() == ["review_nb"]
    time.sleep(TIMER_WAIT)
    inst.fire_timers()
    assert inst.ready() == ["nudge", "review_nb"]
    inst.complete("nudge", {"nudged": True})
    assert inst.ready() == ["review_nb"]
    assert not inst.completed()
    inst.complete("review_nb", {"ok": True})
    assert inst.completed()


# ---------------------------------------------------------------- 5. messages
def test_message_catch_continues_with_payload():
    runtime = runtime_for("message_catch.bpmn")
    inst = Instance(runtime, {"contract": "C-7"})
    assert inst.ready() == []
    assert runtime.waiting_messages(inst.workflow) == ["contract_signed"]
    assert runtime.next_wake(inst.workflow) is None
    inst.deliver("contract_signed", {"signed_by": "bob"})
    assert inst.ready() == ["countersign"]
    assert inst.task("countersign").data == {"contract": "C-7", "signed_by": "bob"}
    assert runtime.waiting_messages(inst.workflow) == []
    with pytest.raises(EngineError, match="not waiting for message 'contract_signed'"):
        inst.deliver("contract_signed", {"signed_by": "eve"})
    inst.complete("countersign")
    assert inst.completed()
    assert inst.data() == {"contract": "C-7", "signed_by": "bob"}


def test_message_the_instance_does_not_wait_for_is_refused():
    runtime = runtime_for("message_catch.bpmn")
    inst = Instance(runtime, {"contract": "C-8"})
    with pytest.raises(EngineError, match="not waiting for message 'invoice_paid'"):
        inst.deliver("invoice_paid", {"amount": 1})
    assert runtime.waiting_messages(inst.workflow) == ["contract_signed"]


def test_spiff_dialect_service_operator_and_message_variable():
    runtime = runtime_for("spiff_service.bpmn")
    inst = Instance(runtime, {"employees": 250, "company": "ACME"})
    assert "tag_lead" in inst.reached()
    assert runtime.waiting_messages(inst.workflow) == ["lead_qualified"]
    inst.deliver("lead_qualified", {"budget": "yes"})
    follow_up = inst.task("follow_up")
    assert follow_up.data == {"employees": 250, "company": "ACME", "stage": "new", "score": 25,
                              "qualification": {"budget": "yes"}}


# ---------------------------------------------------------------- 6. signal, error, escalation
def test_signal_thrown_in_one_branch_releases_the_other():
    inst = Instance(runtime_for("throw_catch_events.bpmn"), {"sku": "A-1"}, process_id="signal_flow")
    assert inst.ready() == ["announce"]
    inst.complete("announce", {"qty": 3})
    assert inst.ready() == ["pick"]
    assert {"tell_stock", "stock_arrived"} <= inst.reached()
    inst.complete("pick")
    assert inst.completed()
    assert inst.data() == {"sku": "A-1", "qty": 3}


@pytest.mark.parametrize(("score", "expected", "path"), [
    (10, "handle_refusal", {"cc_refused", "credit_refused"}),
    (90, "grant_credit", {"cc_end", "check_credit"}),
])
def test_error_end_event_caught_by_error_boundary(score, expected, path):
    inst = Instance(runtime_for("throw_catch_events.bpmn"), {"score": score}, process_id="error_flow")
    assert inst.ready() == [expected]
    assert path <= inst.reached()
    assert inst.task(expected).data == {"score": score}
    if score < 50:
        assert inst.states("grant_credit") == ["CANCELLED"]  # the normal flow after the sub-process is dropped
    inst.complete(expected)
    assert inst.completed()


@pytest.mark.parametrize(("amount", "expected"), [(900, "cfo_review"), (10, "book_spend")])
def test_escalation_end_event_caught_by_escalation_boundary(amount, expected):
    inst = Instance(runtime_for("throw_catch_events.bpmn"), {"amount": amount, "limit": 500},
                    process_id="escalation_flow")
    assert inst.ready() == [expected]
    if expected == "cfo_review":
        assert {"sp_escalate", "over_budget"} <= inst.reached()
    inst.complete(expected)
    assert inst.completed()


# ---------------------------------------------------------------- 7. sub-processes and call activities
def test_embedded_subprocess():
    inst = Instance(runtime_for("subprocess.bpmn"), {"title": "Notice"})
    assert inst.ready() == ["draft"]
    inst.complete("draft", {"text": "hello"})
    assert inst.ready() == ["proofread"]
    assert inst.task("proofread").data == {"title": "Notice", "text": "hello"}
    inst.complete("proofread", {"ok": True})
    assert inst.ready() == ["publish"]
    assert inst.task("publish").data == {"title": "Notice", "text": "hello", "ok": True}
    inst.complete("publish")
    assert inst.completed()
    assert inst.data() == {"title": "Notice", "text": "hello", "ok": True}


def test_call_activity_across_two_files():
    runtime = runtime_for("call_parent.bpmn", "call_child.bpmn")
    inst = Instance(runtime, {"vendor": "ACME"})  # the primary process: the one nobody calls
    rate = inst.task("rate_vendor")
    assert rate.data == {"vendor": "ACME"}
    assert rate.info["file"] == "call_child.bpmn" and rate.info["candidate_groups"] == ["purchasing"]
    inst.complete("rate_vendor", {"rating": 4})
    assert inst.ready() == ["sign_contract"]
    assert inst.task("sign_contract").data == {"vendor": "ACME", "rating": 4}
    inst.complete("sign_contract")
    assert inst.completed()
    assert inst.data() == {"vendor": "ACME", "rating": 4}


def test_called_process_is_not_the_primary_one():
    model = compile_files("call_parent.bpmn", "call_child.bpmn")
    assert model.primary_process_id == "purchase"


# ---------------------------------------------------------------- 8. multi-instance and countersign
APPROVERS = ["bob", "carol", "dave"]


def _mi_children(inst: Instance, element_id: str) -> dict[str, str]:
    return {t.data["approver"]: TaskState.get_name(t.state) for t in inst.workflow.get_tasks()
            if t.task_spec.name == f"{element_id} [child]"}


def test_parallel_multi_instance_assigns_each_approver():
    inst = Instance(runtime_for("countersign.bpmn"), {"approvers": APPROVERS}, process_id="cs_all")
    tasks = inst.tasks()
    assert sorted(t.item for t in tasks) == APPROVERS
    for task in tasks:
        assert task.element_id == "sign_all" and task.multi_instance
        assert task.info["assignee"] == "${approver}"
        assert expressions.evaluate(task.info["assignee"], task.data) == task.item
        assert task.item_key == APPROVERS.index(task.item)


# (process, approvers, votes cast in order, how many votes until it ends, final child states)
COUNTERSIGN_RULES = [
    ("cs_all", APPROVERS, [("bob", "approve"), ("carol", "reject"), ("dave", "approve")], 3,
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED"}),
    ("cs_any", APPROVERS, [("bob", "reject"), ("carol", "approve")], 2,
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "CANCELLED"}),
    ("cs_veto", APPROVERS, [("bob", "approve"), ("carol", "reject")], 2,
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "CANCELLED"}),
    ("cs_majority", APPROVERS, [("dave", "approve"), ("bob", "approve")], 2,
     {"bob": "COMPLETED", "carol": "CANCELLED", "dave": "COMPLETED"}),
    ("cs_majority", APPROVERS, [("bob", "approve"), ("carol", "reject"), ("dave", "approve")], 3,
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED"}),
    ("cs_half", APPROVERS + ["erin"], [("bob", "reject"), ("carol", "approve")], 2,
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "CANCELLED", "erin": "CANCELLED"}),
    ("cs_two_rejections", APPROVERS, [("bob", "reject"), ("carol", "reject")], 2,
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "CANCELLED"}),
    ("cs_two_rejections", APPROVERS, [("bob", "reject"), ("carol", "approve"), ("dave", "approve")], 3,
     {"bob": "COMPLETED", "carol": "COMPLETED", "dave": "COMPLETED"}),
]


@pytest.mark.parametrize(("process_id", "approvers", "votes", "ends_after", "final"), COUNTERSIGN_RULES,
                         ids=[f"{rule[0]}-{len(rule[2])}votes" for rule in COUNTERSIGN_RULES])
def test_countersign_rules(process_id, approvers, votes, ends_after, final):
    inst = Instance(runtime_for("countersign.bpmn"), {"approvers": approvers}, process_id=process_id)
    element_id = "sign_" + process_id[3:]
    for count, (approver, decision) in enumerate(votes, start=1):
        assert not inst.completed()
        inst.complete(element_id, {"decision": decision}, item=approver)
        if count < ends_after:
            assert not inst.completed(), f"{process_id} ended after {count} votes"
            voted = {who for who, _ in votes[:count]}
            assert sorted(t.item for t in inst.tasks()) == sorted(set(approvers) - voted)
    assert inst.completed(), f"{process_id} still open after {ends_after} votes"
    assert inst.ready() == []
    assert _mi_children(inst, element_id) == final
    assert "approver" not in inst.data()  # the element variable stays local to its instance
    assert inst.data()["approvers"] == approvers


def test_sequential_multi_instance_one_after_the_other():
    inst = Instance(runtime_for("sequential_mi.bpmn"), {"chain": ["ann", "ben", "cid"]})
    seen = []
    for expected in ["ann", "ben", "cid"]:
        [task] = inst.tasks()
        assert task.element_id == "approve_step" and task.item == expected
        assert expressions.evaluate(task.info["assignee"], task.data) == expected
        seen.append(task.item)
        inst.complete("approve_step", {"signed_" + expected: True})
    assert seen == ["ann", "ben", "cid"]
    assert inst.completed()
    assert inst.data() == {"chain": ["ann", "ben", "cid"], "signed_ann": True, "signed_ben": True,
                           "signed_cid": True,
                           # signatures without a decision: counted as completed, neither approved nor rejected
                           "approve_step_result": {"approved": 0, "rejected": 0, "instances": 3, "completed": 3,
                                                   "outcome": "none"}}


# ---------------------------------------------------------------- 9. standard loop
def test_standard_loop_runs_while_condition_holds():
    inst = Instance(runtime_for("standard_loop.bpmn"), {"quotes": []})
    for round_no in range(1, 4):
        [task] = inst.tasks()
        assert task.element_id == "collect_quote"
        assert len(task.data["quotes"]) == round_no - 1
        inst.complete("collect_quote", {"quotes": task.data["quotes"] + [100 * round_no]})
    assert inst.completed()
    assert inst.data() == {"quotes": [100, 200, 300]}


def test_standard_loop_stops_at_loop_maximum():
    inst = Instance(runtime_for("standard_loop.bpmn"), {"quotes": []})
    for _ in range(5):
        assert inst.ready() == ["collect_quote"]
        inst.complete("collect_quote", {"tries": inst.task("collect_quote").data.get("tries", 0) + 1})
    assert inst.completed()
    assert inst.data() == {"quotes": [], "tries": 5}


# ---------------------------------------------------------------- 10. script and service tasks
def test_script_and_camunda_service_task():
    pytest.importorskip("engine.sandbox")
    inst = Instance(runtime_for("script_service.bpmn"),
                    {"lines": [{"qty": 2, "price": 30}, {"qty": 1, "price": 50}]})
    assert {"compute", "stamp"} <= inst.reached()
    data = inst.task("check").data
    assert data["total"] == 110 and data["size"] == "big"
    assert data["status"] == "stamped" and data["doubled"] == 220


def test_unknown_camunda_class_is_an_error_issue_and_refused_at_start():
    model = compile_files("unknown_operation.bpmn")
    errors = [issue for issue in model.issues if issue["severity"] == "error"]
    assert len(errors) == 1
    assert errors[0]["element_id"] == "send_fax"
    assert "com.acme.fax.SendFaxDelegate" in errors[0]["reason"]
    with pytest.raises(EngineError) as caught:
        ProcessRuntime(model).start({})
    assert caught.value.element_id == "send_fax"
    assert "send_fax" in str(caught.value)


# ---------------------------------------------------------------- 11. guards
def test_rework_loop_completes_at_round_1000_with_bounded_state():
    inst = Instance(runtime_for("rework_loop.bpmn", folder=DATA), {"initiator": "alice"})
    sizes = {}
    for round_no in range(1, 1001):
        assert inst.ready() == ["submit"], f"round {round_no}"
        inst.complete("submit", {"round": round_no, "note": f"version {round_no}"})
        if round_no in (10, 1000):
            sizes[round_no] = len(inst.state)
        review = inst.task("review")
        assert review.data["round"] == round_no
        inst.complete("review", {"decision": "approve" if round_no == 1000 else "reject"})
        assert inst.completed() == (round_no == 1000), f"round {round_no}"
    assert inst.data() == {"initiator": "alice", "round": 1000, "note": "version 1000", "decision": "approve"}
    assert "done" in inst.reached()
    assert sizes[1000] <= 3 * sizes[10], sizes


TYPED = {
    "signed_at": datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=timezone.utc),
    "local_time": datetime(2026, 11, 27, 17, 30),
    "due": date(2026, 12, 31),
    "price": Decimal("1234.50"),
    "tags": {"vip", "b2b", "eu"},
    "nested": {"lines": [{"amount": Decimal("0.10"), "on": date(2026, 1, 2)}]},
}


def _assert_typed(data: dict) -> None:
    for key, value in TYPED.items():
        assert data[key] == value, key
        assert type(data[key]) is type(value), key
    assert str(data["price"]) == "1234.50"
    assert data["signed_at"].utcoffset() == timedelta(0)
    assert data["local_time"].tzinfo is None
    assert str(data["nested"]["lines"][0]["amount"]) == "0.10"


def test_state_round_trips_datetime_date_decimal_and_set():
    inst = Instance(runtime_for("parallel.bpmn"), dict(TYPED))
    _assert_typed(inst.task("legal_review").data)
    inst.complete("legal_review", {"reviewed_at": datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc),
                                   "fee": Decimal("99.90")})
    inst.complete("finance_review", {"cost_centres": {"CC-1", "CC-2"}})
    archive = inst.task("archive").data
    _assert_typed(archive)
    assert archive["fee"] == Decimal("99.90") and str(archive["fee"]) == "99.90"
    assert archive["cost_centres"] == {"CC-1", "CC-2"} and isinstance(archive["cost_centres"], set)
    assert archive["reviewed_at"] == datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc)
    inst.complete("archive")
    _assert_typed(inst.data())
    assert json.loads(inst.state)  # the saved state is plain JSON


def _children_first(tasks: dict, seed: int) -> dict:
    depth = {}

    def depth_of(task_id):
        if task_id not in depth:
            parent = tasks[task_id].get("parent")
            depth[task_id] = 0 if parent is None or parent not in tasks else depth_of(parent) + 1
        return depth[task_id]

    ids = list(tasks)
    random.Random(seed).shuffle(ids)
    ids.sort(key=depth_of, reverse=True)  # stable: random order within a depth, deepest first
    return {task_id: tasks[task_id] for task_id in ids}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_restore_does_not_depend_on_task_order(seed):
    runtime = runtime_for("subprocess.bpmn")
    inst = Instance(runtime, {"title": "Notice", **TYPED})
    inst.complete("draft", {"text": "hello"})
    saved = json.loads(inst.state)
    saved["tasks"] = _children_first(saved["tasks"], seed)
    assert len(saved["subprocesses"]) == 1
    for sub in saved["subprocesses"].values():
        sub["tasks"] = _children_first(sub["tasks"], seed)
    order = list(saved["tasks"])
    assert all(order.index(task["parent"]) > order.index(task_id)
               for task_id, task in saved["tasks"].items() if task.get("parent") in saved["tasks"])
    inst.state = json.dumps(saved)

    proofread = inst.task("proofread")
    _assert_typed(proofread.data)
    assert proofread.data["title"] == "Notice" and proofread.data["text"] == "hello"
    inst.complete("proofread", {"ok": True})
    inst.complete("publish")
    assert inst.completed()
    final = inst.data()
    _assert_typed(final)
    assert final["text"] == "hello" and final["ok"] is True


def test_service_loop_without_wait_state_hits_the_step_limit():
    runtime = runtime_for("busy_loops.bpmn")
    with pytest.raises(EngineError, match=f"more than {MAX_ENGINE_STEPS} automatic steps"):
        runtime.start({"i": 0}, process_id="service_loop")


def test_script_loop_without_wait_state_hits_the_step_limit():
    pytest.importorskip("engine.sandbox")
    runtime = runtime_for("busy_loops.bpmn")
    with pytest.raises(EngineError, match=f"more than {MAX_ENGINE_STEPS} automatic steps"):
        runtime.start({"i": 0}, process_id="script_loop")
