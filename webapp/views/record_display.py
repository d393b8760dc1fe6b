"""How record values are shown: columns to list, titles of referenced records and names of people."""
from __future__ import annotations

from dataclasses import dataclass

from forms import schema as forms
from org import service as org
from records import fields as record_fields
from records import service as records
from records.schemas import BUILTIN_COLUMNS, referenced_ids, references

from ..i18n import select_locale

BUILTIN_TITLES = {"title": "Title / 标题", "owner": "Owner / 负责人", "created_at": "Created / 创建时间",
                  "updated_at": "Updated / 更新时间", "id": "No. / 编号"}


@dataclass(frozen=True)
class Column:
    """One column of a record list: a built-in column or a field of the type."""

    name: str
    title: str
    field: forms.Field | None


def visible_fields(view, actor) -> list[forms.Field]:
    """Return the type's fields the actor may see, in form order."""
    concealed = record_fields.hidden(view, actor)
    return [f for f in forms.fields(view.schema) if f.name not in concealed]


def list_columns(view, chosen: list[str], actor) -> list[Column]:
    """Return the columns to show: the reader's choice when valid, else the type's list columns."""
    by_name = {f.name: f for f in visible_fields(view, actor)}
    allowed = [c for c in chosen if c in by_name or c in BUILTIN_COLUMNS]
    names = allowed or list(view.meta.get("list_columns") or ["title", "updated_at"])
    columns = []
    for name in names:
        if name in by_name:
            columns.append(Column(name, by_name[name].title, by_name[name]))
        elif name in BUILTIN_TITLES:
            columns.append(Column(name, BUILTIN_TITLES[name], None))
    return columns


def display_context(session, view, items: list, actor) -> dict:
    """Gather what the templates need to show values: fields, referenced titles and people's names."""
    ids, people, refs_of = [], set(), {}
    for record in items:
        data = record.data or {}
        people.update(filter(None, (record.owner, record.created_by, record.updated_by)))
        if record.type_id not in refs_of:  # related-list items are of other types, with their own references
            refs_of[record.type_id] = references(records.type_by_id(session=session, type_id=record.type_id).schema)
        for ref in refs_of[record.type_id]:
            ids.extend(referenced_ids(data, ref))
        for f in forms.fields(view.schema):
            if f.schema.get("x-kind") == "user" and isinstance(data.get(f.name), str):
                people.add(data[f.name])
    names = org.display_names(session=session, usernames=sorted(people)) if people else {}
    return {"fields": visible_fields(view, actor), "ref_titles": records.titles(session=session, ids=ids),
            "ref_targets": {ref.path: ref.target for ref in references(view.schema)}, "people": names,
            "chinese": select_locale() == "zh_CN"}
