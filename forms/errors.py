"""Why a form or a submitted value is refused: field errors by key, the form error, a bad schema."""
from __future__ import annotations

from dataclasses import dataclass

MESSAGES = {  # code -> English text; the web app translates by code (templates/macros/forms.html)
    "required": "this field is required",
    "enum": "choose one of the listed values",
    "minimum": "must be at least {limit}",
    "maximum": "must be at most {limit}",
    "maxLength": "at most {limit} characters",
    "minLength": "at least {limit} characters",
    "minItems": "at least {limit} entries",
    "maxItems": "at most {limit} entries",
    "uniqueItems": "choose each value only once",
    "pattern": "does not have the expected form",
    "format": "not a valid {limit}",
    "type": "must be a {limit}",
    "integer": "enter a whole number",
    "number": "enter a number",
    "date": "enter a date as YYYY-MM-DD",
    "datetime": "enter a date and time as YYYY-MM-DDTHH:MM",
    "money": "enter an amount like 1234.50",
    "scale": "at most {limit} decimal places",
    "digits": "at most {limit} digits before the decimal point",
    "range": "enter a start and an end date",
    "range_order": "the end must not be before the start",
    "user": "there is no active user {detail}",
    "department": "there is no department {detail}",
    "reference": "record {detail} does not exist or you may not see it",
    "readonly": "this field cannot be changed at this step",
    "unknown": "unknown field",
    "row": "each row must be an object",
    "computed": "cannot be calculated yet: fill in the fields it is calculated from",
    "text": "contains characters that cannot be stored",
    "json": "invalid value",
    "too_long": "at most {limit} characters",
    "invalid": "{detail}",
}


@dataclass
class FieldError:
    """Why one field was refused: a code, its limit or detail, and the English text."""

    code: str
    limit: object = None
    detail: str = ""

    @property
    def message(self) -> str:
        """Return the English message."""
        return MESSAGES.get(self.code, "{detail}").format(limit=self.limit, detail=self.detail)

    def __str__(self) -> str:
        return self.message


class FormError(Exception):
    """Submitted data does not fit the form; `errors` maps field keys (`name`, `lines[2].amount`) to FieldError."""

    code = "invalid_form"

    def __init__(self, errors: dict[str, FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class SchemaProblem(Exception):
    """The form itself is not valid JSON Schema or breaks the form dialect."""
