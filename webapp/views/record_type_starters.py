"""Starter templates for the record type designer: a blank type and three common shapes to begin from."""
from __future__ import annotations

import copy

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
MONEY = {"type": "string", "format": "money", "x-currency": "CNY"}


def _text(title: str, limit: int = 200, **more) -> dict:
    return {"type": "string", "title": title, "maxLength": limit, **more}


def _choice(title: str, options: list[tuple[str, str]], **more) -> dict:
    return {"type": "string", "title": title, "enum": [v for v, _label in options],
            "enumNames": [label for _v, label in options], **more}


def _schema(required: list[str], properties: dict) -> dict:
    return {"$schema": SCHEMA_DRAFT, "type": "object", "required": required, "properties": properties,
            "x-ui": {"order": list(properties)}}


_VISIT = _schema(["subject", "visited_on"], {
    "subject": _text("Subject / 主题"),
    "customer": {"type": "integer", "title": "Customer / 客户", "x-reference": "customer", "minimum": 1},
    "visited_on": {"type": "string", "format": "date", "title": "Visited on / 拜访日期"},
    "way": _choice("Way / 方式", [("onsite", "On site / 上门"), ("online", "Online / 线上"),
                                  ("phone", "Phone / 电话")], **{"x-ui": {"widget": "radio"}}),
    "attendees": _text("Attendees / 参与人员"),
    "summary": _text("Summary / 纪要", 5000, **{"x-kind": "textarea"}),
    "follow_up": {"type": "boolean", "title": "Follow-up needed / 需要跟进"},
    "next_step": _text("Next step / 下一步", 200, **{"x-visible-if": {"field": "follow_up", "equals": True}}),
})
_ASSET = _schema(["asset_no", "name", "category"], {
    "asset_no": _text("Asset number / 资产编号", 64),
    "name": _text("Name / 资产名称"),
    "category": _choice("Category / 类别", [("it", "IT equipment / IT设备"), ("furniture", "Furniture / 家具"),
                                            ("vehicle", "Vehicle / 车辆"), ("other", "Other / 其他")]),
    "keeper": {"type": "string", "title": "Keeper / 保管人", "x-kind": "user"},
    "department": {"type": "string", "title": "Department / 使用部门", "x-kind": "department"},
    "purchased_on": {"type": "string", "format": "date", "title": "Purchased on / 购置日期"},
    "cost": {**MONEY, "title": "Cost / 原值", "minimum": 0},
    "status": _choice("Status / 状态", [("in_use", "In use / 在用"), ("idle", "Idle / 闲置"),
                                        ("repair", "In repair / 维修中"), ("retired", "Retired / 已报废")]),
    "warranty": {"type": "object", "format": "date-range", "title": "Warranty / 保修期"},
    "notes": _text("Notes / 备注", 2000, **{"x-kind": "textarea"}),
})
_REQUEST = _schema(["title", "lines"], {
    "title": _text("Title / 标题", 200),
    "needed_by": {"type": "string", "format": "date", "title": "Needed by / 需要日期"},
    "urgency": _choice("Urgency / 紧急程度", [("normal", "Normal / 普通"), ("urgent", "Urgent / 紧急")]),
    "reason": _text("Reason / 申请理由", 2000, **{"x-kind": "textarea"}),
    "lines": {"type": "array", "title": "Items / 明细", "minItems": 1, "maxItems": 100, "items": {
        "type": "object", "required": ["item", "quantity", "unit_price"], "properties": {
            "item": _text("Item / 物品"),
            "quantity": {"type": "integer", "title": "Quantity / 数量", "minimum": 1},
            "unit_price": {**MONEY, "title": "Unit price / 单价", "minimum": 0},
            "amount": {**MONEY, "title": "Amount / 金额", "x-computed": "quantity * unit_price"},
        }, "x-ui": {"order": ["item", "quantity", "unit_price", "amount"]}}},
    "total": {**MONEY, "title": "Total / 合计", "x-computed": "sum_column(lines, 'amount')"},
})

STARTERS = {
    "blank": {"name": "", "name_en": "", "schema": {"$schema": SCHEMA_DRAFT, "type": "object", "properties": {}},
              "meta": {}},
    "visit": {"name": "拜访记录", "name_en": "Visit record", "schema": _VISIT,
              "meta": {"title_field": "subject", "list_columns": ["subject", "customer", "visited_on", "way", "owner"],
                       "search_fields": ["subject", "summary"], "default_sort": "-visited_on"}},
    "asset": {"name": "资产登记", "name_en": "Asset register", "schema": _ASSET,
              "meta": {"title_field": "name", "list_columns": ["asset_no", "name", "category", "keeper", "status"],
                       "search_fields": ["asset_no", "name"], "default_sort": "asset_no"}},
    "request": {"name": "物品申请", "name_en": "Simple request", "schema": _REQUEST,
                "meta": {"title_field": "title", "list_columns": ["title", "needed_by", "urgency", "total", "owner"],
                         "search_fields": ["title", "reason"], "default_sort": "-created_at"}},
}


def starter(name: str) -> dict:
    """Return a copy of a starter template (blank when the name is unknown)."""
    return copy.deepcopy(STARTERS.get(name) or STARTERS["blank"])
