"""Demo customer processes: complaints, leads, credit, service requests, contracts and care plans in many states.

`load_demo_customer_processes` expects the demo organisation (org.demo), the demo customers (records.demo), the
shipped bundles in bpmn/ deployed and the organisation directory installed (the CLI does all of these), so the
assignment strategies find people. It adds three demo leads and the service desk's two English knowledge
articles (one public, one internal) that the English requests are answered from. A process that is not deployed
is left out.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from database.base import utcnow
from definitions import service as definitions
from definitions.errors import DefinitionError
from forms import schema as forms
from instances import returns, service
from instances.actors import Actor
from instances.models import ProcessInstance, WorkItem
from org import service as org
from records.models import Record, RecordType
from records.records import create_record

KEYS = ("complaint_handling", "lead_conversion", "credit_assessment", "service_request_kb",
        "contract_to_receivable", "customer_care")
START_FORMS = {"complaint_handling": "complaint_form.json", "lead_conversion": "lead_form.json",
               "credit_assessment": "credit_form.json", "service_request_kb": "request_form.json",
               "contract_to_receivable": "contract_form.json", "customer_care": "plan_form.json"}
HUADONG, SHENZHEN, ACME, QIMING, BLUE_HARBOR, YUNFAN = ("华东机械有限公司", "深圳零售连锁集团", "Acme Trading GmbH",
                                                       "北京启明教育科技", "Blue Harbor Hospital", "成都云帆软件")
LEADS = [  # owner, company, contact, phone, email, source, estimated amount
    ("wang.fang", "苏州精工模具有限公司", "周凯", "0512-66880001", "zhou.kai@sz-jinggong.example", "exhibition", "120000.00"),
    ("emma.chen", "Nordlicht Kliniken AG", "Dr. Lena Vogel", "+49 30 5550199", "l.vogel@nordlicht.example", "website",
     "560000.00"),
    ("liu.yang", "广州华彩印务", "梁伟", "020-38880123", "liang.wei@huacai.example", "referral", "80000.00"),
]
MONITOR_ARTICLE = "BM-12 ward monitors: false 'SpO2 probe off' alarms"
INVOICE_ARTICLE = "Issuing English and bilingual invoices for overseas customers"
ARTICLES = [  # author, title, category, keywords, body, public
    ("hu.yan", MONITOR_ARTICLE, "After-sales repair", "BM-12 monitor SpO2 probe off alarm cable",
     "<p>Symptom: a BM-12 monitor raises the <em>SpO2 probe off</em> alarm although the probe is on the patient's "
     "finger.</p><ol><li>Push the probe cable fully into the SpO2 socket until it clicks.</li>"
     "<li>Clean the sensor window with an alcohol wipe and let it dry. Nail polish and strong lamps over the bed "
     "also disturb the reading.</li><li>Try a probe cable that works on another monitor. If the alarm stops, the "
     "first cable is worn at the connector: order spare part BM-SC-03.</li><li>If the alarm goes on with a good "
     "cable, note the serial number and the firmware version (Menu &gt; About) and escalate to the second "
     "line.</li></ol>", True),
    ("sun.li", INVOICE_ARTICLE, "Billing", "invoice English bilingual overseas export",
     "<p>Overseas customers need an invoice their accounts payable team can book without a translation.</p>"
     "<ol><li>Ask finance for a commercial invoice in English, or in Chinese and English, quoting the order "
     "number and the customer's company registration or VAT number.</li><li>Export sales carry no Chinese VAT: "
     "the invoice shows the net amount and the Incoterm, usually FOB Shanghai.</li><li>Invoice in CNY as the "
     "contract does; add the EUR or USD equivalent only when the customer asks, with the rate and its date."
     "</li><li>Email the PDF to the customer's accounts payable contact and attach it to the payment record."
     "</li></ol><p>Internal: do not send this page to customers.</p>", False),
]


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


APPROVE = {"decision": "approve"}
HANDLED = {"findings": "The monitors cleared customs in Singapore three days late, so the installation crew lost "
                       "its slot at the hospital.", "root_cause": "logistics",
           "solution": "A second crew installed all 24 monitors over the weekend; two extra days of nurse training "
                       "on site, free of charge."}
REPLY = {"reply_channel": "email", "replied_at": f"{_day(-1)}T16:00", "customer_response": "accepted",
         "reply": "Apologised to Priya Nair for the delay, confirmed that all 24 monitors are in service and offered "
                  "two extra training days."}
QUALIFY = {"attempt_kind": "visit", "attempt_at": f"{_day(-2)}T14:00", "outcome": "qualified", "level": "b",
           "attempt_summary": "上门演示后客户确认明年一季度采购"}


def _complaint(refs: dict, customer: str, subject: str, severity: str, category: str, text: str,
               channel: str = "phone") -> dict:
    return {"customer": refs[customer], "channel": channel, "subject": subject, "category": category,
            "severity": severity, "responsible_department": "service", "description": text}


def _credit(refs: dict, customer: str, limit: str, history: str = "good",
            reason: str = "客户扩大采购规模，现有额度不够周转") -> dict:
    return {"customer": refs[customer], "requested_limit": limit, "credit_days": 60, "payment_history": history,
            "reason": reason, "annual_revenue": "36000000.00", "net_profit": "2400000.00",
            "total_assets": "52000000.00", "total_liabilities": "23400000.00"}


def _contract(refs: dict, customer: str, number: int, due: int, lines: list[tuple[str, int, str]], *,
              prefix: str = "HT", name: str = "设备采购合同", amount: str = "500000.00",
              terms: str = "验收后按约定日期一次付清") -> dict:
    rows = [{"item": item, "quantity": qty, "unit_price": price} for item, qty, price in lines]
    return {"customer": refs[customer], "contract_number": f"{prefix}-2026-{number:04d}", "contract_name": name,
            "contract_amount": amount, "start_on": _day(-10), "end_on": _day(355),
            "order_number": f"SO-2026-{number:04d}", "delivery_on": _day(20), "lines": rows,
            "payment_due_on": _day(due), "terms": terms}


def _request(refs: dict, customer: str, subject: str, priority: str, text: str, channel: str = "phone") -> dict:
    return {"customer": refs[customer], "channel": channel, "priority": priority, "subject": subject,
            "description": text}


def _care(refs: dict, customer: str, responsible: str, occasion: str, sale: int) -> dict:
    return {"customer": refs[customer], "responsible": responsible, "occasion": occasion, "sale_date": _day(sale),
            "before_days": 3, "after_days": 7}


def r_article(refs: dict) -> int:
    """The demo knowledge article's id (a step's data may name a function of the record ids)."""
    return refs["article"]


def r_monitor_article(refs: dict) -> int:
    """The English article on false probe-off alarms."""
    return refs[MONITOR_ARTICLE]


# Each instance: process, initiator, start data from the record ids, then the steps taken: (element, person,
# data[, comment]), ("claim", person, element), ("return", person, element, comment) or ("overdue", element),
# which puts a step's due time in the past, as if the request had come in days ago.
Steps = list[tuple]
INSTANCES: list[tuple[str, str, Callable[[dict], dict], Steps]] = [
    ("complaint_handling", "hu.yan",
     lambda r: _complaint(r, SHENZHEN, "门店收银系统频繁死机", "major", "product", "三家门店的收银终端每天死机两三次。"), []),
    ("complaint_handling", "ma.chao",
     lambda r: _complaint(r, HUADONG, "数控机床主轴异响", "critical", "product", "新交付机床主轴高速运转时异响。"),
     [("dispatch", "xu.hui", {**APPROVE, "handler": "hu.yan", "dispatch_note": "今天联系客户"}), ("overdue", "handle")]),
    ("complaint_handling", "hu.yan",
     lambda r: _complaint(r, BLUE_HARBOR, "Late installation of ward monitors", "minor", "delivery",
                          "Installation started three days later than agreed."),
     [("dispatch", "xu.hui", {**APPROVE, "handler": "ma.chao"}), ("handle", "ma.chao", HANDLED),
      ("reply", "hu.yan", REPLY),
      ("survey", "hu.yan", {"survey_result": "done", "score": 4,
                            "feedback": "Quick and honest answer; the extra training was appreciated."})]),
    ("complaint_handling", "ma.chao",
     lambda r: _complaint(r, ACME, "Question about the manual", "minor", "other", "The customer asks how to reset it."),
     [("dispatch", "xu.hui", {"decision": "reject", "reject_reason": "使用咨询，已转服务请求处理"})]),
    ("complaint_handling", "hu.yan",
     lambda r: _complaint(r, ACME, "PT-500 terminals freeze during card payments", "major", "product",
                          "Since the firmware update on 20 November, six of the 40 PT-500 terminals in the Hamburg "
                          "stores freeze when a contactless card is tapped; the cashier has to restart the till.",
                          channel="email"),
     [("dispatch", "xu.hui", {**APPROVE, "handler": "ma.chao",
                              "dispatch_note": "Ask Jonas Weber for the terminal logs before rolling back."})]),
    ("lead_conversion", "wang.fang", lambda r: {"lead": r["lead:0"], "plan": "先电话了解需求，再安排上门演示"},
     [("follow_up", "wang.fang", {"attempt_kind": "call", "attempt_at": f"{_day(-3)}T10:00", "outcome": "continue",
                                  "attempt_summary": "电话沟通了采购计划", "next_contact_on": _day(2)})]),
    ("lead_conversion", "emma.chen", lambda r: {"lead": r["lead:1"]},
     [("follow_up", "emma.chen", {**QUALIFY, "customer_name": "Nordlicht Kliniken AG", "industry": "healthcare",
                                  "contact_name": "Dr. Lena Vogel", "contact_email": "l.vogel@nordlicht.example"})]),
    ("lead_conversion", "liu.yang", lambda r: {"lead": r["lead:2"]},
     [("follow_up", "liu.yang", {**QUALIFY, "customer_name": "广州华彩印务有限公司", "industry": "manufacturing",
                                 "region": "广州", "contact_name": "梁伟", "contact_mobile": "13600001234"}),
      ("review", "li.na", APPROVE)]),
    ("credit_assessment", "wang.fang", lambda r: _credit(r, QIMING, "200000.00"),
     [("sales_review", "li.na", {**APPROVE, "risk_rating": "low"})]),
    ("credit_assessment", "liu.yang", lambda r: _credit(r, YUNFAN, "100000.00", "frequent_delays"),
     [("sales_review", "li.na", {"decision": "reject", "risk_rating": "high", "opinion": "回款记录差"})]),
    ("credit_assessment", "emma.chen",
     lambda r: _credit(r, BLUE_HARBOR, "1000000.00",
                       reason="The second call-off under the framework agreement, for wards 9 and 10, doubles "
                              "this year's order volume."),
     [("sales_review", "li.na", APPROVE)]),
    ("credit_assessment", "wang.fang", lambda r: _credit(r, HUADONG, "600000.00"),
     [("sales_review", "li.na", APPROVE), ("joint_review", "zhao.lei", APPROVE), ("joint_review", "zhang.wei", APPROVE)]),
    ("service_request_kb", "hu.yan", lambda r: _request(r, HUADONG, "液压站漏油", "normal", "液压站底部持续滴油。"),
     [("claim", "ma.chao", "first_line"),
      ("first_line", "ma.chao", {"resolution": "answered", "article": r_article, "answer": "按知识库步骤更换密封圈。"})]),
    ("service_request_kb", "ma.chao", lambda r: _request(r, SHENZHEN, "会员积分同步失败", "urgent", "积分两天没有同步。"),
     [("first_line", "hu.yan", {"resolution": "escalate", "escalate_reason": "接口返回 500，需要二线排查"})]),
    ("service_request_kb", "hu.yan", lambda r: _request(r, ACME, "Invoice in English", "low", "Needs an English invoice."),
     [("first_line", "ma.chao", {"resolution": "answered",
                                 "answer": "Finance now issues a bilingual Chinese and English invoice for every "
                                           "shipment; the one for SO-2026-0139 went out by email today."})]),
    ("service_request_kb", "ma.chao",
     lambda r: _request(r, BLUE_HARBOR, "False probe-off alarms on ward 7 monitors", "high",
                        "Nurses on ward 7 report four BM-12 monitors raising 'SpO2 probe off' alarms while the "
                        "probe is on the patient's finger.", channel="email"),
     [("claim", "hu.yan", "first_line"),
      ("first_line", "hu.yan", {"resolution": "answered", "article": r_monitor_article,
                                "answer": "Went through the knowledge base steps with Daniel Tan: the probe cables "
                                          "are worn at the connector. Four new BM-SC-03 cables ship today."})]),
    ("contract_to_receivable", "wang.fang",
     lambda r: _contract(r, QIMING, 101, 45, [("智慧教室终端", 40, "3200.00"), ("安装调试", 1, "12000.00")]), []),
    ("contract_to_receivable", "wang.fang",
     lambda r: _contract(r, HUADONG, 102, 30, [("五轴加工中心", 1, "420000.00"), ("培训", 3, "6000.00")]),
     [("review", "li.na", APPROVE), ("review", "zhao.lei", APPROVE),
      ("collect", "sun.li", {"received_on": _day(-1), "received_amount": "200000.00", "invoice_number": "FP-2026-5001"})]),
    ("contract_to_receivable", "liu.yang",
     lambda r: _contract(r, SHENZHEN, 103, -3, [("收银终端", 30, "2800.00")]),
     [("review", "li.na", APPROVE), ("review", "zhao.lei", APPROVE)]),
    ("contract_to_receivable", "emma.chen",
     lambda r: _contract(r, ACME, 104, 5, [("PT-500 replacement card reader module", 60, "780.00"),
                                           ("RP-80 thermal print head", 80, "320.00"),
                                           ("PT-500 power supply, EU plug", 60, "140.00")],
                         prefix="CT", name="Spare parts stock for the Hamburg warehouse", amount="80800.00",
                         terms="Payment in full within 14 days of the proforma invoice; the goods ship FOB "
                               "Shanghai once paid."),
     [("review", "li.na", APPROVE), ("review", "zhao.lei", APPROVE),
      ("collect", "sun.li", {"received_on": _day(-1), "received_amount": "80800.00", "invoice_number": "INV-2026-0488",
                             "bank_reference": "SWIFT MT103 ACMEHH-26-1187"})]),
    ("customer_care", "emma.chen", lambda r: _care(r, BLUE_HARBOR, "emma.chen", "Ward monitors delivery", 20), []),
    ("customer_care", "liu.yang", lambda r: _care(r, SHENZHEN, "liu.yang", "收银终端交付", 2), []),
]


def _actor(session: Session, username: str) -> Actor:
    return org.actor_for(org.get_user_or_raise(session=session, username=username))


def _ids(session: Session, type_key: str) -> dict[str, int]:
    rows = session.execute(select(Record.title, Record.id).join(RecordType, RecordType.id == Record.type_id)
                           .where(RecordType.key == type_key, Record.deleted_at.is_(None)).order_by(Record.id))
    return {title: rid for title, rid in rows}


def _checked(session: Session, key: str, form: str | None, data: dict) -> dict:
    """Check data against a form of the process as the web app does (computed totals filled in)."""
    version = definitions.get_startable_or_raise(session=session, key=key)
    text = version.file_map().get(form) if form else None
    return forms.validate(forms.load_schema(text, form), data) if text else data


def _open(session: Session, instance_id: int, element: str, actor: Actor) -> WorkItem:
    for item in service.list_open_work_items(session=session, instance_id=instance_id):
        if item.element_id == element and actor.may_work_on(assignee=item.assignee, candidate_users=item.candidate_users,
                                                            candidate_groups=item.candidate_groups):
            return item
    raise LookupError(f"demo customers: no open {element} task for {actor.username} in request {instance_id}")


def _step(session: Session, key: str, instance: ProcessInstance, step: tuple, refs: dict) -> None:
    if step[0] == "overdue":
        for item in service.list_open_work_items(session=session, instance_id=instance.id):
            if item.element_id == step[1]:
                item.due_at = utcnow() - timedelta(days=2)
        session.flush()
        return
    if step[0] == "claim":
        _, username, element = step
        actor = _actor(session, username)
        service.claim_task(session=session, work_item_id=_open(session, instance.id, element, actor).id, actor=actor)
        return
    if step[0] == "return":
        _, username, element, comment = step
        actor = _actor(session, username)
        returns.return_task(session=session, work_item_id=_open(session, instance.id, element, actor).id,
                            actor=actor, to="initiator", comment=comment)
        return
    element, username, data, *rest = step
    actor = _actor(session, username)
    item = _open(session, instance.id, element, actor)
    data = {k: (v(refs) if callable(v) else v) for k, v in data.items()}
    data = _checked(session, key, item.form_key, data)
    decision = data.pop("decision", None)
    service.complete_task(session=session, work_item_id=item.id, actor=actor, data=data, decision=decision,
                          comment=rest[0] if rest else None)


def _deployed(session: Session, key: str) -> bool:
    try:
        definitions.get_startable_or_raise(session=session, key=key)
    except DefinitionError:
        return False
    return True


def _add_leads(session: Session) -> dict[str, int]:
    refs = {}
    for index, (owner, company, contact, phone, email, source, amount) in enumerate(LEADS):
        lead = create_record(session=session, type_key="lead", actor=Actor(owner), data={
            "company": company, "contact_name": contact, "phone": phone, "email": email, "source": source,
            "status": "new", "estimated_amount": amount})
        refs[f"lead:{index}"] = lead.id
    return refs


def _add_articles(session: Session) -> dict[str, int]:
    refs = {}
    for author, title, category, keywords, body, public in ARTICLES:
        article = create_record(session=session, type_key="knowledge_article", actor=Actor(author), data={
            "title": title, "category": category, "keywords": keywords, "body": body, "status": "published",
            "public": public})
        refs[title] = article.id
    return refs


def load_demo_customer_processes(session: Session) -> int:
    """Start the customer processes on the demo customers in different states, once; return how many started."""
    if session.scalar(select(func.count()).select_from(ProcessInstance)
                      .where(ProcessInstance.definition_key.in_(KEYS))):
        return 0
    customers = _ids(session, "customer")
    if not all(name in customers for name in (HUADONG, SHENZHEN, ACME, QIMING, BLUE_HARBOR, YUNFAN)):
        return 0  # the demo customers are not there: nothing to start on
    deployed = {key for key in KEYS if _deployed(session, key)}
    refs = {**customers, "article": next(iter(_ids(session, "knowledge_article").values()), None)}
    if "lead_conversion" in deployed:
        refs.update(_add_leads(session))
    if "service_request_kb" in deployed:
        refs.update(_add_articles(session))
    started = 0
    for key, username, make, steps in INSTANCES:
        if key not in deployed or (key == "service_request_kb" and refs["article"] is None):
            continue
        instance = service.start_instance(session=session, key=key, actor=_actor(session, username),
                                          data=_checked(session, key, START_FORMS[key], make(refs)))
        started += 1
        for step in steps:
            _step(session, key, instance, step, refs)
    return started
