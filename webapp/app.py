"""The Flask application factory: wires settings, extensions, blueprints and error handling."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, abort, g, jsonify, redirect, request, url_for
from flask_babel import format_datetime, gettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from database import Database
from database.base import MAX_ID
from diagrams.text import localize
from org import directory as org_directory
from search import sources as search_sources

from . import errors, i18n, users
from .config import PROJECT_ROOT, Settings
from .extensions import babel, bootstrap, csrf, login_manager

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


class IdConverter(IntegerConverter):
    """Werkzeug's int converter, bounded: a number no id column can hold is no route (404), not a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(settings: Settings | None = None) -> Flask:
    """Create the web application for the given settings."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"))
    app.config.update(
        SECRET_KEY=settings.secret_key, TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies, REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_DURATION=timedelta(days=14),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12), MAX_CONTENT_LENGTH=settings.max_upload_mb * 2**20,
        BOOTSTRAP_SERVE_LOCAL=True, WTF_CSRF_TIME_LIMIT=12 * 3600,
        WTF_CSRF_ENABLED=settings.csrf_enabled,
        BABEL_DEFAULT_LOCALE="en", BABEL_TRANSLATION_DIRECTORIES=str(i18n.TRANSLATIONS),
    )
    app.extensions["flowdesk.settings"] = settings
    database = Database(settings.database_url)
    app.extensions["flowdesk.database"] = database
    org_directory.install(database)  # assignment strategies (leader(), role(), ...) resolve against this org
    search_sources.install()  # documents and records index themselves as they change
    settings.install_store_key()  # every download reads the file store through its at-rest keys

    i18n.compile_catalogs()
    babel.init_app(app, locale_selector=i18n.select_locale)
    bootstrap.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        with database.query() as session:
            return users.load(session, int(user_id))

    # Before any route is added: every <int:...> in a path is bounded by what an id column can hold.
    app.url_map.converters["int"] = IdConverter
    _register_blueprints(app)
    errors.register(app)
    _register_helpers(app, database)
    return app


PORTAL_BLUEPRINTS = ("records", "auth", "bootstrap", "portal")


def _register_blueprints(app: Flask) -> None:
    from . import api
    from .views import (
        access_admin,
        admin,
        admin_categories,
        admin_filestore,
        admin_workcal,
        attendance,
        auth,
        calendar,
        calendar_feed,
        collab_messages,
        collab_notices,
        designer,
        documents,
        documents_admin,
        documents_files,
        documents_links,
        documents_preview,
        documents_protect,
        documents_settings,
        documents_upload,
        inbox,
        instances,
        outbox_admin,
        portal,
        printouts,
        processes,
        proxies,
        record_types,
        records,
        search,
        task_moves,
        tasks,
    )

    for module in (auth, inbox, processes, tasks, instances, designer, admin, proxies, records, record_types,
                   access_admin, collab_notices, collab_messages, outbox_admin, calendar, calendar_feed,
                   admin_workcal, admin_categories, admin_filestore, task_moves, search, printouts, documents, documents_files, documents_upload,
                   documents_admin, documents_preview, documents_protect, documents_links,
                   documents_settings, portal, attendance):
        app.register_blueprint(module.bp)
    # The API authenticates with bearer tokens, not the session cookie, so CSRF does not apply to it.
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)


def unread_counts(session, username: str) -> dict[str, int]:
    """Return the unread notifications and messages of a user, for the navigation badges."""
    from collab import notices
    from collab import service as messages
    return {"notifications": notices.unread_count(session=session, username=username),
            "messages": messages.unread_count(session=session, username=username)}


def _register_helpers(app: Flask, database: Database) -> None:
    from audit import service as audit

    @app.before_request
    def audit_origin():
        # Every audit entry written while this request runs names its address and signed-in user. An API call
        # has no signed-in user: the API names its token's holder once it has checked the token.
        api = request.blueprint == "api"
        username = current_user.username if not api and current_user.is_authenticated else ""
        g.audit_tokens = audit.set_origin(request.remote_addr or "", username)

    @app.before_request
    def portal_fence():
        # Portal accounts (customers, partners) see their records only: no inbox, processes or admin pages.
        if request.path.startswith("/api/") or not current_user.is_authenticated or not current_user.is_portal:
            return None  # the API keeps its own portal door
        endpoint = request.endpoint or ""
        if endpoint == "inbox.index":
            return redirect(url_for("records.index"))
        if endpoint == "records.new" and (request.view_args or {}).get("key") == "complaint":
            # A complaint from the portal runs through complaint handling; a bare record would reach nobody.
            if current_user.files_complaints:
                return redirect(url_for("portal.new_complaint"))
            abort(403)
        if endpoint.split(".", 1)[0] in PORTAL_BLUEPRINTS or endpoint in ("static", "health", "calendar_feed.feed"):
            return None
        abort(403)

    @app.teardown_request
    def audit_origin_done(_exc):
        tokens = g.pop("audit_tokens", None)
        if tokens is not None:
            audit.reset_origin(tokens)

    @app.get("/healthz")
    def health():
        with database.query() as session:
            session.execute(select(1))
        return jsonify(status="ok")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    @app.context_processor
    def navigation():
        from instances import inbox

        counts = {}
        if current_user.is_authenticated and not request.path.startswith("/api/"):
            if "nav_counts" not in g:
                with database.query() as session:
                    g.nav_counts = inbox.counts(session=session, actor=current_user.actor)
                    if not current_user.is_portal:
                        g.nav_counts = {**g.nav_counts, **unread_counts(session, current_user.username)}
            counts = g.nav_counts
        from database.base import utcnow

        return {"nav_counts": counts, "languages": i18n.LANGUAGES, "now_utc": utcnow()}

    # Globals, not context: imported macros (forms) see them too.
    app.jinja_env.globals["current_locale"] = i18n.select_locale
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions

    @app.template_filter("bi")
    def bilingual(text):
        """Show the current language's half of a name written 'English / 中文'."""
        return localize(text, i18n.select_locale())

    @app.template_filter("described")
    def described(version):
        """Show a process version's description in the current language."""
        return version.description_in(i18n.select_locale())

    @app.template_filter("when")
    def when(value, fmt="short"):
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("duration")
    def duration(seconds):
        if seconds is None:
            return ""
        seconds = int(seconds)
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes = rest // 60
        if days:
            return gettext("%(d)sd %(h)sh", d=days, h=hours)
        if hours:
            return gettext("%(h)sh %(m)smin", h=hours, m=minutes)
        return gettext("%(m)smin", m=max(minutes, 1) if seconds >= 60 else 0) if minutes else \
            gettext("%(s)ss", s=seconds)
