"""Per-kind rules: read posted text into JSON values, check and canonicalize JSON values, ask lookups."""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from .errors import FieldError
from .lookups import Lookups
from .richtext import sanitize

MAX_TEXT = 20_000
MAX_NUMBER_TEXT = 40  # no sensible amount or count is longer; longer text is refused before parsing
MAX_INTEGER_DIGITS = 15  # money and percent: beyond this, totals stop being exact in JavaScript and reports
MAX_ID = 2**63 - 1
DEFAULT_CURRENCY = "CNY"

_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")


def scale_of(prop: dict, default: int = 2) -> int:
    """Return how many decimal places a money or percent field keeps (x-scale, 0 to 6)."""
    scale = prop.get("x-scale", default)
    return scale if isinstance(scale, int) and not isinstance(scale, bool) and 0 <= scale <= 6 else default


def currency_of(prop: dict) -> str:
    """Return a money field's currency code (x-currency, default CNY)."""
    currency = prop.get("x-currency")
    return currency if isinstance(currency, str) and currency else DEFAULT_CURRENCY


def to_decimal(value) -> Decimal | None:
    """Read an int, a float or decimal text as a finite Decimal; None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: 0.1 -> "0.1", not 0.1000000000000000055...
        value = repr(value)
    if not isinstance(value, str) or len(value) > MAX_NUMBER_TEXT or not _DECIMAL.fullmatch(value.strip()):
        return None
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        return None


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _bounds(prop: dict, number: Decimal, defaults: tuple = (None, None)) -> FieldError | None:
    low = prop.get("minimum", defaults[0])
    high = prop.get("maximum", defaults[1])
    checks = (("minimum", low, lambda n, b: n < b), ("maximum", high, lambda n, b: n > b),
              ("minimum", prop.get("exclusiveMinimum"), lambda n, b: n <= b),
              ("maximum", prop.get("exclusiveMaximum"), lambda n, b: n >= b))
    for code, bound, broken in checks:
        limit = to_decimal(bound)
        if limit is not None and broken(number, limit):
            return FieldError(code, bound)
    return None


def _exact(prop: dict, value, *, code: str, default_scale: int, defaults: tuple = (None, None)):
    number = to_decimal(value)
    if number is None:
        return None, FieldError(code)
    scale = scale_of(prop, default_scale)
    if _places(number) > scale:
        return None, FieldError("scale", scale)
    if number != 0 and number.adjusted() + 1 > MAX_INTEGER_DIGITS:
        return None, FieldError("digits", MAX_INTEGER_DIGITS)
    error = _bounds(prop, number, defaults)
    if error:
        return None, error
    return (abs(number) if number == 0 else number).quantize(Decimal(1).scaleb(-scale)), None


def money(prop: dict, value):
    """Check an amount (decimal text or a whole number, never a fraction in binary floating point)."""
    if isinstance(value, float):
        return None, FieldError("money")
    number, error = _exact(prop, value, code="money", default_scale=2)
    return (str(number) if number is not None else None), error


def percent(prop: dict, value):
    """Check a percentage: a number, 0 to 100 unless minimum/maximum say otherwise."""
    if isinstance(value, str):
        return None, FieldError("number")
    number, error = _exact(prop, value, code="number", default_scale=2, defaults=(0, 100))
    if number is None:
        return None, error
    return (int(number) if number == number.to_integral_value() else float(number)), None


def a_date(value) -> str | None:
    """Return an ISO date (YYYY-MM-DD) or None when the value is not one."""
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


def a_datetime(value) -> str | None:
    """Return ISO date and time to the minute (seconds when given), with its offset if it has one."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value.strip()):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "T"))
    except ValueError:
        return None
    return moment.replace(microsecond=0).isoformat(timespec="minutes" if moment.second == 0 else "seconds")


def date_range(value):
    """Check {start, end}: two dates, the end not before the start."""
    if not isinstance(value, dict) or set(value) - {"start", "end"}:
        return None, FieldError("range")
    start, end = a_date(value.get("start")), a_date(value.get("end"))
    if start is None or end is None:
        return None, FieldError("range")
    if end < start:
        return None, FieldError("range_order")
    return {"start": start, "end": end}, None


