"""Demo customers and their records, in Chinese and English, that `scripts/run` loads with the organisation."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instances.actors import Actor

from .models import Record
from .records import create_record

CUSTOMERS = [  # name, industry, level, status, region, credit, manager
    ("华东机械有限公司", "manufacturing", "a", "active", "上海", "500000.00", "wang.fang"),
    ("深圳零售连锁集团", "retail", "b", "active", "深圳", "200000.00", "liu.yang"),
    ("Acme Trading GmbH", "retail", "b", "active", "Hamburg", "150000.00", "emma.chen"),
    ("北京启明教育科技", "education", "c", "prospect", "北京", "50000.00", "wang.fang"),
    ("Blue Harbor Hospital", "healthcare", "a", "active", "Singapore", "800000.00", "emma.chen"),
    ("成都云帆软件", "it", "c", "dormant", "成都", "30000.00", "liu.yang"),
]
CONTACTS = [  # customer index, name, title, mobile, email, primary contact
    (0, "陈建国", "采购经理", "13800138001", "chen.jg@huadong.example", True),
    (0, "林晓燕", "财务主管", "13800138002", "lin.xy@huadong.example", True),
    (1, "黄志强", "运营总监", "13900139001", "huang.zq@szretail.example", True),
    (2, "Jonas Weber", "Head of Purchasing", "+49 40 5550101", "j.weber@acme.example", True),
    (4, "Priya Nair", "Facilities Director", "+65 6555 0199", "priya.nair@blueharbor.example", True),
    (2, "Katrin Hoffmann", "Accounts Payable Manager", "+49 40 5550117", "k.hoffmann@acme.example", False),
    (4, "Daniel Tan", "Biomedical Engineering Manager", "+65 6555 0142", "daniel.tan@blueharbor.example", False),
]
# Acme's first order of till hardware for its Hamburg stores: item, quantity, unit price (CNY), amount.
ACME_ORDER_LINES = [
    ("PT-500 point-of-sale terminal, EU version", 40, "2800.00", "112000.00"),
    ("RP-80 thermal receipt printer", 40, "450.00", "18000.00"),
    ("Installation and cashier training, Hamburg stores", 1, "12000.00", "12000.00"),
]


def load_demo_records(*, session: Session) -> int:
    """Create the demo customers with contacts, contracts, orders, payments, complaints and an article, once."""
    if session.scalar(select(func.count()).select_from(Record)):
        return 0
    ids = []
    for name, industry, level, status, region, credit, manager in CUSTOMERS:
        record = create_record(session=session, type_key="customer", actor=Actor(manager), data={
            "name": name, "industry": industry, "level": level, "status": status, "region": region,
            "credit_limit": credit, "account_manager": manager})
        ids.append(record.id)
    contacts = []
    for index, name, title, mobile, email, primary in CONTACTS:
        owner = Actor(CUSTOMERS[index][6])
        contact = create_record(session=session, type_key="contact", actor=owner, data={
            "name": name, "customer": ids[index], "title": title, "mobile": mobile, "email": email,
            "primary": primary})
        contacts.append(contact.id)
    wang, emma = Actor("wang.fang"), Actor("emma.chen")
    # Acme's order comes first: SO-2026-0147 stays the newest demo order, which the process tests rely on.
    _load_acme_order(session, customer=ids[2], contact=contacts[3])
    contract = create_record(session=session, type_key="contract", actor=wang, data={
        "number": "HT-2026-0012", "name": "数控设备年度维保合同", "customer": ids[0], "amount": "360000.00",
        "signed_on": "2026-03-01", "start_on": "2026-03-01", "end_on": "2027-02-28", "status": "executing"})
    create_record(session=session, type_key="order", actor=wang, data={
        "number": "SO-2026-0147", "customer": ids[0], "contract": contract.id, "ordered_on": "2026-10-12",
        "status": "confirmed", "total": "48600.00", "lines": [
            {"item": "主轴轴承", "quantity": 6, "unit_price": "3600.00", "amount": "21600.00"},
            {"item": "液压密封组件", "quantity": 30, "unit_price": "900.00", "amount": "27000.00"}]})
    create_record(session=session, type_key="payment", actor=wang, data={
        "direction": "receivable", "customer": ids[0], "contract": contract.id, "amount": "90000.00",
        "due_on": "2026-12-15", "status": "planned", "invoice_number": "FP-2026-3321"})
    create_record(session=session, type_key="complaint", actor=Actor("ma.chao"), data={
        "subject": "设备交付延迟两周", "customer": ids[0], "severity": "major", "category": "delivery",
        "status": "handling", "description": "客户反映 SO-2026-0147 的交货比约定晚了两周，影响产线排期。",
        "responsible": "xu.hui"})
    framework = create_record(session=session, type_key="contract", actor=emma, data={
        "number": "CT-2026-0031", "name": "Ward equipment framework agreement", "customer": ids[4],
        "amount": "1200000.00", "signed_on": "2026-06-20", "status": "signed"})
    _load_blue_harbor_payments(session, customer=ids[4], contract=framework.id)
    create_record(session=session, type_key="knowledge_article", actor=Actor("hu.yan"), data={
        "title": "液压系统漏油的排查步骤", "category": "售后维修", "keywords": "液压 漏油 密封圈",
        "body": "<p>先确认油位和油温，再检查密封圈和管接头。</p>", "status": "published", "public": True})
    return len(ids)


def _load_acme_order(session: Session, *, customer: int, contact: int) -> None:
    """Acme's delivered till order, half paid, and its complaint about the missing power cords."""
    emma = Actor("emma.chen")
    order = create_record(session=session, type_key="order", actor=emma, data={
        "number": "SO-2026-0139", "customer": customer, "ordered_on": "2026-09-22", "delivery_on": "2026-10-27",
        "status": "delivered", "total": "142000.00",
        "lines": [{"item": item, "quantity": quantity, "unit_price": price, "amount": amount}
                  for item, quantity, price, amount in ACME_ORDER_LINES],
        "notes": "Shipped FOB Shanghai; the customer's forwarder handles import clearance in Hamburg."})
    create_record(session=session, type_key="payment", actor=emma, data={
        "direction": "receivable", "customer": customer, "order": order.id, "amount": "142000.00",
        "due_on": "2026-12-11", "paid_on": "2026-11-20", "paid_amount": "71000.00", "status": "partly_paid",
        "invoice_number": "INV-2026-0452",
        "notes": "Net 45 days from delivery. The second half is due once the stores sign the site acceptance."})
    create_record(session=session, type_key="complaint", actor=Actor("ma.chao"), data={
        "subject": "Receipt printers delivered without EU power cords", "customer": customer, "contact": contact,
        "severity": "minor", "category": "delivery", "status": "resolved", "responsible": "ma.chao",
        "description": "Order SO-2026-0139 reached the Hamburg warehouse on 27 October with 40 RP-80 printers but "
                       "no power cords, so two stores could not open with the new tills as planned.",
        "resolution": "Forty EU power cords went out by express courier on 29 October and arrived on 31 October. "
                      "The packing list for EU orders now shows the cords as a line of their own."})


