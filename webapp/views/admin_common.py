"""What every admin page shares: the admin-only gate and field errors in the reader's language."""
from __future__ import annotations

from flask import abort, current_app
from flask_babel import gettext as _
from flask_login import current_user

from database.base import MAX_INT32
from org.errors import OrgError
from org.passwords import MIN_LENGTH

PAGE_SIZE = 25
KINDS = {"positions": "position", "roles": "role", "groups": "group"}


class Discard(Exception):
    """Raised inside a command to roll it back after the domain checked the rest of a form with errors."""


def require_admin():
    """Send anonymous callers to sign in and refuse everyone but admins, for every method."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


def field_errors(exc: OrgError) -> dict[str, str]:
    """Turn a domain error into {field: message} for the form, translated where we know the case."""
    field = exc.details.get("field") or "form"
    no_user = _("No user with this user name.")
    known = {
        ("invalid_input", "code"): _("Use 1 to 64 letters, digits, “_”, “.” or “-”."),
        ("invalid_input", "name"): _("Enter a name of at most 200 characters."),
        ("invalid_input", "display_name"): _("Enter a name of at most 200 characters."),
        ("invalid_input", "username"): _("Use 2 to 150 letters, digits, “_”, “.”, “@” or “-”."),
        ("invalid_input", "email"): _("This is not an email address."),
        ("invalid_input", "password"): _("Use at least %(n)s characters.", n=MIN_LENGTH),
        ("invalid_input", "parent"): _("A department cannot be inside itself or its own sub-department."),
        ("invalid_input", "superior"): _("A user cannot be their own superior."),
        ("invalid_input", "status"): _("Choose one of the listed values."),
        ("invalid_input", "language"): _("Choose one of the listed values."),
        # The service keeps a department's sort and a position's level inside their 32-bit columns.
        ("invalid_input", "sort"): _("Enter a whole number from %(low)s to %(high)s.", low=-MAX_INT32, high=MAX_INT32),
        ("invalid_input", "level"): _("Enter a whole number from %(low)s to %(high)s.", low=-MAX_INT32,
                                      high=MAX_INT32),
        ("duplicate", "username"): _("This user name is taken."),
        ("duplicate", "code"): _("This code is already used."),
        ("not_found", "leader"): no_user,
        ("not_found", "superior"): no_user,
        ("not_found", "parent"): _("This department no longer exists."),
        ("not_found", "department"): _("This department no longer exists."),
        ("not_found", "position"): _("This position no longer exists."),
        ("not_found", "roles"): _("One of these roles no longer exists."),
        ("not_found", "groups"): _("One of these groups no longer exists."),
    }
    return {field: known.get((exc.code, field), exc.message)}


def whole_number(value: str | None, field: str, errors: dict) -> int:
    """Read a whole number from a form field, noting an error by field when it is not one."""
    try:
        return int((value or "0").strip())
    except ValueError:
        errors[field] = _("Enter a whole number.")
        return 0
