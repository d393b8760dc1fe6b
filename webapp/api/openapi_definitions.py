"""The OpenAPI paths of process templates, copies and process categories."""
from __future__ import annotations

from .openapi import INTEGER, KEY, STRING, _body, _ok, _op, _path
from .schemas import ref

KEY_TEXT = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.-]{0,199}$"}
NULLABLE_TEXT = {"type": ["string", "null"]}


def definition_paths() -> dict:
    """Document templates, copying a definition and the process categories."""
    template = {"type": "object", "required": ["key", "name", "category", "description", "source_version",
                                               "status", "created_at", "created_by"],
                "properties": {"key": STRING, "name": STRING, "category": STRING,
                               "description": {**STRING, "description": "The template's own description, else "
                                                                        "the process's"},
                               "source_version": {**INTEGER, "description": "The version a copy starts from: "
                                                                            "the newest published, else the newest"},
                               "status": {"type": "string", "enum": ["draft", "published", "deprecated"]},
                               "created_at": {"type": "string", "format": "date-time"},
                               "created_by": NULLABLE_TEXT}}
    templates = {"type": "object", "required": ["items", "total"],
                 "properties": {"items": {"type": "array", "items": template}, "total": INTEGER}}
    copy = {"type": "object", "additionalProperties": False, "required": ["key", "name"], "properties": {
        "key": {**KEY_TEXT, "description": "The new definition's key; it must not exist yet"},
        "name": {"type": "string", "minLength": 1, "maxLength": 300,
                 "description": "The new name, e.g. 'Expense claim / 费用报销' or the English half with name_zh"},
        "name_zh": {"type": ["string", "null"], "maxLength": 300,
                    "description": "The Chinese name, joined to name as 'name / name_zh'"},
        "version": {"type": ["integer", "null"], "minimum": 1,
                    "description": "The version to copy; the newest published (else the newest) by default"},
        "category": {"type": ["string", "null"], "description": "A known category code; the source's by default"},
        "description": {"type": ["string", "null"], "maxLength": 2000,
                        "description": "The source's description by default"}}}
    category = {"type": "object", "required": ["code", "name", "name_en", "sort", "definitions"],
                "properties": {"code": STRING, "name": {**STRING, "description": "The Chinese name"},
                               "name_en": {**STRING, "description": "The English name"},
                               "sort": {**INTEGER, "description": "The catalogue shows categories by this, "
                                                                  "smallest first"},
                               "definitions": {**INTEGER, "description": "How many processes have a version in it"}}}
    name = {"type": "string", "minLength": 1, "maxLength": 200}
    sort = {"type": "integer", "minimum": 0, "maximum": 1_000_000}
    code = _path("code", "The category code.")
    return {
        "/definitions/{key}/copy": {"post": _op(
            "definitions", "Copy a version of a process (or template) into version 1 of a new draft process "
                           "(designers and admins): processes whose id is the source key take the new key, forms "
                           "are copied; 400 and 409 name the field in details.field, and nothing is stored.",
            _ok("The new draft version with its validation report.", ref("DefinitionVersionDetail")),
            status="201", errors="400 403 404 409", params=[KEY], body=_body(copy))},
        "/definitions/{key}/template": {
            "post": _op("definitions", "Mark a process as a template, or change the template's description "
                                       "(designers and admins).",
                        _ok("The new template.", template), status="201", errors="400 403 404", params=[KEY],
                        body=_body({"type": "object", "additionalProperties": False,
                                    "properties": {"description": {"type": ["string", "null"], "maxLength": 2000}}},
                                   required=False),
                        extra={"200": _ok("The process was a template already: its description changed.",
                                          template)}),
            "delete": _op("definitions", "Stop offering a process as a template; its versions stay "
                                         "(designers and admins).",
                          _ok("The template that was removed.", template), errors="403 404", params=[KEY])},
        "/process-templates": {"get": _op(
            "definitions", "List the process templates by name (designers and admins).",
            _ok("Templates.", templates), errors="403")},
        "/process-categories": {
            "get": _op("definitions", "List the process categories in catalogue order.",
                       _ok("Categories.", {"type": "object", "required": ["items", "total"],
                                           "properties": {"items": {"type": "array", "items": category},
                                                          "total": INTEGER}})),
            "post": _op("definitions", "Add a process category (admins); 409 when the code is taken.",
                        _ok("The new category.", category), status="201", errors="400 403 409",
                        body=_body({"type": "object", "additionalProperties": False, "required": ["code", "name"],
                                    "properties": {"code": {"type": "string",
                                                            "pattern": "^[A-Za-z][A-Za-z0-9_.-]{0,63}$"},
                                                   "name": {**name, "description": "The Chinese name"},
                                                   "name_en": {"type": ["string", "null"], "maxLength": 200},
                                                   "sort": {**sort, "description": "After the others by default"}}}))},
        "/process-categories/{code}": {
            "patch": _op("definitions", "Rename or reorder a process category (admins); fields left out keep "
                                        "their values, the code stays.",
                         _ok("The category after the change.", category), errors="400 403 404", params=[code],
                         body=_body({"type": "object", "additionalProperties": False,
                                     "properties": {"name": name, "name_en": {"type": ["string", "null"],
                                                                              "maxLength": 200},
                                                    "sort": sort}})),
            "delete": _op("definitions", "Delete a process category (admins); 409 when processes use it "
                                         "(details.definitions counts them) or for the default category general.",
                          _ok("The deleted category.", category), errors="403 404 409", params=[code])},
    }
