"""The Flask application factory."""
from __future__ import annotations

from flask import Flask, jsonify, render_template
from sqlalchemy import func, select

from database import Database

from .config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Create the web application for the given settings."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=str(settings.bpmn_dir.parent / "templates"))
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=settings.testing)
    app.extensions["flowdesk.settings"] = settings
    database = Database(settings.database_url)
    app.extensions["flowdesk.database"] = database

    @app.get("/healthz")
    def health():
        with database.query() as session:
            session.execute(select(1))
        return jsonify(status="ok")

    @app.get("/")
    def index():
        from definitions.models import DefinitionVersion
        from instances.models import ProcessInstance, WorkItem
        with database.query() as session:
            definitions = list(session.scalars(
                select(DefinitionVersion).order_by(DefinitionVersion.key, DefinitionVersion.version.desc())))
            counts = dict(session.execute(select(ProcessInstance.status, func.count())
                                          .group_by(ProcessInstance.status)).all())
            open_tasks = session.scalar(select(func.count()).select_from(WorkItem)
                                        .where(WorkItem.status == "open"))
        return render_template("home/index.html", definitions=definitions, counts=counts, open_tasks=open_tasks)

    return app
