"""Demo office requests: expense claims, trips, overtime, purchases and loans in different states.

`load_demo_office` expects the demo organisation (org.demo) and the shipped bundles in bpmn/ to be deployed,
and the organisation directory to be installed (the CLI does both), so the assignment strategies find people.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from definitions import service as definitions
from definitions.errors import DefinitionNotFound
from forms import schema as forms
from instances import returns, service
from instances.models import ProcessInstance, WorkItem
from org import service as org

KEYS = ("expense_reimbursement", "business_trip", "overtime", "purchase_request", "loan_advance")


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def _claim(subject: str, payee: str, department: str, *lines: tuple[int, str, str, str]) -> dict:
    return {"subject": subject, "cost_department": department, "payee_name": payee,
            "lines": [{"expense_date": _day(offset), "category": category, "amount": amount, "description": text}
                      for offset, category, amount, text in lines]}


def _trip(destination: str, purpose: str, start: int, end: int, cost: str, *, abroad: bool = False,
          advance: str | None = None, transport: tuple[str, ...] = ("train",)) -> dict:
    return {"trip_type": "international" if abroad else "domestic", "destination": destination, "purpose": purpose,
            "trip": {"start": _day(start), "end": _day(end)}, "transport": list(transport), "estimated_cost": cost,
            "advance": "yes" if advance else "no", **({"advance_amount": advance} if advance else {})}


def _overtime(day: int, start: str, end: str, hours: float, day_type: str, reason: str, compensation: str) -> dict:
    return {"overtime_date": _day(day), "day_type": day_type, "start_at": f"{_day(day)}T{start}",
            "end_at": f"{_day(day)}T{end}", "overtime_hours": hours, "compensation": compensation, "reason": reason}


def _purchase(subject: str, kind: str, department: str, reason: str, *rows: tuple[str, str, int, str, str]) -> dict:
    return {"subject": subject, "purchase_type": kind, "department": department, "needed_by": _day(14),
            "reason": reason, "items": [{"name": name, "spec": spec, "quantity": qty, "unit": unit, "unit_price": price}
                                        for name, spec, qty, unit, price in rows]}


def _loan(kind: str, amount: str, purpose: str, repay_in: int, payee: str, method: str = "expense_offset") -> dict:
    return {"loan_type": kind, "amount": amount, "purpose": purpose, "repayment_date": _day(repay_in),
            "repayment_method": method, "payee_name": payee}


APPROVE = {"decision": "approve"}
FINANCE_OK = {"decision": "approve", "receipts_checked": True, "accounting_subject": "6601"}


# Each request: process, requester, start data, then the steps taken: (element, person, data, comment), or
# ("return", person, element, comment) for a return to the requester.
REQUESTS: list[tuple[str, str, dict, list[tuple]]] = [
    ("expense_reimbursement", "wang.fang",
     _claim("上海客户拜访差旅费", "王芳", "sales", (-9, "travel", "553.00", "高铁 北京—上海 往返"),
            (-8, "accommodation", "640.00", "如家酒店 2 晚"), (-8, "meals", "186.50", "客户工作午餐")),
     [("superior_approval", "li.na", APPROVE, "同意")]),
    ("expense_reimbursement", "liu.yang",
     _claim("华南区经销商大会费用", "刘洋", "sales", (-20, "travel", "3860.00", "机票 北京—广州 往返"),
            (-19, "accommodation", "2400.00", "会议酒店 4 晚"), (-18, "entertainment", "1850.00", "经销商晚宴")),
     [("superior_approval", "li.na", APPROVE, "同意，请注意招待标准"), ("finance_review", "sun.li", FINANCE_OK, None),
      ("payment", "sun.li", {"paid_date": _day(-2), "payment_method": "bank_transfer",
                             "payment_reference": "CMB20261201-0042", "paid_amount": "8110.00"}, None)]),
    ("expense_reimbursement", "emma.chen",
     _claim("Client dinner, Beijing", "Emma Chen", "sales", (-6, "entertainment", "4280.00", "Dinner for 12")),
     [("superior_approval", "li.na", {"decision": "reject"}, "Over the entertainment limit for 12 guests.")]),
    ("expense_reimbursement", "gao.yu",
     _claim("云服务器测试费用", "高宇", "tech", (-12, "communication", "699.00", "测试用云主机一个月"),
            (-11, "office", "129.00", "USB 调试线")),
     [("superior_approval", "he.jun", APPROVE, None),
      ("return", "sun.li", "finance_review", "云主机发票抬头不是公司名称，请重开后再提交")]),
    ("expense_reimbursement", "lin.xue",
     _claim("Marketing materials / 市场物料印刷", "林雪", "marketing", (-3, "other", "2380.00", "展会宣传册 2000 份")),
     []),
    ("business_trip", "wang.fang",
     _trip("上海浦东", "拜访华东区重点客户，洽谈年度框架合同", 5, 7, "4600", advance="3000", transport=("train", "plane")),
     [("superior_approval", "li.na", APPROVE, "同意")]),
    ("business_trip", "david.lee",
     _trip("Singapore / 新加坡", "Marketing Asia summit, booth and two partner meetings", 12, 16, "18500",
           abroad=True, transport=("plane",)),
     [("superior_approval", "guo.tao", APPROVE, "Good opportunity, approved.")]),
    ("business_trip", "ma.chao",
     _trip("天津", "上门处理客户设备故障", -4, -3, "860", transport=("train",)),
     [("superior_approval", "xu.hui", APPROVE, None)]),
    ("overtime", "luo.bin",
     _overtime(-1, "18:30", "22:00", 3.5, "workday", "CRM 2.0 上线前回归测试", "time_off"), []),
    ("overtime", "hu.yan",
     _overtime(-10, "09:00", "17:00", 7, "holiday", "国庆期间值班处理客户投诉", "pay"),
     [("superior_approval", "xu.hui", APPROVE, None),
      ("hr_confirmation", "wu.qiang", {"decision": "approve", "confirmed_hours": 7}, "与考勤一致，按三倍计")]),
    ("overtime", "gao.yu",
     _overtime(-2, "19:00", "23:30", 4.5, "workday", "个人学习新框架", "pay"),
     [("superior_approval", "he.jun", {"decision": "reject"}, "Self-study is not overtime / 个人学习不计加班")]),
    ("purchase_request", "song.jia",
     _purchase("办公室耗材补充", "consumables", "office", "季度例行补充复印纸和硒鼓",
               ("A4 复印纸", "80g 500张/包", 40, "包", "25.00"), ("HP 硒鼓", "CF226A", 4, "个", "420.00")),
     [("leader_approval", "zhang.wei", APPROVE, "同意")]),
    ("purchase_request", "luo.bin",
     _purchase("Developer laptops / 研发笔记本电脑", "it_hardware", "tech", "Four developers join in January",
               ("ThinkPad T14", "i7 / 32 GB / 1 TB", 4, "台", "12800.00"), ("Dell U2723QE", "27\" 4K", 4, "台", "3999.00")),
     [("leader_approval", "he.jun", APPROVE, "同意，请财务和总经理会签")]),
    ("loan_advance", "wang.fang",
     _loan("petty_cash", "5000", "华东区展会现场备用金", 30, "王芳"),
     [("superior_approval", "li.na", APPROVE, None), ("finance_manager_approval", "zhao.lei", APPROVE, None),
      ("payment", "sun.li", {"paid_date": _day(-1), "payment_method": "bank_transfer", "paid_amount": "5000",
                             "payment_reference": "CMB-7781"}, None)]),
    ("loan_advance", "liu.yang",
     _loan("project", "12000", "经销商大会场地定金", 45, "刘洋", "transfer"),
     [("superior_approval", "li.na", APPROVE, "同意")]),
]


def _actor(session: Session, username: str):
    return org.actor_for(org.get_user_or_raise(session=session, username=username))


def _form(session: Session, key: str, name: str | None) -> dict | None:
    if not name:
        return None
    version = definitions.get_startable_or_raise(session=session, key=key)
    text = version.file_map().get(name)
    return forms.load_schema(text, name) if text else None


def _open(session: Session, instance_id: int, element: str, username: str) -> WorkItem:
    for item in service.list_open_work_items(session=session, instance_id=instance_id):
        if item.element_id == element and (item.assignee == username or username in (item.candidate_users or [])):
            return item
    raise LookupError(f"demo office: no open {element} task for {username} in request {instance_id}")


def _step(session: Session, key: str, instance: ProcessInstance, step: tuple) -> None:
    if step[0] == "return":
        _, username, element, comment = step
        item = _open(session, instance.id, element, username)
        returns.return_task(session=session, work_item_id=item.id, actor=_actor(session, username), to="initiator",
                            comment=comment)
        return
    element, username, data, comment = step
    item = _open(session, instance.id, element, username)
    schema = _form(session, key, item.form_key)
    checked = forms.validate(schema, data, context=instance.data) if schema else data
    service.complete_task(session=session, work_item_id=item.id, actor=_actor(session, username), data=checked,
                          comment=comment)


def load_demo_office(session: Session) -> int:
    """Start the demo office requests in different states, once; return how many were started."""
    found = session.scalar(select(func.count()).select_from(ProcessInstance)
                           .where(ProcessInstance.definition_key.in_(KEYS)))
    if found:
        return 0
    started = 0
    for key, username, data, steps in REQUESTS:
        try:
            version = definitions.get_startable_or_raise(session=session, key=key)
        except DefinitionNotFound:
            continue  # that process is not deployed here
        schema = _form(session, key, definitions.start_form_key(version))
        checked = forms.validate(schema, data) if schema else data
        instance = service.start_instance(session=session, key=key, actor=_actor(session, username), data=checked)
        started += 1
        for step in steps:
            _step(session, key, instance, step)
    return started
