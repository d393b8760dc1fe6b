"""What a process step's refusal of a request says on a page, in the reader's language.

A step that checks a request (the leave balance, the business calendar) refuses it with a problem code and
its facts beside its English reason; the reason stays what the API and the logs carry.
"""
from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _

from diagrams.text import localize

from .i18n import select_locale


def _choice_label(schema: dict | None, field: str, value) -> str:
    """Return the label the form gives a stored choice, in the page's language (the value when it has none)."""
    spec = ((schema or {}).get("properties") or {}).get(field) or {}
    values, names = spec.get("enum") or [], spec.get("enumNames") or []
    label = names[values.index(value)] if value in values and values.index(value) < len(names) else str(value)
    return localize(label, select_locale())


def _number(value) -> str:
    return format_decimal(float(value), format="#,##0.##")


def refusal_text(details: dict, schema: dict | None) -> str | None:
    """Return the page's words for a refusal with a known problem code, or None to show its own reason."""
    problem = details.get("problem")
    if problem == "no_working_day":
        return _("%(first)s to %(last)s holds no working day on the business calendar.",
                 first=details.get("first"), last=details.get("last"))
    if problem == "no_balance":
        return _("There is no %(kind)s balance for %(year)s. HR sets the entitlement before this leave can be "
                 "asked for.", kind=_choice_label(schema, "leave_type", details.get("leave_type")),
                 year=details.get("year"))
    if problem == "balance_short":
        return _("%(days)s working days of %(kind)s in %(year)s, but only %(left)s are left (%(entitled)s "
                 "entitled, %(used)s used, %(reserved)s in requests awaiting approval).",
                 days=_number(details.get("days") or 0),
                 kind=_choice_label(schema, "leave_type", details.get("leave_type")), year=details.get("year"),
                 left=_number(details.get("left") or 0), entitled=_number(details.get("entitled") or 0),
                 used=_number(details.get("used") or 0), reserved=_number(details.get("reserved") or 0))
    return None
