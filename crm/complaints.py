"""Complaints a customer registers on the portal: run through complaint_handling, followed on their records.

A portal account acts for its company (its `portal_record_id`). It starts the same process staff start,
with the company as the customer and the channel "portal"; the staff steps that answer and survey the
customer go to a *registrar*, a staff member chosen here, because the portal account must never hold a
task. What the account reads back is the complaint record of its company, its status changes and its own
evidence files: never the work items, the process history or the staff's notes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from attachments.models import Attachment
from definitions import service as definitions
from definitions.errors import DefinitionError
from definitions.models import DefinitionVersion
from forms import schema as forms
from instances import service as instances
from instances.actors import SYSTEM, Actor
from instances.assignment import HUMAN_TASK_TYPES
from instances.models import ProcessInstance, WorkItem
from org import service as org
from org.models import User
from records import fields as record_fields
from records import service as records
from records.errors import NotFound as RecordNotFound
from records.lookups import RecordLookups
from records.models import Record, RecordChange, RecordProcess
from records.query import Filter, Page

from .errors import ComplaintNotFound, ComplaintsUnavailable, NotACustomer

PROCESS_KEY = "complaint_handling"
CHANNEL = "portal"
SEVERITIES = ("minor", "major", "critical")
CATEGORIES = ("product", "service", "delivery", "billing", "other")
OPEN_STATUSES = ("registered", "assigned", "handling")  # a deadline still runs while the complaint is in these
CUSTOMER_FIELDS = ("subject", "category", "severity", "description", "expectation", "contact", "files")
MAX_CONTACTS = 200


@dataclass
class ComplaintView:
    """What a portal account may read of one of its company's complaints."""

    record: Record
    data: dict
    due_at: datetime | None
    timeline: list[tuple[str, datetime]]
    expectation: str | None = None
    files: list[Attachment] = field(default_factory=list)


def company_customer(*, session: Session, company_id: int | None) -> Record:
    """Return the live customer record a portal account acts for, or raise NotACustomer."""
    found = session.get(Record, company_id) if isinstance(company_id, int) else None
    if (found is None or found.deleted_at is not None
            or records.type_by_id(session=session, type_id=found.type_id).key != "customer"):
        raise NotACustomer("this portal account does not belong to a customer's record",
                           details={"record": company_id})
    return found


def company_contacts(*, session: Session, actor: Actor, company_id: int) -> list[tuple[int, str]]:
    """Return (id, name) of the contacts of the company the actor may read (their portal's contact module)."""
    _view, page = records.list_records(session=session, type_key="contact", actor=actor, sort="title",
                                       filters=[Filter("customer", "eq", company_id)], page_size=MAX_CONTACTS)
    return [(int(r.id), r.title or f"#{r.id}") for r in page.items if (r.data or {}).get("customer") == company_id]


def list_complaints(*, session: Session, actor: Actor, company_id: int, page: int = 1,
                    page_size: int = 25) -> tuple[Page, dict[int, datetime | None]]:
    """Return one page of the company's complaints, newest first, and the deadline each open one works to."""
    _view, found = records.list_records(session=session, type_key="complaint", actor=actor, sort="-created_at",
                                        filters=[Filter("customer", "eq", company_id)], page=page,
                                        page_size=page_size)
    return found, _deadlines(session, found.items)


def get_complaint_or_raise(*, session: Session, actor: Actor, company_id: int, record_id: int) -> ComplaintView:
    """Return what the actor may read of one complaint of its company, or raise ComplaintNotFound."""
    try:
        found, view = records.get_record_or_raise(session=session, record_id=record_id, actor=actor,
                                                  type_key="complaint")
    except RecordNotFound:
        found, view = None, None
    if found is None or (found.data or {}).get("customer") != company_id:
        raise ComplaintNotFound(f"no complaint {record_id} of this company", details={"id": record_id})
    changes = session.scalars(select(RecordChange).where(RecordChange.record_id == found.id)
                              .order_by(RecordChange.id))
    # Only the status moves: who changed what, and the process steps behind them, stay with the staff.
    timeline = [(str(c.changes["status"][1]), c.at) for c in changes
                if isinstance((c.changes or {}).get("status"), list) and c.changes["status"][1]]
    started = _creating_instance(session, found.id)
    expectation = (started.data or {}).get("expectation") if started is not None else None
    files = list(session.scalars(select(Attachment).where(Attachment.instance_id == started.id,
                                                          Attachment.created_by == actor.username)
                                 .order_by(Attachment.id))) if started is not None else []
    return ComplaintView(found, record_fields.visible_data(view, actor, found.data or {}),
                         _deadlines(session, [found]).get(found.id), timeline,
                         expectation if isinstance(expectation, str) and expectation else None, files)


def get_file_or_raise(*, session: Session, actor: Actor, company_id: int, record_id: int,
                      attachment_id: int) -> Attachment:
    """Return an evidence file the actor sent with one of its company's complaints, or raise ComplaintNotFound."""
    complaint = get_complaint_or_raise(session=session, actor=actor, company_id=company_id, record_id=record_id)
    for attachment in complaint.files:
        if attachment.id == attachment_id:
            return attachment
    raise ComplaintNotFound(f"no file {attachment_id} on complaint {record_id}", details={"id": attachment_id})


