"""My leave and attendance (我的假期与考勤): one's own leave balances, days awaiting approval and attendance."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from definitions import service as definitions
from definitions.errors import DefinitionError
from records import attendance

from ..db import query

bp = Blueprint("attendance", __name__, url_prefix="/account")
LEAVE_PROCESS = "leave_request"


@bp.route("/leave")
@login_required
def mine():
    """Show the signed-in person's leave balances for a year and their attendance of the last twelve months."""
    if current_user.is_portal:
        abort(404)
    this_year = date.today().year
    year = request.args.get("year", type=int) or this_year
    if not this_year - 10 <= year <= this_year + 1:
        year = this_year
    with query() as session:
        balances = attendance.my_balances(session=session, employee=current_user.username, year=year)
        entries = attendance.my_attendance(session=session, employee=current_user.username,
                                           since=date.today() - timedelta(days=365))
        try:
            can_ask = definitions.get_startable_or_raise(session=session, key=LEAVE_PROCESS) is not None
        except DefinitionError:
            can_ask = False
    return render_template("attendance/mine.html", balances=balances, entries=entries, year=year,
                           years=list(range(this_year + 1, this_year - 3, -1)), can_ask=can_ask,
                           process=LEAVE_PROCESS)
