"""What the record type designer posts: names, the schema as JSON text, list metadata and migration defaults."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from forms import schema as forms
from forms.kinds import kind_of, properties
from records.errors import RecordError
from records.schemas import BUILTIN_COLUMNS

DEFAULT_PREFIX = "default__"
MANAGED_META = ("title_field", "list_columns", "search_fields", "default_sort")
NAMED_IN_MESSAGE = re.compile(r"column '(?P<column>\w+)' of table '(?P<table>\w+)'|field (?:name )?'(?P<field>\w+)")


@dataclass
class Draft:
    """The designer's input: kept as typed so a refused save shows it again unchanged."""

    key: str = ""
    name: str = ""
    name_en: str = ""
    note: str = ""
    schema_text: str = ""
    schema: dict | None = None
    meta: dict = field(default_factory=dict)
    extra_meta: dict = field(default_factory=dict)  # metadata the designer does not edit (field_access...)

    @classmethod
    def of(cls, *, key: str, name: str, name_en: str, schema: dict, meta: dict) -> Draft:
        """Start a draft from a stored or starter definition."""
        meta = dict(meta or {})
        return cls(key=key, name=name, name_en=name_en, schema=schema, schema_text=json.dumps(
            schema, ensure_ascii=False, indent=2), meta={k: v for k, v in meta.items() if k in MANAGED_META},
                   extra_meta={k: v for k, v in meta.items() if k not in MANAGED_META})

    def fields(self) -> list[forms.Field]:
        """List the schema's top-level fields in layout order (none while the JSON cannot be read)."""
        try:
            return forms.fields(self.schema) if isinstance(self.schema, dict) else []
        except Exception:  # a half-written schema must not break the page that lets the admin fix it
            return []

    def scalar_fields(self) -> list[forms.Field]:
        """List the fields that can be a title, a column, a search field or a sort key (not the table)."""
        return [f for f in self.fields() if f.kind not in ("table", "attachments", "json")]

    def meta_to_save(self) -> dict:
        """Return the metadata the admin chose, and what the designer keeps as it was; check_meta fills the rest."""
        return {**self.extra_meta, **{k: v for k, v in self.meta.items() if v not in ("", [], None)}}


def read_draft(form) -> tuple[Draft, dict[str, str]]:
    """Read the designer's post into a draft and the errors found before the domain looks at it."""
    errors: dict[str, str] = {}
    draft = Draft(key=form.get("key", "").strip(), name=form.get("name", "").strip(),
                  name_en=form.get("name_en", "").strip(), note=form.get("note", "").strip()[:500],
                  schema_text=form.get("schema", ""))
    try:
        schema = json.loads(draft.schema_text or "{}")
    except ValueError as exc:
        errors["schema"] = _("The schema is not valid JSON: %(problem)s", problem=str(exc))
    else:
        if isinstance(schema, dict):
            draft.schema = schema
        else:
            errors["schema"] = _("The schema must be a JSON object.")
    try:
        extra = json.loads(form.get("meta_extra") or "{}")
    except ValueError:
        extra = {}
    draft.extra_meta = {k: v for k, v in extra.items() if k not in MANAGED_META} if isinstance(extra, dict) else {}
    sort = form.get("default_sort", "").strip()
    draft.meta = {"title_field": form.get("title_field", "").strip(),
                  "list_columns": [c for c in form.getlist("list_columns") if c],
                  "search_fields": [c for c in form.getlist("search_fields") if c],
                  "default_sort": ("-" + sort) if sort and form.get("sort_desc") else sort}
    return draft, errors


def meta_state(meta: dict) -> dict:
    """Return the metadata as the form's controls show it (sort key and direction apart)."""
    sort = meta.get("default_sort") or ""
    return {"title_field": meta.get("title_field") or "", "list_columns": list(meta.get("list_columns") or []),
            "search_fields": list(meta.get("search_fields") or []), "sort": sort.lstrip("-"),
            "desc": sort.startswith("-")}


def builtin_columns() -> list[tuple[str, str]]:
    """Name the columns every record has, in the reader's language."""
    titles = {"title": _("Record title"), "owner": _("Owner"), "created_at": _("Created"), "updated_at": _("Updated"),
              "id": _("Record number")}
    return [(name, titles[name]) for name in BUILTIN_COLUMNS]


def domain_errors(exc: RecordError) -> tuple[dict[str, str], str]:
    """Turn a refused definition into {form field: message} and the schema field the message names."""
    where = exc.details.get("field") or "schema"
    known = {
        ("invalid_input", "key"): _("Use 2 to 63 lower-case letters, digits or “_”, starting with a letter."),
        ("duplicate", "key"): _("A record type with this key exists already."),
        ("invalid_input", "name"): _("Enter a name of at most 200 characters."),
        ("invalid_input", "name_en"): _("Enter a name of at most 200 characters."),
    }
    message = known.get((exc.code, where), exc.message)
    if where.startswith("meta."):
        return {where[5:]: message}, ""
    if where == "schema" or where.startswith("schema."):
        return {"schema": message}, where[7:] or _named(exc.message)
    return {where: message}, ""


def _named(message: str) -> str:
    found = NAMED_IN_MESSAGE.search(message)
    if not found:
        return ""
    return f"{found['table']}.{found['column']}" if found["table"] else found["field"]


def default_schema(new: dict, old: dict, failing_fields: list[str]) -> dict:
    """Return a form of the fields a migration may fill: new or newly required ones, and those records fail on."""
    old_props, old_required = properties(old), set(old.get("required") or [])
    wanted = [n for n in new.get("required") or [] if n not in old_props or n not in old_required]
    wanted += [n.split("[", 1)[0] for n in failing_fields]
    props = {}
    for name in dict.fromkeys(wanted):
        prop = properties(new).get(name)
        if prop is None or kind_of(prop) in ("table", "attachments") or "x-computed" in prop:
            continue
        props[DEFAULT_PREFIX + name] = {k: v for k, v in prop.items() if k not in ("x-visible-if", "x-ui")}
    return {"type": "object", "properties": props}


def read_defaults(form_schema: dict, posted: dict, lookups) -> tuple[dict, dict]:
    """Read the posted defaults into typed values by field name; return (defaults, errors by input name)."""
    if not form_schema["properties"]:
        return {}, {}
    posted = {k: v for k, v in posted.items() if not k.startswith(DEFAULT_PREFIX) or v not in ("", [])}
    data, errors = forms.check(form_schema, posted, lookups=lookups)
    defaults = {k[len(DEFAULT_PREFIX):]: v for k, v in data.items() if v not in (None, "", [])}
    return defaults, errors


def removed_fields(new: dict, old: dict) -> list[str]:
    """Name the fields the old schema has and the new one does not."""
    return [name for name in properties(old) if name not in properties(new)]
