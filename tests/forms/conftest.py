"""Fixtures for the pure form tests: a fake Lookups that knows a few users, departments, dictionaries, records."""
from __future__ import annotations

import pytest


class FakeLookups:
    """Knows users li.na (active) and old.hand (left), departments sales and hr, one dictionary, two records."""

    def __init__(self):
        self.asked: list[tuple] = []

    def dictionary_options(self, name):
        self.asked.append(("dictionary", name))
        return {"industry": [("it", "IT / 信息技术"), ("retail", "Retail / 零售")]}.get(name)

    def user_exists(self, username):
        self.asked.append(("user", username))
        return username == "li.na"

    def department_exists(self, code):
        self.asked.append(("department", code))
        return code in ("sales", "hr")

    def record_readable(self, type_key, record_id):
        self.asked.append(("record", type_key, record_id))
        return (type_key, record_id) in {("customer", 1), ("customer", 2)}

    def user_options(self):
        return [("li.na", "李娜 (li.na)")]

    def department_options(self):
        return [("sales", "Sales / 销售部"), ("hr", "HR / 人力资源部")]


@pytest.fixture
def lookups():
    """A fake Lookups."""
    return FakeLookups()
