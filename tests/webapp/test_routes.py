"""Every route refuses anonymous callers, except the few that must be public."""
from __future__ import annotations

import re

PUBLIC = {"/login", "/language", "/healthz", "/api/v1/openapi.json", "/api/v1/auth/token",
          "/calendar/feed/<token>.ics"}  # the secret link is the key: a calendar app cannot sign in


def _concrete(rule: str) -> str:
    return re.sub(r"<(?:int:)?[^>]+>", lambda m: "1" if "int:" in m.group(0) else "x", rule)


def test_every_route_needs_sign_in(app):
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "bootstrap.static") or rule.rule in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_concrete(rule.rule), method=method)
            checked += 1
            if rule.rule.startswith("/api/"):
                assert response.status_code == 401, (method, rule.rule, response.status_code)
                assert response.get_json()["error"]["code"]
            else:
                assert response.status_code == 302 and "/login" in response.headers["Location"], \
                    (method, rule.rule, response.status_code)
    assert checked >= 15