def _load_blue_harbor_payments(session: Session, *, customer: int, contract: int) -> None:
    """The framework agreement's advance, received, and its delivery instalment, planned."""
    emma = Actor("emma.chen")
    create_record(session=session, type_key="payment", actor=emma, data={
        "direction": "receivable", "customer": customer, "contract": contract, "amount": "360000.00",
        "due_on": "2026-07-20", "paid_on": "2026-07-16", "paid_amount": "360000.00", "status": "paid",
        "invoice_number": "INV-2026-0418", "notes": "30% advance on signature (clause 5.1), paid by bank transfer."})
    create_record(session=session, type_key="payment", actor=emma, data={
        "direction": "receivable", "customer": customer, "contract": contract, "amount": "480000.00",
        "due_on": "2027-01-29", "status": "planned", "invoice_number": "INV-2026-0467",
        "notes": "40% on delivery and acceptance of the ward 7 and ward 8 equipment (clause 5.2)."})


# Annual leave by position, as Chinese law sets it by years of service (5, 10 or 15 days); the demo gives the
# longer-serving positions more. Time off in lieu starts empty: approved overtime credits it.
ANNUAL_DAYS = {"gm": 15, "director": 10, "manager": 10}
HR_OWNER = "zhou.min"


def load_demo_leave_balances(*, session: Session, years: tuple[int, ...] | None = None,
                             days: float | None = None) -> int:
    """Give every active staff member of the demo organisation annual leave for some years, once.

    The years default to this one and the next; `days` gives everyone the same entitlement instead of the
    one of their position.
    """
    from org.models import Position, User

    from .attendance import BALANCE, in_use
    from .models import RecordType

    if not in_use(session, BALANCE) or session.scalar(
            select(func.count()).select_from(Record).join(RecordType, RecordType.id == Record.type_id)
            .where(RecordType.key == BALANCE)):
        return 0
    hr = Actor(HR_OWNER, is_admin=True)
    people = session.execute(select(User.username, User.display_name, Position.code)
                             .outerjoin(Position, Position.id == User.position_id)
                             .where(User.status == "active", User.kind == "staff").order_by(User.username))
    years = years or (date.today().year, date.today().year + 1)
    created = 0
    for username, name, position in people:
        for each in years:
            create_record(session=session, type_key=BALANCE, actor=hr, owner=HR_OWNER, data={
                "title": f"{name} · {each} · 年假 Annual leave", "employee": username, "year": each,
                "leave_type": "annual", "entitled_days": days if days is not None else ANNUAL_DAYS.get(position or "", 5),
                "used_days": 0})
            created += 1
    return created
