"""Shared pieces of the form tests: the expense claim process with every kind of field, and a valid claim."""
from __future__ import annotations

import re

import pytest

from definitions import service as definitions
from definitions.bundle import read_path
from tests.conftest import DATA

EXPENSE = DATA / "forms" / "expense_claim"
CLAIM = {  # a valid post of the HTML start form
    "title": "上海客户拜访", "kind": "travel", "manager": "li.na", "department": "sales",
    "trip-start": "2026-12-01", "trip-end": "2026-12-03", "departure": "2026-12-01T08:30",
    "lines-0-day": "2026-12-01", "lines-0-item": "高铁", "lines-0-category": "ticket", "lines-0-quantity": "2",
    "lines-0-unit_price": "553.5", "lines-0-amount": "1",
    "lines-3-item": "Hotel", "lines-3-category": "hotel", "lines-3-quantity": "2", "lines-3-unit_price": "1,200",
    "advance": "500", "tax_rate": "6.5", "urgent": "on", "tags": ["client", "training"],
    "notes": '<p onclick="steal()">Visit <b>ACME</b><script>alert(1)</script></p>', "total": "1", "trip_days": "99",
}
CLAIM_JSON = {  # the same claim through the API
    "title": "上海客户拜访", "kind": "travel", "manager": "li.na", "department": "sales",
    "trip": {"start": "2026-12-01", "end": "2026-12-03"}, "departure": "2026-12-01T08:30",
    "lines": [{"day": "2026-12-01", "item": "高铁", "category": "ticket", "quantity": 2, "unit_price": "553.5"},
              {"item": "Hotel", "category": "hotel", "quantity": 2, "unit_price": "1200"}],
    "advance": "500", "tax_rate": 6.5, "urgent": True, "tags": ["client", "training"],
    "notes": "<p>Visit <b>ACME</b><script>alert(1)</script></p>",
}


@pytest.fixture
def expense(app, db):
    """Deploy the expense claim process next to the leave request."""
    with db.command() as session:
        definitions.deploy(session=session, files=read_path(EXPENSE), actor="admin")
    return "expense_claim"


def instance_id_of(response) -> int:
    """Return the instance id a successful start redirected to."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def task_id_of(client, view: str = "mine") -> int:
    """Return the first task id in an inbox view."""
    html = client.get(f"/?view={view}").get_data(as_text=True)
    ids = re.findall(r'data-testid="task-(\d+)"', html)
    assert ids, html
    return int(ids[0])
