"""Demo customers and their records, in Chinese and English, that `scripts/run` loads with the organisation."""
from __future__ import annotations

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
CONTACTS = [  # customer index, name, title, mobile, email
    (0, "陈建国", "采购经理", "13800138001", "chen.jg@huadong.example"),
    (0, "林晓燕", "财务主管", "13800138002", "lin.xy@huadong.example"),
    (1, "黄志强", "运营总监", "13900139001", "huang.zq@szretail.example"),
    (2, "Jonas Weber", "Head of Purchasing", "+49 40 5550101", "j.weber@acme.example"),
    (4, "Priya Nair", "Facilities Director", "+65 6555 0199", "priya.nair@blueharbor.example"),
]


def load_demo_records(*, session: Session) -> int:
    """Create the demo customers with contacts, contracts, orders, payments, a complaint and an article, once."""
    if session.scalar(select(func.count()).select_from(Record)):
        return 0
    ids = []
    for name, industry, level, status, region, credit, manager in CUSTOMERS:
        record = create_record(session=session, type_key="customer", actor=Actor(manager), data={
            "name": name, "industry": industry, "level": level, "status": status, "region": region,
            "credit_limit": credit, "account_manager": manager})
        ids.append(record.id)
    for index, name, title, mobile, email in CONTACTS:
        owner = Actor(CUSTOMERS[index][6])
        create_record(session=session, type_key="contact", actor=owner, data={
            "name": name, "customer": ids[index], "title": title, "mobile": mobile, "email": email,
            "primary": True})
    wang, emma = Actor("wang.fang"), Actor("emma.chen")
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
    create_record(session=session, type_key="contract", actor=emma, data={
        "number": "CT-2026-0031", "name": "Ward equipment framework agreement", "customer": ids[4],
        "amount": "1200000.00", "signed_on": "2026-06-20", "status": "signed"})
    create_record(session=session, type_key="knowledge_article", actor=Actor("hu.yan"), data={
        "title": "液压系统漏油的排查步骤", "category": "售后维修", "keywords": "液压 漏油 密封圈",
        "body": "<p>先确认油位和油温，再检查密封圈和管接头。</p>", "status": "published", "public": True})
    return len(ids)
