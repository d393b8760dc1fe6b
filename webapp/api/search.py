"""Search over the API: the same hits as the search page, as JSON."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request

from search import sources

from ..db import query
from ..views.search import hit_url, run_search
from . import bp
from .common import bad_input, choice_arg, int_arg, me

MAX_SEARCH_PAGE_SIZE = 100


def _date_arg(name: str) -> date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise bad_input(name, f"{name} must be a date such as 2026-11-27") from None


def hit_json(hit) -> dict:
    """Describe one hit; title_html and snippet are HTML with the matched words in <mark>."""
    return {"kind": hit.kind, "ref": hit.ref, "title": hit.title, "title_html": hit.title_html,
            "snippet": hit.snippet, "score": round(hit.score, 6), "owner": hit.owner, "folder_id": hit.folder_id,
            "updated_at": hit.updated_at.isoformat(), "url": hit_url(hit), "extra": hit.extra}


@bp.get("/search")
def search():
    """Search documents, records and knowledge articles the caller may open; every word must match."""
    text = request.args.get("q")
    if text is None:
        raise bad_input("q", "q (the words to find) is required")
    kind = choice_arg("kind", sources.KINDS)
    page = int_arg("page", 1, 1, 10_000 // MAX_SEARCH_PAGE_SIZE)
    page_size = int_arg("page_size", 20, 1, MAX_SEARCH_PAGE_SIZE)
    date_from, date_to = _date_arg("from"), _date_arg("to")
    with query() as session:
        hits, more = run_search(session, me().actor, text=text, kind=kind, mine=request.args.get("mine") in
                                ("1", "true"), date_from=date_from, date_to=date_to, page=page, page_size=page_size,
                                owner=(request.args.get("owner") or "").strip()[:150] or None)
        items = [hit_json(hit) for hit in hits]
    return jsonify({"items": items, "page": page, "page_size": page_size, "has_more": more})
