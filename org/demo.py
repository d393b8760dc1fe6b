"""The demo organisation `scripts/run` loads: seven departments, twenty people, four roles."""
from __future__ import annotations

from sqlalchemy.orm import Session

from . import service
from .models import User

DEMO_PASSWORD = "flowdesk-demo"

DEPARTMENTS = [  # code, 中文, English, parent
    ("office", "总经办", "General office", None),
    ("sales", "销售部", "Sales", "office"),
    ("finance", "财务部", "Finance", "office"),
    ("hr", "人力资源部", "Human resources", "office"),
    ("service", "客户服务部", "Customer service", "office"),
    ("marketing", "市场部", "Marketing", "office"),
    ("tech", "技术部", "Technology", "office"),
]
POSITIONS = [  # code, 中文, English, level
    ("gm", "总经理", "General manager", 1),
    ("director", "总监", "Director", 2),
    ("manager", "经理", "Manager", 3),
    ("staff", "专员", "Specialist", 4),
]
ROLES = [
    ("admin", "系统管理员", "Administrator"),
    ("designer", "流程设计员", "Process designer"),
    ("manager", "部门主管", "Manager"),
    ("employee", "员工", "Employee"),
]
GROUPS = [("crm_rollout", "CRM 上线项目组", "CRM roll-out team")]
USERS = [  # username, name, department, position, superior, roles, email language
    ("admin", "系统管理员", "office", "staff", None, ["admin", "designer", "employee"], "en"),
    ("zhang.wei", "张伟", "office", "gm", None, ["manager", "employee"], "zh_CN"),
    ("li.na", "李娜", "sales", "director", "zhang.wei", ["manager", "employee"], "zh_CN"),
    ("wang.fang", "王芳", "sales", "staff", "li.na", ["employee"], "zh_CN"),
    ("liu.yang", "刘洋", "sales", "staff", "li.na", ["employee"], "zh_CN"),
    ("emma.chen", "Emma Chen", "sales", "staff", "li.na", ["employee"], "en"),
    ("zhao.lei", "赵磊", "finance", "manager", "zhang.wei", ["manager", "employee"], "zh_CN"),
    ("sun.li", "孙丽", "finance", "staff", "zhao.lei", ["employee"], "zh_CN"),
    ("zhou.min", "周敏", "hr", "manager", "zhang.wei", ["manager", "employee"], "zh_CN"),
    ("wu.qiang", "吴强", "hr", "staff", "zhou.min", ["employee"], "zh_CN"),
    ("xu.hui", "徐慧", "service", "manager", "zhang.wei", ["manager", "employee"], "zh_CN"),
    ("ma.chao", "马超", "service", "staff", "xu.hui", ["employee"], "zh_CN"),
    ("hu.yan", "胡燕", "service", "staff", "xu.hui", ["employee"], "zh_CN"),
    ("guo.tao", "郭涛", "marketing", "manager", "zhang.wei", ["manager", "employee"], "zh_CN"),
    ("lin.xue", "林雪", "marketing", "staff", "guo.tao", ["employee"], "zh_CN"),
    ("he.jun", "何军", "tech", "director", "zhang.wei", ["manager", "employee"], "zh_CN"),
    ("luo.bin", "罗斌", "tech", "staff", "he.jun", ["designer", "employee"], "zh_CN"),
    ("gao.yu", "高宇", "tech", "staff", "he.jun", ["employee"], "zh_CN"),
    ("song.jia", "宋佳", "office", "staff", "zhang.wei", ["employee"], "zh_CN"),
    ("david.lee", "David Lee", "marketing", "staff", "guo.tao", ["employee"], "en"),
]
LEADERS = {"office": "zhang.wei", "sales": "li.na", "finance": "zhao.lei", "hr": "zhou.min",
           "service": "xu.hui", "marketing": "guo.tao", "tech": "he.jun"}
TEAM = ["li.na", "wang.fang", "luo.bin", "xu.hui"]


def load_demo(*, session: Session) -> int:
    """Create or refresh the demo organisation; existing passwords are kept. Return the user count."""
    for code, name, name_en, level in POSITIONS:
        service.save_unit(session=session, kind="position", code=code, name=name, name_en=name_en, level=level)
    for code, name, name_en in ROLES:
        service.save_unit(session=session, kind="role", code=code, name=name, name_en=name_en)
    for code, name, name_en in GROUPS:
        service.save_unit(session=session, kind="group", code=code, name=name, name_en=name_en)
    for index, (code, name, name_en, parent) in enumerate(DEPARTMENTS):
        service.save_unit(session=session, kind="department", code=code, name=name, name_en=name_en,
                          parent=parent, sort=index)
    for username, name, dept, position, superior, roles, language in USERS:
        user = service.get_user_by_name(session=session, username=username)
        service.save_user(session=session, user=user, username=username, display_name=name,
                          email=f"{username}@flowdesk.example", department=dept, position=position,
                          superior=superior, roles=roles, groups=["crm_rollout"] if username in TEAM else [],
                          language=language, password=None if user is not None else DEMO_PASSWORD)
    for code, name, name_en, parent in DEPARTMENTS:
        service.save_unit(session=session, kind="department", code=code, name=name, name_en=name_en,
                          parent=parent, leader=LEADERS[code])
    return session.query(User).count()
