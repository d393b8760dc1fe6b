"""Escaping, measuring and wrapping of label text for SVG output."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime

FONT_SIZE = 12.0
LINE_HEIGHT = 14.5
# Characters XML 1.0 cannot carry at all; names from a progress dict or a hostile file may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def esc(value) -> str:
    """Escape any value for use in SVG text or a double- or single-quoted attribute."""
    text = _NOT_XML.sub("", "" if value is None else str(value))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def num(value: float) -> str:
    """Format a coordinate compactly."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def char_width(char: str, size: float = FONT_SIZE) -> float:
    """Estimate the advance width of one character; wide (CJK) glyphs take a full em."""
    if _wide(char):
        return size
    if char in "il.,:;'|!()[] ":
        return size * 0.3
    if char.isupper() or char in "mwMW@%":
        return size * 0.68
    return size * 0.54


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Estimate the rendered width of a line of text."""
    return sum(char_width(c, size) for c in text)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def wrap(text: str, width: float, *, size: float = FONT_SIZE, max_lines: int = 0) -> list[str]:
    """Break text into lines no wider than width, at spaces first; CJK may also break between characters."""
    lines: list[str] = []
    for paragraph in (text or "").replace("\r", "").split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, size) <= width:
                line = candidate
                continue
            if line and text_width(word, size) <= width:
                lines.append(line)
                line = word
                continue
            # The word is too long for any line: CJK fills the current line, other text starts a new one.
            if line and not _wide(word[0]):
                lines.append(line)
                line = ""
            line = f"{line} " if line else ""
            for char in word:
                if text_width(line + char, size) > width and line.strip():
                    lines.append(line.rstrip())
                    line = ""
                line += char
        lines.append(line)
    lines = [ln for ln in lines if ln.strip()] or [""]
    if max_lines and len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", size) > width:
            last = last[:-1]
        lines = lines[:max_lines - 1] + [last.rstrip() + "…"]
    return lines


def text_block(lines: list[str], cx: float, cy: float, *, cls: str = "fd-label", anchor: str = "middle",
               transform: str = "") -> str:
    """Return an SVG <text> of lines centred vertically on cy, anchored at cx."""
    if not any(lines):
        return ""
    first = cy - (len(lines) - 1) * LINE_HEIGHT / 2 + FONT_SIZE * 0.35
    spans = "".join(f'<tspan x="{num(cx)}" y="{num(first + i * LINE_HEIGHT)}">{esc(line)}</tspan>'
                    for i, line in enumerate(lines))
    extra = f' transform="{transform}"' if transform else ""
    return f'<text class="{cls}" text-anchor="{anchor}"{extra}>{spans}</text>'


def parse_time(value) -> datetime | None:
    """Read a datetime or ISO text; anything else gives None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def format_time(value) -> str:
    """Show a timestamp to the minute, with its zone when it has one."""
    moment = parse_time(value)
    if moment is None:
        return str(value or "")
    text = moment.strftime("%Y-%m-%d %H:%M")
    offset = moment.utcoffset()
    if offset is None:
        return text
    return text + (" UTC" if not offset else moment.strftime(" %z"))


_UNITS = {"en": ("s", "min", "h", "d"), "zh": ("秒", "分钟", "小时", "天")}


def format_duration(seconds, lang: str = "en") -> str:
    """Show a duration in the two largest useful units."""
    if seconds is None:
        return ""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return str(seconds)
    if value != value or value in (float("inf"), float("-inf")):
        return ""
    sec, mins, hours, days = _UNITS.get(lang.split("_")[0].split("-")[0].lower() if lang else "en", _UNITS["en"])
    total = max(0, int(round(value)))
    if total < 60:
        return f"{total} {sec}"
    if total < 3600:
        return f"{total // 60} {mins}"
    if total < 86400:
        rest = (total % 3600) // 60
        return f"{total // 3600} {hours}" + (f" {rest} {mins}" if rest else "")
    rest = (total % 86400) // 3600
    return f"{total // 86400} {days}" + (f" {rest} {hours}" if rest else "")


def localize(text: str | None, lang: str = "en") -> str:
    """Pick one language from a bilingual name written 'English / 中文'; other text is returned as is."""
    if not text or text.count(" / ") != 1:
        return text or ""
    english, chinese = (part.strip() for part in text.split(" / "))
    return chinese if str(lang).lower().startswith("zh") else english
