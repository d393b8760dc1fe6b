"""Admin dictionaries: checked items, replaced in place, switched-off items no longer offered."""
from __future__ import annotations

import pytest

from records import service
from records.errors import Invalid, NotFound


def test_save_replace_and_offer_only_active_items(db):
    with db.command() as session:
        service.save_dictionary(session=session, name="industry", label="行业", label_en="Industry", actor="admin",
                                items=[{"value": "it", "label": "信息技术", "label_en": "IT"},
                                       {"value": "retail", "label": "零售"}])
    with db.command() as session:
        service.save_dictionary(session=session, name="industry", label="行业", actor="admin",
                                items=[{"value": "it", "label": "信息技术", "label_en": "IT"},
                                       {"value": "retail", "label": "零售", "active": False},
                                       {"value": "energy", "label": "能源", "label_en": "Energy"}])
    with db.query() as session:
        assert service.dictionary_options(session, "industry") == [("it", "IT / 信息技术"), ("energy", "Energy / 能源")]
        assert service.dictionary_options(session, "missing") is None
        assert [d.name for d in service.list_dictionaries(session=session)] == ["industry"]
        with pytest.raises(NotFound):
            service.get_dictionary_or_raise(session=session, name="missing")


@pytest.mark.parametrize("name, items, field", [
    ("Bad Name", [{"value": "a"}], "name"),
    ("ok_name", [], "items"),
    ("ok_name", "text", "items"),
    ("ok_name", [{"value": ""}], "items[0].value"),
    ("ok_name", [{"value": "a"}, {"value": "a"}], "items[1].value"),
    ("ok_name", [{"value": "a", "label": 5}], "items[0].label"),
    ("ok_name", ["a"], "items[0]"),
])
def test_bad_dictionaries_are_refused_naming_the_field(db, name, items, field):
    with pytest.raises(Invalid) as caught, db.command() as session:
        service.save_dictionary(session=session, name=name, label="L", items=items, actor="admin")
    assert caught.value.details["field"] == field
