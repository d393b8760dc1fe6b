"""Step cost of a return-and-resubmit loop at round 1 and round 1,000, through the service layer."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "data" / "bpmn" / "rework_loop.bpmn"


def bench_rework_loop(rounds: int = 1000, window: int = 20) -> dict:
    """Run one instance through `rounds` rework rounds on SQLite; return median step times per window."""
    from database import Database
    from database.migrate import upgrade
    from definitions import service as definitions
    from instances import service
    from instances.actors import Actor

    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/loop.sqlite")
        upgrade(db)
        with db.command() as session:
            definitions.deploy(session=session, files={MODEL.name: MODEL.read_bytes()})
        with db.command() as session:
            iid = service.start_instance(session=session, key="rework_loop", actor=Actor("alice")).id
        for round_no in range(rounds):
            for who, data in (("alice", {"round": round_no}),
                              ("reviewer", {"decision": "approve" if round_no == rounds - 1 else "reject"})):
                with db.query() as session:
                    [item] = service.list_open_work_items(session=session, instance_id=iid)
                started = time.perf_counter()
                with db.command() as session:
                    status = service.complete_task(session=session, work_item_id=item.id, actor=Actor(who),
                                                   data=data).status
                times.append((time.perf_counter() - started) * 1000)
        with db.query() as session:
            state_bytes = len(service.get_instance_or_raise(session=session, instance_id=iid).state)
        db.dispose()
    first = statistics.median(times[: 2 * window])
    last = statistics.median(times[-2 * window:])
    return {"rounds": rounds, "status": status, "first_ms": first, "last_ms": last, "ratio": last / first,
            "state_bytes": state_bytes}


def report(result: dict) -> str:
    """Format the loop measurement with its target."""
    verdict = "MET" if result["ratio"] <= 3 and result["status"] == "completed" else "NOT MET"
    return (f"Rework loop, {result['rounds']} rounds on SQLite: instance {result['status']}; median step "
            f"{result['first_ms']:.2f} ms at the start, {result['last_ms']:.2f} ms at the end "
            f"= {result['ratio']:.2f}x (target <= 3x: {verdict}); final state {result['state_bytes']} bytes")
