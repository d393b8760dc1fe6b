"""The JSON shapes of the API as OpenAPI 3.1 component schemas."""
from __future__ import annotations

from instances.models import INSTANCE_STATUSES

STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
TEXT_OR_NULL, INTEGER_OR_NULL = {"type": ["string", "null"]}, {"type": ["integer", "null"]}
WHEN = {"type": "string", "format": "date-time"}
WHEN_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
FREE = {"type": "object", "additionalProperties": True}
PICKS = {"type": ["object", "null"], "additionalProperties": {"type": "array", "items": {"type": "string"}, "maxItems": 50}}


def ref(name: str) -> dict:
    """Point at a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: str | None = None, **properties) -> dict:
    names = list(properties) if required is None else required.split()
    return {"type": "object", "required": names, "properties": properties}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _page(item: dict) -> dict:
    return _object(items=_array(item), total=INTEGER, page=INTEGER, page_size=INTEGER, pages=INTEGER)


def _extend(base: str, **properties) -> dict:
    return {"allOf": [ref(base), _object(**properties)]}


def _closed(required: str, **properties) -> dict:
    return {**_object(required, **properties), "additionalProperties": False}


CODE = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"}
CODE_OR_NULL = {"type": ["string", "null"], "maxLength": 64, "description": "A code; null or \"\" clears it"}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
INT32 = {"type": "integer", "minimum": -(2**31 - 1), "maximum": 2**31 - 1}
UNCHANGED_CODE = {**CODE, "description": "May be sent, but must equal the current code: codes cannot change"}
USER_FIELDS = {
    "username": {"type": "string", "pattern": "^[A-Za-z0-9_.@-]{2,150}$"},
    "display_name": NAME,
    "email": {"type": ["string", "null"], "maxLength": 254},
    "phone": {"type": ["string", "null"], "maxLength": 50},
    "department": {**CODE_OR_NULL, "description": "A department code; null or \"\" clears it"},
    "position": {**CODE_OR_NULL, "description": "A position code; null or \"\" clears it"},
    "superior": {"type": ["string", "null"], "maxLength": 150,
                 "description": "The superior's user name; null or \"\" clears it"},
    "roles": {"type": "array", "maxItems": 200, "items": CODE, "description": "Role codes; replaces the list"},
    "groups": {"type": "array", "maxItems": 200, "items": CODE, "description": "Group codes; replaces the list"},
    "status": {"type": "string", "enum": ["active", "left"],
               "description": "An admin cannot mark themselves as left"},
    "language": {"type": ["string", "null"], "enum": ["zh_CN", "en", "", None]},
    "password": {"type": "string", "minLength": 8, "maxLength": 1000,
                 "description": "Required for a new user; when changing a user, sets a new password"},
}
UNIT_FIELDS = {"code": CODE, "name": NAME, "name_en": {"type": ["string", "null"], "maxLength": 200}}
DEPARTMENT_FIELDS = {**UNIT_FIELDS,
                     "parent": {**CODE_OR_NULL, "description": "The parent department's code; null for the top"},
                     "leader": {"type": ["string", "null"], "maxLength": 150,
                                "description": "The leader's user name; null for none"},
                     "sort": INT32}
UNIT = _object(id=INTEGER, code=STRING, name=STRING, name_en=STRING)
ANY = {"description": "Any JSON value"}
TYPE_META = _object(
    "", title_field={**STRING, "description": "The field whose value is a record's title"},
    list_columns={**_array(STRING), "description": "Fields (or title, owner, created_at, updated_at, id) a list shows"},
    search_fields={**_array(STRING), "description": "Text fields the q search looks in"},
    default_sort={**STRING, "description": "A field or -field"})
RECORD_TYPE = _object(key=STRING, name=STRING, name_en=STRING, core=BOOLEAN, active=BOOLEAN,
                      version={**INTEGER, "description": "The version described"},
                      current_version=INTEGER, meta=TYPE_META, created_at=WHEN, updated_at=WHEN)
RECORD_TYPE_FIELDS = {
    "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,62}$"}, "name": NAME,
    "name_en": {"type": ["string", "null"], "maxLength": 200},
    "schema": {**FREE, "description": "JSON Schema (2020-12) of an object: properties (field names are letters, "
                                      "digits and _), required; x-reference names a record type"},
    "meta": {"oneOf": [TYPE_META, {"type": "null"}], "description": "List and search settings; left out or null: "
                                                                      "derived from the schema (or kept, on a change)"},
}
RECORD = _object(
    id=INTEGER, type=STRING, type_version=INTEGER, title=STRING, data=FREE, owner=STRING,
    department_id=INTEGER_OR_NULL, created_at=WHEN, created_by=STRING, updated_at=WHEN, updated_by=STRING,
    lock_version={**INTEGER, "description": "Send it back (lock_version or If-Match) to change the record"},
    deleted_at={**WHEN_OR_NULL, "description": "Set while the record is in the recycle bin"},
    deleted_by=TEXT_OR_NULL)
LOCK_VERSION = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1,
                "description": "The lock_version of the record as loaded; or send If-Match instead"}
DICTIONARY_ITEM = _object("value", value={"type": "string", "minLength": 1, "maxLength": 100},
                          label={"type": "string", "maxLength": 200}, label_en={"type": "string", "maxLength": 200},
                          active={**BOOLEAN, "default": True})
ROUTE_STEP = {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "users": {"type": "array", "maxItems": 20, "items": {"type": "string"},
              "description": "The people who decide the step; or name a role or a department instead"},
    "role": {"type": "string", "description": "A role whose members may claim the step"},
    "department": {"type": "string", "description": "A department whose members may claim the step"},
    "rule": {"type": "string", "enum": ["single", "any", "all", "majority", "sequential"],
             "description": "With several people: the countersign rule (default all)"}}}
SCHEMAS = {
    "Error": _object(error=_object(code=STRING, message=STRING, details=FREE)),
    "TokenRequest": {**_object(username=STRING, password=STRING), "additionalProperties": False},
    "Token": _object(token=STRING, token_type={"type": "string", "enum": ["Bearer"]}, expires_at=WHEN),
    "Unit": UNIT,
    "User": _object(id=INTEGER, username=STRING, display_name=STRING, email=STRING, phone=STRING,
                    department={"oneOf": [ref("Unit"), {"type": "null"}]},
                    position={"oneOf": [ref("Unit"), {"type": "null"}]}, superior=TEXT_OR_NULL,
                    roles=_array(STRING), groups=_array(STRING), status={"type": "string", "enum": ["active", "left"]},
                    language=TEXT_OR_NULL),
    "Me": _extend("User", is_admin=BOOLEAN, is_manager=BOOLEAN, is_designer=BOOLEAN, groups=_array(STRING),
                  counts=_object(mine=INTEGER, group=INTEGER, overdue=INTEGER, cc=INTEGER)),
    "UserPage": _page(ref("User")),
    "Department": _object(id=INTEGER, code=STRING, name=STRING, name_en=STRING, sort=INTEGER,
                          parent_id=INTEGER_OR_NULL,
                          leader={"oneOf": [_object(username=STRING, display_name=STRING), {"type": "null"}]},
                          children=_array(ref("Department"))),
    "DepartmentDetail": _object(id=INTEGER, code=STRING, name=STRING, name_en=STRING, sort=INTEGER,
                                parent_id=INTEGER_OR_NULL, parent=TEXT_OR_NULL,
                                leader={"oneOf": [_object(username=STRING, display_name=STRING), {"type": "null"}]}),
    "Position": _extend("Unit", level=INTEGER),
    "UnitList": _object(items=_array(ref("Unit"))),
    "PositionList": _object(items=_array(ref("Position"))),
    "UserCreateRequest": _closed("username display_name password", **USER_FIELDS),
    "UserUpdateRequest": _closed("", **USER_FIELDS),
    "DepartmentCreateRequest": _closed("code name", **DEPARTMENT_FIELDS),
    "DepartmentUpdateRequest": _closed("", **{**DEPARTMENT_FIELDS, "code": UNCHANGED_CODE}),
    "UnitCreateRequest": _closed("code name", **UNIT_FIELDS),
    "UnitUpdateRequest": _closed("", **{**UNIT_FIELDS, "code": UNCHANGED_CODE}),
    "PositionCreateRequest": _closed("code name", **UNIT_FIELDS, level=INT32),
    "PositionUpdateRequest": _closed("", **{**UNIT_FIELDS, "code": UNCHANGED_CODE}, level=INT32),
    "DefinitionVersion": _object(
        id=INTEGER, key=STRING, version=INTEGER, name=STRING, category=STRING, description=STRING,
        description_zh={**TEXT_OR_NULL, "description": "The description in Chinese (process.json's description_zh)"},
        model_type={"type": "string", "enum": ["fixed", "predefined", "custom"]},
        status={"type": "string", "enum": ["draft", "published", "deprecated"]}, executable=BOOLEAN,
        startable=BOOLEAN, primary_process_id=TEXT_OR_NULL, sha256=STRING, created_at=WHEN,
        created_by=TEXT_OR_NULL),
    "DefinitionVersionDetail": _extend(
        "DefinitionVersion",
        report={**FREE, "description": "The validation report: executable, process_ids, issues (severity, "
                                       "element_id, reason, file, line)"},
        files=_array(_object(name=STRING, kind={"type": "string", "enum": ["bpmn", "dmn", "form"]}, sha256=STRING))),
    "DefinitionList": _object(items=_array(ref("DefinitionVersion")), total=INTEGER),
    "Definition": _object(key=STRING, start_form={"oneOf": [ref("FormSchema"), {"type": "null"}]},
                          versions=_array(ref("DefinitionVersionDetail"))),
    "FormSchema": {**FREE, "description": "A form as JSON Schema (draft 2020-12): properties, required, x-order"},
    "UploadRequest": _object(
        "file", file={"type": "string", "format": "binary",
                      "description": "A .bpmn / .bpmn20.xml / .bpmn2 / .xml model or a .zip bundle with forms "
                                     "and process.json"},
        key={"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.-]{0,199}$",
             "description": "Store under this key instead of the one the model names"},
        publish={"type": "string", "enum": ["true", "false"], "default": "false",
                 "description": "Publish the new version at once (refused if it cannot start)"}),
    "StatusRequest": {**_object(status={"type": "string", "enum": ["draft", "published", "deprecated"]}),
                      "additionalProperties": False},
    "StartRequest": {**_object("", data={**FREE, "description": "Start-form values as typed JSON; unknown fields "
                                                                  "are refused"},
                               business_key={"type": ["string", "null"], "maxLength": 200},
                               picks={**PICKS, "description": "People of each initiatorPicks node (flowdesk.assignment), "
                                                              "by node id; when sent, every such node needs them"},
                               route={"type": ["array", "null"], "maxItems": 30, "items": ROUTE_STEP,
                                      "description": "A free-flow process's route (自由流程), checked against the "
                                                     "process's guard rules; left out: the route it offers"}),
                     "additionalProperties": False},
    "CompleteRequest": {**_object("", data={**FREE, "description": "Task-form values as typed JSON"},
                                  decision={"type": ["string", "null"], "enum": ["approve", "reject", None]},
                                  comment={"type": ["string", "null"],
                                           "description": "Required when the decision is reject"},
                                  picks={**PICKS, "description": "People of the approverPicks nodes after this task, "
                                                                 "by node id; when sent, required unless rejecting"}),
                        "additionalProperties": False},
    "Instance": _object(id=INTEGER, process=STRING, definition_id=INTEGER, title=STRING, business_key=TEXT_OR_NULL,
                        status={"type": "string", "enum": list(INSTANCE_STATUSES)},
                        initiator=TEXT_OR_NULL, started_at=WHEN, updated_at=WHEN, ended_at=WHEN_OR_NULL),
    "StartedInstance": _extend("Instance", data=FREE),
    "InstancePage": _page(ref("Instance")),
    "HistoryEvent": _object(id=INTEGER, type=STRING, element_id=TEXT_OR_NULL, actor=TEXT_OR_NULL, at=WHEN,
                            work_item_id=INTEGER_OR_NULL, details=FREE),
    "InstanceDetail": _extend(
        "Instance", data=FREE, incident={"oneOf": [FREE, {"type": "null"}]},
        definition=_object(id=INTEGER, key=STRING, version=INTEGER, name=STRING),
        active_tasks=_array(ref("Task")), history=_array(ref("HistoryEvent"))),
    "Task": _object(
        "id instance_id name element_id kind status assignee candidate_users candidate_groups priority due_at "
        "overdue form_key created_at completed_at completed_by decision comment item",
        id=INTEGER, instance_id=INTEGER, name=STRING, element_id=STRING,
        kind={"type": "string", "enum": ["task", "resubmit", "cosign", "assist"],
              "description": "resubmit: the request was returned to its initiator, who completes this task with "
                             "the revised start form data; cosign: someone added to sign a step (加签), who "
                             "completes it with a decision; assist: someone asked for their input (协办), who "
                             "completes it with a comment"},
        status={"type": "string", "enum": ["open", "completed", "cancelled", "returned", "taken_back", "waiting",
                                           "pending"],
                "description": "waiting: the holder waits for signers they added; pending: an added signer whose "
                               "turn is still to come"},
        assignee=TEXT_OR_NULL,
        candidate_users=_array(STRING), candidate_groups=_array(STRING), priority=INTEGER, due_at=WHEN_OR_NULL,
        overdue=BOOLEAN, form_key=TEXT_OR_NULL, created_at=WHEN, completed_at=WHEN_OR_NULL,
        completed_by=TEXT_OR_NULL, decision=TEXT_OR_NULL, comment=TEXT_OR_NULL,
        item={"oneOf": [FREE, {"type": "null"}], "description": "The element of a multi-instance task"},
        instance=ref("Instance")),
    "TaskDetail": _extend("Task", form={"oneOf": [ref("FormSchema"), {"type": "null"}]},
                          instance=_extend("Instance", data=FREE)),
    "InboxInstance": _extend("Instance", copy={"oneOf": [_object(sent_by=TEXT_OR_NULL, element_id=TEXT_OR_NULL,
                                                                 note=TEXT_OR_NULL, created_at=WHEN,
                                                                 read_at=WHEN_OR_NULL), {"type": "null"}]}),
    "InboxPage": {"allOf": [_page({"oneOf": [ref("Task"), ref("InboxInstance")]}),
                            _object(view={"type": "string", "enum": ["mine", "group", "done", "started", "cc"]})]},
    "RecordType": RECORD_TYPE,
    "RecordTypeList": _object(items=_array(ref("RecordType")), total=INTEGER),
    "RecordTypeDetail": _extend("RecordType", schema=FREE, versions=_array(_object(
        version=INTEGER, created_at=WHEN, created_by=STRING, note=STRING))),
    "ChangeReport": _object(
        checked={**INTEGER, "description": "Stored records checked against the new schema"},
        failing={**INTEGER, "description": "Records that would not be valid"},
        examples=_array(_object(record_id=INTEGER, field=STRING, message=STRING)),
        filled={**INTEGER, "description": "Records that get defaults"},
        dropped={**INTEGER, "description": "Records that lose values of removed fields"}),
    "RecordTypeChanged": _extend("RecordTypeDetail", report=ref("ChangeReport")),
    "RecordTypeCreateRequest": _closed("key name schema", **RECORD_TYPE_FIELDS),
    "RecordTypeChangeRequest": _closed(
        "schema", schema=RECORD_TYPE_FIELDS["schema"], meta=RECORD_TYPE_FIELDS["meta"], name=NAME,
        name_en=RECORD_TYPE_FIELDS["name_en"],
        defaults={"type": ["object", "null"], "description": "Values for fields stored records lack"},
        drop_removed={**BOOLEAN, "default": False, "description": "Remove values of fields the new schema drops"},
        confirm={**BOOLEAN, "default": False, "description": "Apply a change that rewrites stored records"},
        note={"type": ["string", "null"], "maxLength": 500}),
    "ActiveRequest": _closed("active", active=BOOLEAN),
    "Record": RECORD,
    "SearchHit": _object(
        kind={"type": "string", "enum": ["document", "record", "article"]},
        ref={**STRING, "description": "The document id or record id, as text"},
        title=STRING, title_html={**STRING, "description": "The title, HTML-escaped, matched words in <mark>"},
        snippet={**STRING, "description": "About 180 characters around the first match, HTML-escaped, matched "
                                          "words in <mark>"},
        score={"type": "number", "description": "Higher is better; compare only within one search"},
        owner=STRING, folder_id=INTEGER_OR_NULL, updated_at=WHEN,
        url={"type": ["string", "null"], "description": "The page that shows it"},
        extra={**FREE, "description": "documents: library_id, version, encrypted, size; records: record_id, "
                                      "type, type_name, type_name_en"}),
    "SearchPage": _object(items=_array(ref("SearchHit")), page=INTEGER, page_size=INTEGER,
                          has_more={**BOOLEAN, "description": "Another page follows"}),
    "RecordPage": {"allOf": [_page(ref("Record")), _object(type=STRING, columns=_array(STRING))]},
    "RecordCreateRequest": _closed("data", data={**FREE, "description": "Field values valid against the type's "
                                                                        "schema; unknown fields are refused"},
                                   owner={"type": ["string", "null"], "maxLength": 150,
                                          "description": "An active user's name; the caller when left out"}),
    "RecordChangeRequest": _closed("data", data=FREE, lock_version=LOCK_VERSION),
    "RecordHistory": _object(items=_array(_object(
        id=INTEGER, at=WHEN, actor=STRING,
        action={"type": "string", "enum": ["created", "updated", "deleted", "restored"]},
        instance_id={**INTEGER_OR_NULL, "description": "The process instance that made the change"},
        changes=_array(_object(field=STRING, before=ANY, after=ANY))))),
    "RelatedLists": _object(items=_array(_object(
        type=STRING, type_name=STRING, type_name_en=STRING,
        field={**STRING, "description": "The referring field; table[].column inside a detail table"},
        count=INTEGER, items={**_array(ref("Record")), "description": "The newest per_list records"},
        list_url={**TEXT_OR_NULL, "description": "The filtered list of them all (null for detail-table columns)"}))),
    "RecordProcesses": _object(items=_array(_extend(
        "Instance", relation={"type": "string", "enum": ["created", "updated", "linked"]}))),
    "Dictionary": _object(name=STRING, label=STRING, label_en=STRING, items=_array(DICTIONARY_ITEM), note=STRING,
                          updated_at=WHEN, updated_by=STRING),
    "DictionaryList": _object(items=_array(ref("Dictionary")), total=INTEGER),
    "DictionaryRequest": _closed("label items", label=NAME, label_en={"type": ["string", "null"], "maxLength": 200},
                                 items={**_array(DICTIONARY_ITEM), "minItems": 1, "maxItems": 1000},
                                 note={"type": ["string", "null"], "maxLength": 2000}),
}
