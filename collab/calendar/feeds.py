"""Secret subscription links to a person's calendar: made, used and revoked; only a hash is stored."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from database.base import utcnow
from org.models import User

from ..errors import NotFound
from .models import CalendarFeed

MAX_FEEDS = 10


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_feed(*, session: Session, username: str) -> tuple[CalendarFeed, str]:
    """Make a new subscription link for a person; the token is returned once and never stored."""
    live = list_feeds(session=session, username=username)
    if len(live) >= MAX_FEEDS:
        # A calendar app that lost its link gets a new one; the oldest unused one goes.
        live[-1].revoked_at = utcnow()
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(username=username, token_hash=_hash(token), created_at=utcnow())
    session.add(feed)
    session.flush()
    return feed, token


def list_feeds(*, session: Session, username: str) -> list[CalendarFeed]:
    """Return a person's live subscription links, newest first."""
    return list(session.scalars(select(CalendarFeed).where(CalendarFeed.username == username,
                                                           CalendarFeed.revoked_at.is_(None))
                                .order_by(CalendarFeed.id.desc())))


def revoke_feed(*, session: Session, username: str, feed_id) -> CalendarFeed:
    """Revoke one of a person's links: calendar apps using it get nothing from then on."""
    feed = session.get(CalendarFeed, feed_id) if isinstance(feed_id, int) and 0 < feed_id < 2**31 else None
    if feed is None or feed.username != username or feed.revoked_at is not None:
        raise NotFound(f"no subscription link {feed_id}", details={"id": feed_id})
    feed.revoked_at = utcnow()
    session.flush()
    return feed


def owner_of(*, session: Session, token: str) -> str | None:
    """Return whose calendar a token opens (an active person's, link not revoked), noting its use."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token),
                                                     CalendarFeed.revoked_at.is_(None)))
    if feed is None:
        return None
    user = session.scalar(select(User).where(User.username == feed.username))
    if user is None or not user.active:
        return None
    feed.last_used_at = utcnow()
    return feed.username


