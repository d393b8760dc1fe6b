"""Demo office requests: expense claims, trips, overtime, purchases, loans, assets and office supplies in
different states.

`load_demo_office` expects the demo organisation (org.demo) and the shipped bundles in bpmn/ to be deployed,
and the organisation directory to be installed (the CLI does both), so the assignment strategies find people.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instances.models import ProcessInstance
from org.workcal_store import calendar_for_user
from records.attendance import day_type

from .demo_steps import start_request, take_step

KEYS = ("expense_reimbursement", "business_trip", "overtime", "purchase_request", "loan_advance", "asset_borrowing",
        "office_supplies")


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


def _on_the_calendar(session: Session, username: str, data: dict) -> dict:
    """Move a demo overtime to the nearest earlier day the person's business calendar gives its day type."""
    calendar = calendar_for_user(session=session, username=username)
    asked = date.fromisoformat(data["overtime_date"])
    earlier = (asked - timedelta(days=back) for back in range(60))
    day = next((d for d in earlier if day_type(calendar, d)[0] == data["day_type"]), asked)
    moved = day.isoformat()
    return {**data, "overtime_date": moved, "day_type": day_type(calendar, day)[0], "start_at": moved + data["start_at"][10:],
            "end_at": moved + data["end_at"][10:]}


def _purchase(subject: str, kind: str, department: str, reason: str, *rows: tuple[str, str, int, str, str]) -> dict:
    return {"subject": subject, "purchase_type": kind, "department": department, "needed_by": _day(14),
            "reason": reason, "items": [{"name": name, "spec": spec, "quantity": qty, "unit": unit, "unit_price": price}
                                        for name, spec, qty, unit, price in rows]}


def _loan(kind: str, amount: str, purpose: str, repay_in: int, payee: str, method: str = "expense_offset") -> dict:
    return {"loan_type": kind, "amount": amount, "purpose": purpose, "repayment_date": _day(repay_in),
            "repayment_method": method, "payee_name": payee}


def _assets(kind: str, reason: str, *rows: tuple[str, str | None, int, str], return_in: int | None = None) -> dict:
    return {"kind": kind, "reason": reason, **({"return_date": _day(return_in)} if return_in is not None else {}),
            "items": [{"name": name, **({"asset_tag": tag} if tag else {}), "quantity": qty, "purpose": purpose}
                      for name, tag, qty, purpose in rows]}


def _supplies(urgency: str, *rows: tuple[str, int, str, str]) -> dict:
    return {"urgency": urgency, "needed_by": _day(3),
            "items": [{"item": item, "quantity": qty, "unit": unit, "unit_price": price}
                      for item, qty, unit, price in rows]}


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
     _overtime(-10, "09:00", "17:00", 7, "rest_day", "周末值班处理客户紧急投诉", "pay"),
     [("superior_approval", "xu.hui", APPROVE, None),
      ("hr_confirmation", "wu.qiang", {"decision": "approve", "confirmed_hours": 7}, "与考勤一致，按两倍计")]),
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
    ("asset_borrowing", "wang.fang",
     _assets("borrowing", "华东区客户培训会演示", ("投影仪", "FD-PJ-003", 1, "客户培训演示"), ("插线板", None, 2, "会场供电"),
             return_in=10),
     [("leader_approval", "li.na", APPROVE, None),
      ("issue_assets", "song.jia", {"issued_date": _day(-1), "handed_over": "投影仪 FD-PJ-003 一台，插线板两个"}, None)]),
    ("asset_borrowing", "gao.yu",
     _assets("requisition", "新员工入职工位配置", ("显示器 Dell P2422H", "FD-MN-118", 1, "开发工位双屏")),
     [("leader_approval", "he.jun", APPROVE, "同意"),
      ("issue_assets", "admin", {"issued_date": _day(-3), "handed_over": "显示器 FD-MN-118 一台"}, None)]),
    ("asset_borrowing", "lin.xue",
     _assets("borrowing", "展会现场拍摄", ("Camera / 相机", "FD-CAM-002", 1, "展台拍摄"), return_in=20), []),
    ("office_supplies", "liu.yang",
     _supplies("normal", ("A4 复印纸", 2, "包", "25.00"), ("中性笔", 10, "支", "3.50")),
     [("hand_out", "song.jia", {"handed_out_date": _day(0), "handed_out": "all"}, None)]),
    ("office_supplies", "hu.yan",
     _supplies("urgent", ("HP 硒鼓 CF226A", 2, "个", "420.00")),
     [("leader_approval", "xu.hui", {"decision": "reject"}, "库存还有两个硒鼓，请先领用库存")]),
    ("office_supplies", "emma.chen",
     _supplies("normal", ("Notebooks / 笔记本", 5, "本", "12.80"), ("Sticky notes / 便利贴", 4, "本", "6.00")),
     [("hand_out", "admin", {"handed_out_date": _day(-2), "handed_out": "all"}, None),
      ("confirm_receipt", "emma.chen", {"received_date": _day(-2), "receipt": "complete"}, None)]),
]


def load_demo_office(session: Session) -> int:
    """Start the demo office requests in different states, once; return how many were started."""
    found = session.scalar(select(func.count()).select_from(ProcessInstance)
                           .where(ProcessInstance.definition_key.in_(KEYS)))
    if found:
        return 0
    started = 0
    for key, username, data, steps in REQUESTS:
        if key == "overtime":
            data = _on_the_calendar(session, username, data)
        instance = start_request(session, key, username, data)
        if instance is None:
            continue  # that process is not deployed here
        started += 1
        for step in steps:
            take_step(session, key, instance, step)
    return started
