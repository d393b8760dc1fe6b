"""The words of notices, emails and chat posts in English and Chinese, picked by the recipient's language."""
from __future__ import annotations

from html import escape

KIND_LABELS = {
    "task_assigned": ("New task", "新任务"),
    "task_claimed": ("Task taken by someone else", "任务已被他人认领"),
    "urged": ("Reminder from the requester", "催办"),
    "copied": ("For your information", "抄送"),
    "returned": ("Request returned", "申请被退回"),
    "approved": ("Request approved", "申请已通过"),
    "rejected": ("Request rejected", "申请被驳回"),
    "due_soon": ("Task due soon", "任务即将到期"),
    "overdue": ("Task overdue", "任务已超期"),
    "escalated": ("Task escalated", "任务已升级"),
    "mentioned": ("You were mentioned", "有人提到了你"),
    "record_assigned": ("Record assigned to you", "记录已分配给你"),
    "transferred": ("Task transferred to you", "任务转办给你"),
    "delegated": ("Task delegated", "任务委派"),
    "assisted": ("A colleague gave their input", "协办意见已提交"),
    "reminder": ("Reminder", "提醒"),
    "message": ("New message", "新消息"),
    "invited": ("Invitation", "日程邀请"),
    "invitation_reply": ("Reply to your invitation", "邀请回复"),
    "event_changed": ("Event changed", "日程已变更"),
    "event_cancelled": ("Event cancelled", "日程已取消"),
    "event_reminder": ("Coming up", "日程提醒"),
}
TEXT = {
    "open": ("Open in Flowdesk", "在 Flowdesk 中打开"),
    "from": ("From", "来自"),
    "comment": ("Comment", "意见"),
    "footer": ("You get this because of your notification settings in Flowdesk.",
               "你收到这封邮件是因为你在 Flowdesk 中的通知设置。"),
}


def is_chinese(language: str | None) -> bool:
    """Tell whether a user's language setting asks for Chinese."""
    return (language or "").lower().replace("-", "_").startswith("zh")


def kind_label(kind: str, language: str | None) -> str:
    """Return the name of a kind of notice in the language."""
    pair = KIND_LABELS.get(kind, (kind, kind))
    return pair[1] if is_chinese(language) else pair[0]


def _word(key: str, language: str | None) -> str:
    return TEXT[key][1 if is_chinese(language) else 0]


def in_language(text: str, language: str | None) -> str:
    """Pick the reader's half of each name written 'English / 中文' (task and process names are)."""
    def pick(part: str) -> str:
        if part.count(" / ") != 1:
            return part
        english, chinese = (half.strip() for half in part.split(" / "))
        return chinese if is_chinese(language) else english
    return " · ".join(pick(part) for part in (text or "").split(" · "))


def title(kind: str, subject: str, language: str | None) -> str:
    """Return the one-line title of a notice: its kind's label and what it is about, in the reader's language."""
    label = kind_label(kind, language)
    return f"{label}: {in_language(subject, language)}" if subject else label


def email_parts(*, kind: str, subject: str, body: str, actor: str | None, link: str,
                language: str | None) -> tuple[str, str, str]:
    """Return the subject, plain-text part and HTML part of a notice email."""
    heading = title(kind, subject, language)
    lines = [heading, ""]
    if actor:
        lines.append(f"{_word('from', language)}: {actor}")
    if body:
        lines += [f"{_word('comment', language)}: {body}" if kind != "message" else body]
    if link:
        lines += ["", f"{_word('open', language)}: {link}"]
    lines += ["", "--", _word("footer", language)]
    html = [f"<h2 style=\"font-size:16px\">{escape(heading)}</h2>"]
    if actor:
        html.append(f"<p>{escape(_word('from', language))}: {escape(actor)}</p>")
    if body:
        html.append("<p>" + escape(body).replace("\n", "<br>") + "</p>")
    if link:
        html.append(f"<p><a href=\"{escape(link, quote=True)}\">{escape(_word('open', language))}</a></p>")
    html.append(f"<p style=\"color:#777;font-size:12px\">{escape(_word('footer', language))}</p>")
    document = ("<!doctype html><html><body style=\"font-family:sans-serif\">" + "".join(html)
                + "</body></html>")
    return f"[Flowdesk] {heading}", "\n".join(lines) + "\n", document


def chat_text(*, kind: str, subject: str, body: str, people: list[str], link: str) -> tuple[str, str]:
    """Return the title and markdown text of a chat post (bilingual: a team chat mixes languages)."""
    heading = f"{kind_label(kind, 'en')} / {kind_label(kind, 'zh')}: {subject}" if subject else \
        f"{kind_label(kind, 'en')} / {kind_label(kind, 'zh')}"
    lines = [f"**{heading}**"]
    if people:
        lines.append("@" + " @".join(people))
    if body:
        lines.append(body)
    if link:
        lines.append(f"[Flowdesk]({link})")
    return heading, "\n\n".join(lines)