def _text(value, limit: int = MAX_TEXT):
    if not isinstance(value, str):
        return None, FieldError("type", "string")
    if len(value) > limit:
        return None, FieldError("too_long", limit)
    if "\x00" in value or not _encodable(value):  # PostgreSQL cannot store NUL; lone surrogates are not text
        return None, FieldError("text")
    return value, None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reference(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        return None, FieldError("integer")
    return value, None


def normalize(kind: str, prop: dict, value):
    """Check a JSON value of a kind with its own rules; return (canonical value, None) or (None, FieldError)."""
    if kind == "money":
        return money(prop, value)
    if kind == "percent":
        return percent(prop, value)
    if kind == "date":
        found = a_date(value)
        return (found, None) if found else (None, FieldError("date"))
    if kind == "date-time":
        found = a_datetime(value)
        return (found, None) if found else (None, FieldError("datetime"))
    if kind == "daterange":
        return date_range(value)
    if kind == "reference":
        return _reference(value)
    if kind == "richtext":
        text, error = _text(value, prop.get("maxLength") or MAX_TEXT)
        return (sanitize(text), None) if error is None else (None, error)
    if kind in ("dictionary", "user", "department"):
        return _text(value, 200)
    if isinstance(value, str):  # plain kinds: jsonschema checks the rest, but not an absurd length
        return _text(value)
    return value, None


def lookup_error(kind: str, prop: dict, value, lookups: Lookups) -> FieldError | None:
    """Ask the lookups whether a dictionary value, user, department or record exists (None: unknown)."""
    if kind == "dictionary":
        options = lookups.dictionary_options(prop["x-dictionary"])
        if options is not None and value not in {v for v, _label in options}:
            return FieldError("enum")
    elif kind == "user" and lookups.user_exists(value) is False:
        return FieldError("user", detail=value)
    elif kind == "department" and lookups.department_exists(value) is False:
        return FieldError("department", detail=value)
    elif kind == "multichoice" and (prop.get("items") or {}).get("format") == "department" and isinstance(value, list):
        unknown = next((v for v in value if lookups.department_exists(v) is False), None)
        if unknown is not None:
            return FieldError("department", detail=unknown)
    elif kind == "reference" and lookups.record_readable(prop["x-reference"], value) is False:
        return FieldError("reference", detail=f"#{value}")
    return None


def parse_posted(kind: str, prop: dict, raw):
    """Read the text a browser posted for one field into a JSON value; return (value, FieldError | None)."""
    if kind == "multichoice":
        posted = raw if isinstance(raw, list) else [raw]
        return [_enum_value(prop.get("items", {}), str(item)) for item in posted if str(item).strip()], None
    if isinstance(raw, list):  # a repeated name for a single-valued field: the first one counts
        raw = raw[0] if raw else ""
    raw = str(raw).strip()
    if len(raw) > MAX_TEXT:
        return None, FieldError("too_long", MAX_TEXT)
    if kind == "integer":
        return (int(raw), None) if _INTEGER.fullmatch(raw) else (None, FieldError("integer"))
    if kind == "money":
        return re.sub(r"[\s,，]", "", raw).lstrip("¥￥"), None
    if kind in ("number", "percent"):
        number = to_decimal(raw.rstrip("%").strip() if kind == "percent" else raw)
        if number is None:
            return None, FieldError("number")
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if kind == "reference":
        digits = raw.lstrip("#")
        return (int(digits), None) if _INTEGER.fullmatch(digits) else (None, FieldError("integer"))
    if kind == "choice":
        return _enum_value(prop, raw), None
    if kind == "json":
        try:
            return json.loads(raw), None
        except (ValueError, RecursionError):
            return None, FieldError("json")
    return raw, None


def _enum_value(prop: dict, text: str):
    # Browsers post text; the schema may list numbers. Pick the listed value that reads as that text.
    return next((v for v in prop.get("enum") or [] if str(v) == text or json.dumps(v) == text), text)
