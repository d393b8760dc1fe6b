"""The flowdesk command: database, deployment, instances, tasks, worker and server."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .config import Settings


class CommandFailed(click.ClickException):
    """A command failed with a message for the user and exit status 1."""


def _database(settings: Settings):
    from database import Database
    from org.directory import install
    database = Database(settings.database_url)
    from search import sources
    install(database)  # assignment strategies (leader(), role(), ...) resolve against this org, as in the app
    sources.install()  # records and documents written here reach the search index, as in the app
    settings.install_store_key()  # blobs written or read here use the file store's at-rest keys, as in the app
    return database


def _actor(username: str, groups: str | None, settings: Settings | None = None):
    """Return the actor for --as: a known user's roles, department and groups, plus --groups."""
    from instances.actors import Actor
    if not username or not username.strip():
        raise CommandFailed("--as needs a user name")
    extra = frozenset(g.strip() for g in (groups or "").split(",") if g.strip())
    if settings is not None:
        from org import service as org
        with _database(settings).query() as session:
            user = org.get_user_by_name(session=session, username=username.strip())
            if user is not None:
                known = org.actor_for(user)
                return Actor(known.username, known.groups | extra, known.is_admin)
    return Actor(username.strip(), extra)


def _json_arg(text: str | None, option: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandFailed(f"{option} is not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(value, dict):
        raise CommandFailed(f"{option} must be a JSON object, like '{{\"amount\": 100}}'")
    return value


def _domain_call(func):
    """Run a domain command, turning its errors into one clear line and a non-zero exit."""
    from definitions.errors import DefinitionError
    from engine.errors import EngineError
    from instances.errors import InstanceError
    try:
        return func()
    except (DefinitionError, InstanceError) as exc:
        detail = exc.details.get("message") if isinstance(exc.details, dict) else None
        raise CommandFailed(exc.message if not detail or detail in exc.message else f"{exc.message}") from None
    except EngineError as exc:
        raise CommandFailed(str(exc)) from None


@click.group()
@click.pass_context
def main(ctx):
    """Flowdesk: process-centric CRM and office automation."""
    ctx.obj = Settings.from_env()


@main.group()
def db():
    """Manage the database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings):
    """Create or upgrade the database schema in place."""
    from database.migrate import current_revision, upgrade
    database = _database(settings)
    before = current_revision(database)
    upgrade(database)
    after = current_revision(database)
    click.echo(f"database at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    created = _install_core_types(database)
    if created:
        click.echo(f"record types installed: {', '.join(created)}")
    _index_existing(database)


def _index_existing(database) -> None:
    """Fill an empty search index from what a database upgraded from before search already holds."""
    from sqlalchemy import exists, select

    from documents.models import DocDocument
    from records.models import Record
    from search import sources
    from search.models import SearchEntry
    with database.query() as session:
        empty = not session.scalar(select(exists().where(SearchEntry.id.isnot(None))))
        has_content = session.scalar(select(exists().where(Record.id.isnot(None)))) or \
            session.scalar(select(exists().where(DocDocument.id.isnot(None))))
    if empty and has_content:
        click.echo("building the search index for the existing documents and records ...")
        with database.command() as session:
            counts = sources.reindex(session, progress=lambda kind, done, total: click.echo(
                f"  {kind}s: {done}/{total}") if done == total or done % 2000 == 0 else None)
        click.echo(f"search index: {counts['document']} document(s), {counts['record']} record(s)")


def _install_core_types(database) -> list[str]:
    from org.grants import install_default_grants
    from records import service as records
    with database.command() as session:
        install_default_grants(session=session)
        return records.install_core_types(session=session)


def deploy_path(settings: Settings, path: Path, actor: str | None) -> list[str]:
    """Deploy one folder, file or zip; return lines describing the outcome."""
    from definitions import bundle
    from definitions import service as definitions
    database = _database(settings)
    files = _domain_call(lambda: bundle.read_path(path))
    with database.command() as session:
        version, created = _domain_call(lambda: definitions.deploy(session=session, files=files, actor=actor))
        lines = [f"{version.key} v{version.version} " + ("deployed" if created else "unchanged")
                 + ("" if version.executable else " (documentation only: no executable process)")]
        for issue in version.report.get("issues", []):
            lines.append(f"  {issue['severity']}: {issue.get('file') or ''} "
                         f"element '{issue.get('element_id')}': {issue['reason']}")
    return lines


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--as", "username", default=None, help="Who deploys (recorded on the version).")
@click.pass_obj
def deploy(settings: Settings, path: Path, username: str | None):
    """Deploy a process folder in bpmn/, a .bpmn file or a .zip archive."""
    for line in deploy_path(settings, path, username):
        click.echo(line)


@main.command()
@click.argument("key")
@click.option("--as", "username", required=True, help="The user who starts the process.")
@click.option("--groups", default=None, help="Comma-separated groups of the user.")
@click.option("--data", default=None, help="Start data as a JSON object.")
@click.option("--business-key", default=None)
@click.pass_obj
def start(settings: Settings, key: str, username: str, groups: str | None, data: str | None,
          business_key: str | None):
    """Start a process by its key."""
    from instances import service
    actor = _actor(username, groups, settings)
    payload = _json_arg(data, "--data")
    with _database(settings).command() as session:
        instance = _domain_call(lambda: service.start_instance(session=session, key=key, actor=actor, data=payload,
                                                               business_key=business_key))
        click.echo(f"started instance {instance.id} of {instance.definition_key} ({instance.status})")
        for item in service.list_open_work_items(session=session, instance_id=instance.id):
            click.echo(f"  task {item.id}: {item.name} -> {_who(item)}")


def _who(item) -> str:
    if item.assignee:
        return item.assignee
    names = item.candidate_users + [f"group:{g}" for g in item.candidate_groups]
    return "candidates " + ", ".join(names) if names else "unassigned"


@main.command()
@click.option("--as", "username", required=True, help="Whose inbox to list.")
@click.option("--groups", default=None, help="Comma-separated groups of the user.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def tasks(settings: Settings, username: str, groups: str | None, as_json: bool):
    """List the open tasks of a user."""
    from instances import service
    actor = _actor(username, groups, settings)
    with _database(settings).query() as session:
        items = service.list_my_tasks(session=session, actor=actor)
        rows = [{"id": i.id, "instance": i.instance_id, "name": i.name, "element": i.element_id,
                 "assignee": i.assignee, "due": i.due_at.isoformat() if i.due_at else None,
                 "priority": i.priority} for i in items]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"no open tasks for {username}")
    for row in rows:
        click.echo(f"{row['id']:>6}  instance {row['instance']:<6} {row['name']}"
                   + (f"  due {row['due']}" if row["due"] else "") + ("" if row["assignee"] else "  (claimable)"))


@main.command()
@click.argument("task_id", type=int)
@click.option("--as", "username", required=True, help="The user who completes the task.")
@click.option("--groups", default=None, help="Comma-separated groups of the user.")
@click.option("--data", default=None, help="Form data as a JSON object.")
@click.option("--decision", default=None, help="approve or reject.")
@click.option("--comment", default=None)
@click.pass_obj
def complete(settings: Settings, task_id: int, username: str, groups: str | None, data: str | None,
             decision: str | None, comment: str | None):
    """Complete a task."""
    from instances import service
    actor = _actor(username, groups, settings)
    payload = _json_arg(data, "--data")
    with _database(settings).command() as session:
        instance = _domain_call(lambda: service.complete_task(session=session, work_item_id=task_id, actor=actor,
                                                              data=payload, decision=decision, comment=comment))
        click.echo(f"completed task {task_id}; instance {instance.id} is {instance.status}")
        for item in service.list_open_work_items(session=session, instance_id=instance.id):
            click.echo(f"  task {item.id}: {item.name} -> {_who(item)}")


@main.command()
@click.argument("instance_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(settings: Settings, instance_id: int, as_json: bool):
    """Show an instance: status, active tasks and history."""
    from engine.jsonsafe import to_json_safe
    from instances import service
    with _database(settings).query() as session:
        instance = _domain_call(lambda: service.get_instance_or_raise(session=session, instance_id=instance_id))
        items = service.list_open_work_items(session=session, instance_id=instance_id)
        history = service.list_history(session=session, instance_id=instance_id)
        doc = {
            "id": instance.id, "process": instance.definition_key, "status": instance.status,
            "initiator": instance.initiator, "business_key": instance.business_key,
            "started_at": instance.started_at, "ended_at": instance.ended_at,
            "next_wake_at": instance.next_wake_at, "incident": instance.incident, "data": instance.data,
            "tasks": [{"id": i.id, "name": i.name, "element": i.element_id, "assignee": i.assignee,
                       "candidates": i.candidate_users + i.candidate_groups} for i in items],
            "history": [{"at": h.at, "type": h.type, "element": h.element_id, "actor": h.actor,
                         "details": h.details} for h in history],
        }
    if as_json:
        click.echo(json.dumps(to_json_safe(doc), ensure_ascii=False, indent=2))
        return
    click.echo(f"instance {doc['id']} of {doc['process']}: {doc['status']} (started by {doc['initiator']})")
    if instance.incident:
        click.echo(f"  incident: {instance.incident.get('reason')}")
    click.echo("active tasks:" if items else "no active tasks")
    for task in doc["tasks"]:
        click.echo(f"  {task['id']}: {task['name']} [{task['element']}] -> "
                   f"{task['assignee'] or ', '.join(task['candidates']) or 'unassigned'}")
    click.echo("history:")
    for event in doc["history"]:
        extra = event["details"].get("flow") or event["details"].get("decision") or ""
        click.echo(f"  {event['at']:%Y-%m-%d %H:%M:%S}  {event['type']:<18} {event['element'] or '':<24} "
                   f"{event['actor'] or '':<12} {extra or ''}")


@main.command()
@click.argument("name")
@click.option("--as", "username", default="system", help="Who sends the message.")
@click.option("--data", default=None, help="Message payload as a JSON object.")
@click.option("--correlation", default=None,
              help='Correlation keys as JSON, e.g. \'{"order_key": {"order_id": "PO-1"}}\'; '
                   "derived from the payload when omitted.")
@click.pass_obj
def message(settings: Settings, name: str, username: str, data: str | None, correlation: str | None):
    """Send a message to the instance waiting for it, or start the process it starts."""
    from instances import messages
    actor = _actor(username, None)
    payload = _json_arg(data, "--data")
    keys = _json_arg(correlation, "--correlation") or None
    with _database(settings).command() as session:
        instance = _domain_call(lambda: messages.send_message(session=session, name=name, payload=payload,
                                                              correlations=keys, actor=actor))
        click.echo(f"message '{name}' delivered to instance {instance.id} ({instance.status})")


@main.command()
@click.pass_obj
def incidents(settings: Settings):
    """List instances the worker gave up on, with the element and the reason."""
    from instances import jobs
    with _database(settings).query() as session:
        rows = jobs.list_incidents(session=session)
        if not rows:
            click.echo("no incidents")
        for instance in rows:
            incident = instance.incident or {}
            click.echo(f"instance {instance.id} of {instance.definition_key}: element "
                       f"'{incident.get('element_id')}' after {incident.get('attempts')} attempts: "
                       f"{incident.get('reason')}")


@main.command()
@click.argument("instance_id", type=int)
@click.option("--as", "username", required=True, help="The administrator who retries.")
@click.pass_obj
def retry(settings: Settings, instance_id: int, username: str):
    """Put an instance in incident back to work; the worker tries it again at once."""
    from instances import jobs
    actor = _actor(username, None)
    with _database(settings).command() as session:
        _domain_call(lambda: jobs.retry_incident(session=session, instance_id=instance_id, actor=actor.username))
    click.echo(f"instance {instance_id} is running again; the worker retries it now")


@main.command()
@click.option("--once", is_flag=True, help="Run the due jobs once and exit.")
@click.pass_obj
def worker(settings: Settings, once: bool):
    """Run the background worker: due timers, retries, incidents, notices, email and webhooks."""
    runner = settings.make_worker(_database(settings))
    if once:
        click.echo(f"handled {runner.run_once()} due timer(s), message(s) and notice(s)")
        return
    runner.run_forever()


@main.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--no-worker", is_flag=True, help="Do not run the background worker in this process.")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, no_worker: bool):
    """Serve the web application (with the worker in the same process unless --no-worker)."""
    from .server import serve as run_server
    run_server(settings, host=host or settings.host, port=port or settings.port, with_worker=not no_worker)


@main.command("layout")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def layout(files: tuple[Path, ...]):
    """Add a diagram layout (BPMN DI) to BPMN files that have none, laid out automatically, in place."""
    from diagrams.di_writer import with_layout
    from diagrams.errors import DiagramError

    for path in files:
        try:
            before = path.read_bytes()
            after = with_layout(path.name, before)
        except (DiagramError, ValueError, UnicodeDecodeError) as exc:
            raise CommandFailed(f"{path}: {exc}") from None
        if after == before:
            click.echo(f"{path}: has a layout already")
        else:
            path.write_bytes(after)
            click.echo(f"{path}: layout added")


@main.group()
def search():
    """Look after the search index."""


@search.command("reindex")
@click.pass_obj
def search_reindex(settings: Settings):
    """Rebuild the search index from every document and record (after a restore or a dictionary update)."""
    from search import sources

    def progress(kind: str, done: int, total: int) -> None:
        click.echo(f"  {kind}s: {done}/{total}")

    with _database(settings).command() as session:
        counts = sources.reindex(session, progress=progress)
    click.echo(f"search index rebuilt: {counts['document']} document(s), {counts['record']} record(s) and "
               f"article(s); {counts['removed']} stale entr{'y' if counts['removed'] == 1 else 'ies'} removed")


@main.group()
def docs():
    """Generate the documentation derived from the shipped processes."""


@docs.command("processes")
@click.option("--check", is_flag=True, help="Write nothing; fail, listing them, when pages are missing or stale.")
def docs_processes(check: bool):
    """Write docs/processes/<key>.md and <key>.svg for every process in bpmn/: diagram, steps, roles, forms."""
    from . import process_docs

    pages = process_docs.generate()
    where = process_docs.display_path(process_docs.OUT_DIR)
    if check:
        problems = process_docs.differences(pages)
        if problems:
            raise CommandFailed(f"{where} does not match bpmn/ (run `flowdesk docs processes`):\n  "
                                + "\n  ".join(problems))
        click.echo(f"{where}: {len(pages)} files up to date")
        return
    written = process_docs.write(pages)
    for name in written:
        click.echo(f"wrote {where}/{name}")
    click.echo(f"{where}: {len(written)} file(s) written, {len(pages) - len(written)} unchanged")
    for problem in process_docs.differences(pages):
        click.echo(f"  {problem}")


@main.command()
@click.pass_obj
def demo(settings: Settings):
    """Upgrade the database, deploy every process in bpmn/ and load the demo organisation and requests."""
    from database.migrate import upgrade
    from org import demo as org_demo
    from org import demo_data

    database = _database(settings)
    upgrade(database)
    _install_core_types(database)
    _index_existing(database)
    for folder in sorted(p for p in settings.bpmn_dir.iterdir() if p.is_dir()):
        for line in deploy_path(settings, folder, "system"):
            click.echo(line)
    with database.command() as session:
        people = org_demo.load_demo(session=session)
    from records.demo import load_demo_leave_balances, load_demo_records
    with database.command() as session:
        customers = load_demo_records(session=session)
    if customers:
        click.echo(f"demo customers: {customers}, with contacts, contracts, orders, payments and a complaint")
    with database.command() as session:  # before the demo leave requests, which are checked against them
        balances = load_demo_leave_balances(session=session)
    if balances:
        click.echo(f"demo leave balances: {balances} (annual leave of everyone for this year and the next)")
    with database.command() as session:
        started = demo_data.load_demo_requests(session=session)
    from collab.calendar.demo import load_demo_events
    with database.command() as session:
        meetings = load_demo_events(session=session)
    if meetings:
        click.echo(f"demo calendar: {meetings} meetings, calls and visits this week")
    from .demo_customers import load_demo_customer_processes
    from .demo_documents import load_demo_documents
    from .demo_office import load_demo_office
    with database.command() as session:
        office = load_demo_office(session)
    with database.command() as session:
        office += load_demo_documents(session)
    with database.command() as session:
        customer_work = load_demo_customer_processes(session)
    if office or customer_work:
        click.echo(f"demo processes: {office} office requests (expenses, trips, overtime, purchases, loans, "
                   "documents, regulations, projects) and "
                   f"{customer_work} customer processes (complaints, leads, credit, service, contracts, care)")
    click.echo(f"demo organisation: {people} people" + (f"; {started} demo requests started" if started else ""))
    click.echo(f"demo logins (password '{org_demo.DEMO_PASSWORD}' for all):")
    for username, name, dept, _position, _superior, roles, _lang in org_demo.USERS[:6] + org_demo.USERS[8:10]:
        click.echo(f"  {username:<11} {name:<10} {dept:<9} {', '.join(roles)}")
    click.echo(f"  ... and {len(org_demo.USERS) - 8} more in the Organisation pages (sign in as admin)")


if __name__ == "__main__":
    sys.exit(main())
