"""Language: Simplified Chinese and English, chosen from the user's setting, the session or the browser."""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session
from flask_login import current_user

LANGUAGES = {"zh_CN": "简体中文", "en": "English"}
TRANSLATIONS = Path(__file__).with_name("translations")


def compile_catalogs() -> None:
    """Compile .po catalogs whose .mo is missing or older, so a fresh clone needs no build step."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parts[-3])
        with mo_path.open("wb") as handle:
            write_mo(handle, catalog)


def select_locale() -> str:
    """Pick the language: the user's setting, then the session, then the browser."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.language in LANGUAGES:
        return current_user.language
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"], default="en")
    return "zh_CN" if best in ("zh_CN", "zh") else "en"
