"""Demo document requests: outgoing and incoming documents, rules countersigns and project initiations.

`load_demo_documents` expects the demo organisation (org.demo) and the shipped bundles in bpmn/ to be deployed,
and the organisation directory to be installed (the CLI does both), so the assignment strategies find people.
It follows webapp.demo_office: each request is started once, then walked through the steps listed for it.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instances.models import ProcessInstance

from .demo_steps import start_request, take_step

KEYS = ("outgoing_document", "incoming_document", "rules_countersign", "project_initiation")


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def _outgoing(title: str, kind: str, body: str, recipients: list[str], *, countersign: list[str] | None = None,
              copy: list[str] | None = None, urgency: str = "normal", security: str = "internal",
              external: str | None = None) -> dict:
    return {"title": title, "document_type": kind, "urgency": urgency, "security_level": security,
            "main_recipients": recipients, **({"copy_recipients": copy} if copy else {}),
            **({"external_recipients": external} if external else {}),
            "needs_countersign": "yes" if countersign else "no",
            **({"countersign_departments": countersign} if countersign else {}), "body": body}


def _incoming(title: str, sender: str, number: str, received: int, summary: str, urgency: str = "normal") -> dict:
    return {"title": title, "sender": sender, "received_number": number, "document_date": _day(received - 3),
            "received_on": _day(received), "urgency": urgency, "security_level": "public", "copies": 1,
            "summary": summary}


def _rules(title: str, kind: str, purpose: str, body: str, departments: list[str], rule: str = "all",
           change: str = "new") -> dict:
    return {"title": title, "regulation_type": kind, "change": change, "effective_from": _day(30), "sign_rule": rule,
            "departments": departments, "purpose": purpose, "body": body}


def _project(name: str, kind: str, department: str, manager: str, budget: str, weeks: int, objectives: str,
             team: list[tuple[str, str]]) -> dict:
    return {"project_name": name, "project_type": kind, "sponsor_department": department, "project_manager": manager,
            "budget": budget, "schedule": {"start": _day(14), "end": _day(14 + 7 * weeks)}, "objectives": objectives,
            "team": [{"user": user, "role": role} for user, role in team]}


def _ok(comment: str = "同意") -> dict:
    return {"decision": "approve", "comment": comment}


def _no(comment: str) -> dict:
    return {"decision": "reject", "comment": comment}


HOLIDAY = ("<p>各部门：</p><p>根据国务院办公厅通知，现将元旦放假安排通知如下：1月1日至1月3日放假调休，共3天。"
           "请各部门做好值班安排和安全检查。</p><p>特此通知。</p>")
NUMBER = {"document_number": "飞达发〔2026〕18号", "published_on": _day(-6)}
ARCHIVE = {"archive_no": "WS-2026-018", "retention": "30y", "archived_on": _day(-5), "location": "档案室 A-3"}
SPRING_FESTIVAL = ("<p>Dear customers,</p><p>Our factory and warehouse in Shanghai close for the Spring Festival from "
                   "6 to 16 February 2027. Orders confirmed by 15 January ship before the holiday; orders confirmed "
                   "later ship from 18 February.</p><p>The service hotline stays open throughout, and urgent spare "
                   "parts ship from the Hamburg and Singapore stock.</p><p>Kind regards,<br>Emma Chen, "
                   "International Sales</p>")
GIFTS = ("<h3>1. Scope</h3><p>Everyone who deals with customers, distributors or public hospitals outside China."
         "</p><h3>2. Rules</h3><p>Gifts and hospitality may not exceed 500 CNY per person and occasion, and none "
         "may be offered to a public official or during a tender. Every gift above 200 CNY is entered in the gift "
         "register within five working days.</p>")


# Each request: process, requester, start data, then the steps taken: (element, person, data, comment), or
# ("return", person, element, comment) for a return to the requester.
REQUESTS: list[tuple[str, str, dict, list[tuple]]] = [
    # 发文
    ("outgoing_document", "song.jia",
     _outgoing("关于2027年元旦放假安排的通知", "notice", HOLIDAY, ["sales", "finance", "hr", "service", "marketing", "tech"]),
     [("department_review", "zhang.wei", _ok("内容无误"), None), ("leader_signoff", "zhang.wei", _ok("同意印发"), None),
      ("numbering", "song.jia", NUMBER, None), ("archive", "song.jia", ARCHIVE, None)]),
    ("outgoing_document", "wang.fang",
     _outgoing("关于调整客户回款考核办法的通知", "notice",
               "<p>为加快回款，自下季度起回款考核按合同约定账期执行，逾期30天以上的应收款不计入当期业绩。</p>",
               ["sales"], countersign=["finance", "hr"], copy=["office"]),
     [("department_review", "li.na", _ok("请财务和人力会签"), None), ("countersign", "zhao.lei", _ok("财务部同意"), None)]),
    ("outgoing_document", "emma.chen",
     _outgoing("Spring Festival 2027 shipping schedule for overseas customers", "letter", SPRING_FESTIVAL,
               ["sales", "service"], security="public",
               external="Acme Trading GmbH; Blue Harbor Hospital; all overseas distributors"),
     [("department_review", "li.na", _ok("Approved. Please send it out before 15 December."), None),
      ("leader_signoff", "zhang.wei", _ok("Approved for issue"), None)]),
    ("outgoing_document", "lin.xue",
     _outgoing("关于参加2027上海国际零售展的请示", "request",
               "<p>拟组织参加2027年3月上海国际零售展，预计费用18万元，妥否，请批示。</p>", ["office"], urgency="urgent"),
     [("department_review", "guo.tao", _ok("同意上报"), None)]),
    ("outgoing_document", "gao.yu",
     _outgoing("关于机房停电检修的通知", "notice", "<p>本周六 9:00–18:00 机房停电检修，期间 CRM 系统暂停服务。</p>",
               ["sales", "service"]),
     [("return", "he.jun", "department_review", "请写明备用方案和紧急联系人")]),
    ("outgoing_document", "david.lee",
     _outgoing("Letter to partners on the new brand guidelines / 致合作伙伴的品牌规范函", "letter",
               "<p>Dear partners, from January our logo and colours change. The new guidelines are attached.</p>",
               ["marketing"], countersign=["sales", "office"], security="public"),
     [("department_review", "guo.tao", _ok("Approved"), None),
      ("countersign", "li.na", _no("渠道物料已印刷，建议推迟到二季度"), None)]),
    # 收文
    ("incoming_document", "song.jia",
     _incoming("关于开展2026年度社会保险缴费基数申报工作的通知", "北京市人力资源和社会保障局", "京人社发〔2026〕35号", -4,
               "各用人单位须于12月15日前完成年度社保缴费基数申报，并报送工资总额明细。", "urgent"),
     [("distribution", "zhang.wei", {"distribution": "handle", "handling_departments": ["hr", "finance"],
                                     "handle_by": _day(10), "instructions": "请人力资源部牵头、财务部配合，按时申报。"},
       None), ("handling", "zhao.lei", {"decision": "approve", "handling_opinion": "工资总额明细已提供给人力资源部"},
               None)]),
    ("incoming_document", "song.jia",
     _incoming("关于做好岁末年初安全生产工作的通知", "朝阳区应急管理局", "朝应急发〔2026〕21号", -12,
               "要求辖区企业开展消防和用电安全自查，12月底前报送自查报告。"),
     [("distribution", "zhang.wei", {"distribution": "handle", "handling_departments": ["office"],
                                     "handle_by": _day(-2), "instructions": "总经办组织自查并报送"}, None),
      ("handling", "zhang.wei", {"decision": "approve", "handling_opinion": "自查已完成，报告已报送"}, None),
      ("disposition", "song.jia", {"disposal": "archive", "archive_no": "SW-2026-097", "retention": "10y"}, None)]),
    ("incoming_document", "song.jia",
     _incoming("2027年度办公用品采购目录征订函", "京华办公用品有限公司", "京华函〔2026〕8号", -7,
               "推销2027年办公用品目录，附报价单和征订回执。"),
     [("distribution", "zhang.wei", {"distribution": "information", "instructions": "商业推广，无需办理"}, None),
      ("disposition", "song.jia", {"disposal": "destroy", "destruction_reason": "商业推广材料，无保存价值"}, None)]),
    ("incoming_document", "song.jia",
     _incoming("关于征集2027年度重点客户服务案例的函", "中国客户服务协会", "中客协函〔2026〕112号", -1,
               "征集年度优秀客户服务案例，截止日期1月20日。"),
     []),
    ("incoming_document", "song.jia",
     _incoming("Blue Harbor Hospital supplier audit: notice and questionnaire", "Blue Harbor Hospital, Procurement",
               "BHH-PROC-2026-117", -2,
               "Blue Harbor Hospital will audit our service organisation on 14 January 2027 and asks for the "
               "completed supplier questionnaire and our ISO 13485 certificate by 18 December.", "urgent"),
     [("distribution", "zhang.wei", {"distribution": "handle", "handling_departments": ["sales", "service"],
                                     "handle_by": _day(14),
                                     "instructions": "Emma Chen coordinates with customer service; send me the "
                                                     "questionnaire before it goes out."}, None)]),
    # 规章制度会签
    ("rules_countersign", "wu.qiang",
     _rules("员工考勤与休假管理制度（2027年修订）", "hr", "统一弹性工作制下的考勤口径，明确调休与年假的申请和审批流程。",
            "<h3>第一章 总则</h3><p>第一条 为规范公司考勤管理，制定本制度。</p><p>第二条 本制度适用于公司全体员工。</p>",
            ["sales", "finance", "tech", "service"], change="revision"),
     [("sign_all", "li.na", _ok("销售部同意"), None), ("sign_all", "zhao.lei", _ok("同意"), None)]),
    ("rules_countersign", "sun.li",
     _rules("费用报销管理办法", "finance", "明确差旅、招待、办公等费用的报销标准和审批权限。",
            "<h3>第一章 总则</h3><p>第一条 为加强费用管控，制定本办法。</p><p>第二条 报销须在费用发生后30日内提交。</p>",
            ["sales", "hr", "tech"], rule="majority"),
     [("sign_majority", "li.na", _ok("同意"), None), ("sign_majority", "he.jun", _ok("同意"), None),
      ("legal_review", "song.jia", _ok("条款合规"), None), ("gm_approval", "zhang.wei", _ok("同意发布"), None),
      ("publish", "song.jia", {"regulation_number": "FD-FIN-003", "published_on": _day(-1), "effective_on": _day(30)},
       None)]),
    ("rules_countersign", "luo.bin",
     _rules("Information security policy / 信息安全管理制度", "it_security",
            "Passwords, device encryption and access reviews for every employee / 规定密码、设备加密和权限复核要求。",
            "<h3>1. Scope / 适用范围</h3><p>All staff and contractors / 全体员工及外包人员。</p>",
            ["sales", "finance", "hr", "service", "marketing"]),
     [("sign_all", "xu.hui", _no("客服坐席无法执行每90天强制改密，请调整"), None)]),
    ("rules_countersign", "song.jia",
     _rules("Gifts and hospitality policy for international sales", "business",
            "Sets one limit for gifts and hospitality with overseas customers and distributors, in line with "
            "their anti-bribery rules.", GIFTS, ["sales", "marketing", "finance"], rule="majority"),
     [("sign_majority", "li.na", _ok("Agreed. Please add a register template."), None),
      ("sign_majority", "guo.tao", _ok("Agreed"), None)]),
    # 项目立项
    ("project_initiation", "luo.bin",
     _project("CRM 移动端二期 / CRM mobile phase 2", "it_system", "tech", "luo.bin", "380000", 16,
              "上线移动端拜访签到、商机跟进和审批，销售外勤录入率达到90%。",
              [("luo.bin", "项目经理"), ("gao.yu", "后端开发"), ("wang.fang", "业务代表")]),
     [("leader_approval", "he.jun", {"decision": "approve", "comment": "同意"}, None)]),
    ("project_initiation", "lin.xue",
     _project("2027春季新品发布会", "marketing", "marketing", "lin.xue", "68000", 8,
              "邀请100家重点客户参加新品发布会，现场签约意向不少于20家。",
              [("lin.xue", "活动负责人"), ("david.lee", "Event lead / 外联"), ("liu.yang", "客户邀约")]),
     [("leader_approval", "guo.tao", {"decision": "approve"}, None),
      ("gm_approval", "zhang.wei", {"decision": "approve", "comment": "同意，注意控制费用"}, None)]),
    ("project_initiation", "ma.chao",
     _project("客服知识库重建", "process_improvement", "service", "ma.chao", "45000", 12,
              "整理常见问题500条，一线解决率提升到75%。", [("ma.chao", "项目经理"), ("hu.yan", "内容编写")]),
     [("return", "xu.hui", "leader_approval", "请补充与现有工单系统的对接方案")]),
    ("project_initiation", "emma.chen",
     _project("Key account portal / 大客户门户", "customer", "sales", "emma.chen", "260000", 20,
              "Self-service portal for our top 30 accounts: orders, invoices and tickets.",
              [("emma.chen", "Project manager"), ("luo.bin", "Architect")]),
     [("leader_approval", "li.na", {"decision": "approve"}, None),
      ("finance_review", "zhao.lei", {"decision": "reject", "budget_source": "none", "comment": "预算外，明年再议"},
       "Not in the 2027 budget / 不在2027年预算内")]),
    ("project_initiation", "david.lee",
     _project("European hospital roadshow 2027", "marketing", "marketing", "david.lee", "240000", 10,
              "Present the BM-12 monitor range to twelve hospital groups in Germany, the Netherlands and the "
              "Nordics, and sign at least three distributor agreements.",
              [("david.lee", "Project manager"), ("emma.chen", "Key accounts"), ("lin.xue", "Materials and events")]),
     [("leader_approval", "guo.tao", {"decision": "approve", "comment": "Approved. Keep the travel within budget."},
       None)]),
]


def load_demo_documents(session: Session) -> int:
    """Start the demo document requests in different states, once; return how many were started."""
    found = session.scalar(select(func.count()).select_from(ProcessInstance)
                           .where(ProcessInstance.definition_key.in_(KEYS)))
    if found:
        return 0
    started = 0
    for key, username, data, steps in REQUESTS:
        instance = start_request(session, key, username, data)
        if instance is None:
            continue  # that process is not deployed here
        started += 1
        for step in steps:
            take_step(session, key, instance, step)
    return started
