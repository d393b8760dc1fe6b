"""Rich text: HTML from the browser, cleaned on the server to a small allow-list before it is stored or shown."""
from __future__ import annotations

import nh3

TAGS = {"p", "br", "b", "strong", "i", "em", "u", "s", "ul", "ol", "li", "a", "blockquote", "h3", "h4",
        "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "span"}
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize(html: str) -> str:
    """Return the HTML with scripts, styles, event handlers and unknown tags removed; links get rel=noopener."""
    html = html.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot cross into the cleaner
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)