def check_portal_ready(*, session: Session, department: str) -> DefinitionVersion:
    """Return the complaint process a portal start runs, or raise ComplaintsUnavailable saying what is missing."""
    try:
        version = definitions.get_startable_or_raise(session=session, key=PROCESS_KEY)
    except DefinitionError:
        raise ComplaintsUnavailable(f"the process {PROCESS_KEY} is not deployed",
                                    details={"reason": "process_missing", "key": PROCESS_KEY}) from None
    unsafe = steps_for_the_initiator(version.elements)
    if unsafe:
        # An older model answers the customer through ${initiator}: on the portal that is the customer itself.
        raise ComplaintsUnavailable(f"the deployed {PROCESS_KEY} version {version.version} could give the portal "
                                    f"account a task at {', '.join(unsafe)}; deploy the shipped model",
                                    details={"reason": "process_unsafe", "steps": unsafe})
    if org.get_unit(session=session, kind="department", code=department) is None:
        raise ComplaintsUnavailable(f"there is no department '{department}' to handle portal complaints",
                                    details={"reason": "department_missing", "department": department})
    return version


def steps_for_the_initiator(elements: dict | None) -> list[str]:
    """Return the human steps of a model that could hand a task to whoever started it, in id order."""
    risky = []
    for element_id, info in sorted((elements or {}).items()):
        if info.get("type") not in HUMAN_TASK_TYPES:
            continue
        props = info.get("properties") or {}
        texts = [info.get("assignee") or "", *(info.get("candidate_users") or []),
                 *(info.get("candidate_groups") or [])]
        # Named in the assignment, the fallback when nobody is found (its default), or a send-back to the start.
        if (any("initiator" in str(text) for text in texts)
                or str(props.get("flowdesk.onNoAssignee") or "initiator").strip() == "initiator"
                or str(props.get("flowdesk.returnTo") or "any").strip() != "none"
                or str(props.get("flowdesk.onReject") or "").strip() == "initiator"):
            risky.append(element_id)
    return risky


def registrar_for(*, session: Session, customer: Record, department: str) -> str | None:
    """Return the staff member who answers and surveys a portal complaint of this customer.

    The customer's account manager (its account_manager field, else the record's owner) when that is an
    active staff user; otherwise the leader of the department (or of the nearest department above it with
    an active leader). None when nobody qualifies: the model's onNoAssignee then gives the steps to admins.
    """
    for name in ((customer.data or {}).get("account_manager"), customer.owner):
        user = org.get_user_by_name(session=session, username=name) if isinstance(name, str) and name else None
        if _active_staff(user):
            return user.username
    unit = org.get_unit(session=session, kind="department", code=department)
    seen: set[int] = set()
    while unit is not None and unit.id not in seen:
        seen.add(unit.id)
        if _active_staff(unit.leader):
            return unit.leader.username
        unit = unit.parent
    return None


def register_complaint(*, session: Session, actor: Actor, company_id: int, details: dict,
                       department: str) -> ProcessInstance:
    """Start complaint handling for a portal account's complaint; raise FormError or ComplaintsUnavailable.

    `details` holds what the customer says (CUSTOMER_FIELDS); the company, the channel, the responsible
    department and the registrar are set here. Nothing is written when anything is refused: the caller's
    transaction rolls back.
    """
    customer = company_customer(session=session, company_id=company_id)
    version = check_portal_ready(session=session, department=department)
    given = {k: v for k, v in details.items() if k in CUSTOMER_FIELDS and v not in (None, "", [])}
    contact = given.get("contact")
    if contact is not None and contact not in {cid for cid, _name in company_contacts(
            session=session, actor=actor, company_id=company_id)}:
        raise forms.FormError({"contact": forms.FieldError("invalid", detail="not a contact of your company")})
    data = {**given, "customer": customer.id, "channel": CHANNEL, "responsible_department": department}
    schema = definitions.get_form(session=session, definition_id=version.id,
                                  form_key=definitions.start_form_key(version))
    if schema is not None:
        # The designer's start form has the last word, as on the staff's start page; the company and its
        # contact were checked above, so references are looked up as the process itself would.
        data = forms.validate(schema, data, lookups=RecordLookups(session, SYSTEM))
    registrar = registrar_for(session=session, customer=customer, department=department)
    return instances.start_instance(session=session, key=PROCESS_KEY, actor=actor,
                                    data={**data, "registrar": registrar})


def _active_staff(user: User | None) -> bool:
    return user is not None and user.status == "active" and (user.kind or "staff") == "staff"


def _creating_instance(session: Session, record_id: int) -> ProcessInstance | None:
    return session.scalar(select(ProcessInstance)
                          .join(RecordProcess, RecordProcess.instance_id == ProcessInstance.id)
                          .where(RecordProcess.record_id == record_id, RecordProcess.relation == "created")
                          .order_by(ProcessInstance.id).limit(1))


def _deadlines(session: Session, items: list[Record]) -> dict[int, datetime | None]:
    """Return, per open complaint, its due_at field, else the earliest due step of the process that made it."""
    out: dict[int, datetime | None] = {}
    waiting = []
    for item in items:
        data = item.data or {}
        if data.get("status") not in OPEN_STATUSES:
            continue
        stored = _moment(data.get("due_at"))
        if stored is not None:
            out[item.id] = stored
        else:
            waiting.append(item.id)
    if waiting:
        rows = session.execute(select(RecordProcess.record_id, WorkItem.due_at)
                               .join(WorkItem, WorkItem.instance_id == RecordProcess.instance_id)
                               .where(RecordProcess.record_id.in_(waiting), RecordProcess.relation == "created",
                                      WorkItem.status == "open", WorkItem.due_at.is_not(None)))
        for record_id, due in rows:
            if out.get(record_id) is None or due < out[record_id]:
                out[record_id] = due
    return out


def _moment(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
