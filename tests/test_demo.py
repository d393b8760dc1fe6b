"""`flowdesk demo` (what scripts/run loads): every shipped process deployed and running in several states."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from database import Database
from instances.actors import Actor
from instances.models import ProcessInstance
from records.models import Record, RecordType
from search import service as search
from search import sources
from tests.conftest import ROOT
from webapp import demo_customers, demo_documents
from webapp.cli import main

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
LATIN = re.compile(r"[A-Za-z]")
RECORD_TYPES = ("customer", "contact", "lead", "contract", "order", "payment", "complaint", "knowledge_article")


def _english(text: str | None) -> bool:
    """English text: Latin letters and no Chinese characters."""
    return bool(text and LATIN.search(text)) and not CJK.search(text)


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _records_by_language(session: Session) -> dict[str, dict[str, list[Record]]]:
    """The live records of each type as {"en": [...], "zh": [...]}. A record is Chinese when its title, its data or
    its customer's name has Chinese characters (an order number alone says nothing), English when it is not and its
    title has Latin letters."""
    rows = session.execute(select(RecordType.key, Record).join(RecordType, RecordType.id == Record.type_id)
                           .where(Record.deleted_at.is_(None)).order_by(Record.id)).all()
    titles = {record.id: record.title for _key, record in rows}
    found: dict[str, dict[str, list[Record]]] = {key: {"en": [], "zh": []} for key, _record in rows}
    for key, record in rows:
        texts = [record.title, *_strings(record.data), titles.get(record.data.get("customer"), "")]
        if any(CJK.search(text) for text in texts):
            found[key]["zh"].append(record)
        elif _english(record.title):
            found[key]["en"].append(record)
    return found


def _check_both_languages(session: Session) -> None:
    """Customers and their records, customer processes and document requests, in Chinese and in English."""
    found = _records_by_language(session)
    for key in RECORD_TYPES:
        titles = {language: [record.title for record in records] for language, records in found[key].items()}
        assert titles["en"] and titles["zh"], f"{key}: {titles}"
    english = {key: {record.id: record for record in found[key]["en"]} for key in RECORD_TYPES}
    contacts = Counter(english["customer"][c.data["customer"]].title for c in english["contact"].values()
                       if c.data["customer"] in english["customer"])
    assert contacts["Acme Trading GmbH"] >= 2 and contacts["Blue Harbor Hospital"] >= 2, contacts
    assert any(order.data.get("lines") for order in english["order"].values())
    assert {"planned", "paid"} <= {payment.data["status"] for payment in english["payment"].values()}
    assert {article.data["public"] for article in english["knowledge_article"].values()} == {True, False}

    instances = session.scalars(select(ProcessInstance)).all()
    by_english = [(i.definition_key, i.status, i) for i in instances
                  if i.data.get("customer") in english["customer"] or i.data.get("lead") in english["lead"]]
    missing = set(demo_customers.KEYS) - {key for key, _status, _i in by_english}
    assert not missing, f"customer processes without an English customer's request: {sorted(missing)}"
    assert {("complaint_handling", "running"), ("complaint_handling", "completed"),
            ("contract_to_receivable", "completed")} <= {(key, status) for key, status, _i in by_english}
    assert any(i.data.get("article") in english["knowledge_article"] for key, status, i in by_english
               if (key, status) == ("service_request_kb", "completed")), "no English request answered from an article"
    titled = {i.definition_key for i in instances if _english(i.data.get("title") or i.data.get("project_name"))}
    missing = set(demo_documents.KEYS) - titled
    assert not missing, f"document processes without an English request: {sorted(missing)}"


def test_the_demo_shows_a_living_company_and_loads_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("FLOWDESK_VAR_DIR", str(tmp_path))
    runner = CliRunner()
    first = runner.invoke(main, ["demo"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "demo processes:" in first.output
    database = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    with database.query() as session:
        counts = dict(session.execute(select(ProcessInstance.definition_key, func.count())
                                      .group_by(ProcessInstance.definition_key)).all())
        statuses = set(session.scalars(select(ProcessInstance.status).distinct()))
        shipped = {path.name for path in Path(ROOT / "bpmn").iterdir() if path.is_dir()}
        missing = shipped - set(counts) - {"general_approval"}
        assert not missing, f"shipped processes without demo requests: {sorted(missing)}"
        assert {"running", "completed", "rejected"} <= statuses
        # The demo records are in the search index.
        admin = Actor("admin", is_admin=True)
        assert [hit.title for hit in search.search(session, "华东机械", readable=sources.readable(session, admin))] \
            == ["华东机械有限公司"]
        assert demo_customers.MONITOR_ARTICLE in [
            hit.title for hit in search.search(session, "probe off alarms", readable=sources.readable(session, admin))]
        assert [hit.title for hit in search.search(session, "Hoffmann", readable=sources.readable(session, admin))] \
            == ["Katrin Hoffmann"]
        _check_both_languages(session)
        records = dict(session.execute(select(Record.type_id, func.count()).group_by(Record.type_id)).all())
    second = runner.invoke(main, ["demo"], catch_exceptions=False)
    assert second.exit_code == 0 and "demo processes:" not in second.output
    with database.query() as session:
        assert dict(session.execute(select(ProcessInstance.definition_key, func.count())
                                    .group_by(ProcessInstance.definition_key)).all()) == counts
        assert dict(session.execute(select(Record.type_id, func.count()).group_by(Record.type_id)).all()) == records
    database.dispose()
