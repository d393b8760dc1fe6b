"""The search page: documents, records and knowledge articles the reader may open, found by any words."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.routing import BuildError

from documents import folders
from documents.access import folder_clause
from documents.models import DocFolder
from org.models import User
from search import service, sources
from search.errors import SearchError

from ..db import query
from ..paging import page_arg

bp = Blueprint("search", __name__, url_prefix="/search")
PAGE_SIZE = 20
MAX_PAGE = service.MAX_OFFSET // PAGE_SIZE


def _date(name: str, errors: dict) -> date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[name] = _("Use a date such as 2026-11-27.")
        return None
    if not 1900 <= day.year <= 2200:  # a day past either end of the calendar cannot be widened to a range
        errors[name] = _("Use a date between the years 1900 and 2200.")
        return None
    return day


def problem_text(exc: SearchError) -> str:
    """Return a refused search's reason in the reader's language."""
    reason, limit = exc.details.get("reason"), exc.details.get("limit")
    if reason == "too_long":
        return _("A search is at most %(limit)s characters.", limit=limit)
    if reason == "too_many_words":
        return _("A search has at most %(limit)s words.", limit=limit)
    if reason == "word_too_long":
        return _("A word is at most %(limit)s characters.", limit=limit)
    if reason == "empty":
        return _("The search has no letters, digits or characters to look for.")
    return exc.message


def hit_url(hit: service.SearchHit) -> str | None:
    """Return the page a hit opens, or None when its page is not part of this installation."""
    try:
        if hit.kind in (sources.RECORD, sources.ARTICLE):
            return url_for("records.show", key=hit.extra.get("type", ""), record_id=int(hit.ref))
        if hit.kind == sources.DOCUMENT:
            return url_for("documents_files.show", document_id=int(hit.ref))
    except (BuildError, ValueError):
        return None
    return None


def run_search(session, actor, *, text: str, kind: str | None, mine: bool, date_from, date_to, page: int,
               page_size: int, folder_id: int | None = None,
               owner: str | None = None) -> tuple[list[service.SearchHit], bool]:
    """Return one page of hits for the actor and whether more follow (within a folder's subtree if given)."""
    folder_ids = None
    if folder_id is not None:
        # Documents of the folder and every folder below it; records are in no folder, so they drop out.
        folder_ids = list(session.scalars(folders.subtree_ids(folder_id)))
    hits = service.search(session, text, readable=sources.readable(session, actor), folder_ids=folder_ids,
                          kinds=[kind] if kind else None, owner=actor.username if mine else (owner or None),
                          date_from=date_from, date_to=date_to, limit=page_size + 1,
                          offset=(page - 1) * page_size)
    return hits[:page_size], len(hits) > page_size


@bp.get("/")
@login_required
def index():
    """Search everything the user may read; the navigation's search box comes here."""
    text = (request.args.get("q") or "").strip()
    kind = request.args.get("kind") if request.args.get("kind") in sources.KINDS else None
    mine = request.args.get("mine") == "1"
    owner = (request.args.get("owner") or "").strip()[:150]
    page = min(page_arg(), MAX_PAGE)
    errors: dict[str, str] = {}
    date_from, date_to = _date("from", errors), _date("to", errors)
    hits, more, problem, folder = [], False, None, None
    folder_arg = request.args.get("folder", "")
    with query() as session:
        # A folder the reader may not read is treated as none: its name is not shown, nothing is found in it.
        if folder_arg.isdigit() and len(folder_arg) < 19:
            candidate = session.get(DocFolder, int(folder_arg))
            if candidate is not None and session.scalar(
                    select(DocFolder.id).where(DocFolder.id == candidate.id,
                                               folder_clause(session, current_user.actor, DocFolder.id))):
                folder = {"id": candidate.id, "name": candidate.name}
        if text and not errors:
            try:
                hits, more = run_search(session, current_user.actor, text=text, kind=kind, mine=mine,
                                        date_from=date_from, date_to=date_to, page=page, page_size=PAGE_SIZE,
                                        folder_id=folder["id"] if folder else None, owner=owner)
            except SearchError as exc:
                problem = problem_text(exc)
        owners = sorted({hit.owner for hit in hits})
        names = dict(session.execute(select(User.username, User.display_name).where(User.username.in_(owners)))
                     .all()) if owners else {}
    status = 400 if (problem or errors) else 200
    return render_template("search/index.html", text=text, kind=kind, mine=mine, page=page, hits=hits, more=more,
                           folder=folder, owner=owner, names=names,
                           problem=problem, errors=errors, hit_url=hit_url, kinds=sources.KINDS,
                           args={k: v for k, v in request.args.items() if k != "page"},
                           any_kind={k: v for k, v in request.args.items() if k not in ("page", "kind")},
                           any_folder={k: v for k, v in request.args.items() if k not in ("page", "folder")}), status
