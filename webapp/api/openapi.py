"""The OpenAPI 3.1 document of the API, written out by hand, and the route that serves it."""
from __future__ import annotations

from flask import jsonify

from instances.models import INSTANCE_STATUSES

from . import bp
from .common import MAX_PAGE, MAX_PAGE_SIZE, public
from .schemas import PICKS, SCHEMAS, ref

ERRORS = {  # status -> (response name, description)
    "400": ("BadRequest", "The request is malformed: bad JSON, a wrong type, an unknown field, a bad filter or a "
                          "refused value (details.field names it)."),
    "401": ("Unauthorized", "No bearer token, or the token is invalid, expired or revoked."),
    "403": ("Forbidden", "The caller lacks the role this needs."),
    "404": ("NotFound", "No such thing, or the caller may not see it; when a code or user name in the body "
                        "names nothing, details.field names that field."),
    "409": ("Conflict", "The task or instance changed under the caller (already done, claimed by someone else), "
                        "a user name or code is taken, a record changed since the caller loaded it "
                        "(stale_edit), or a record type change would break stored records (incompatible_change, "
                        "with the report in details)."),
    "413": ("TooLarge", "The upload is too large."),
    "422": ("Unprocessable", "The data does not fit the form or the record type (details name each field), the "
                             "engine refused it, or an admin would lock themselves out."),
    "428": ("PreconditionRequired", "A change to a record needs the lock version the caller loaded "
                                    "(lock_version in the body, or If-Match)."),
    "429": ("TooMany", "Too many failed sign-in attempts: wait 15 minutes."),
}
STRING, INTEGER = {"type": "string"}, {"type": "integer"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _param(name: str, where: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema,
            "description": description}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return _param(name, "query", schema or STRING, description)


def _path(name: str, description: str, schema: dict | None = None) -> dict:
    return _param(name, "path", schema or STRING, description)


PAGE = [_query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
        _query("page_size", "Rows per page.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                                               "default": 25})]
DATE = {"type": "string", "description": "YYYY-MM-DD (the whole day) or an ISO-8601 timestamp"}
FLAG = {"type": "boolean", "default": False}
KEY = _path("key", "The process key.")
TASK_ID = _path("task_id", "The task id.", {"type": "integer", "minimum": 0})
INSTANCE_ID = _path("instance_id", "The instance id.", {"type": "integer", "minimum": 0})
SVG = {"image/svg+xml": {"schema": STRING}}


def _op(tag: str, summary: str, ok: dict, *, errors: str = "", params: list | None = None, body: dict | None = None,
        status: str = "200", public_route: bool = False, extra: dict | None = None) -> dict:
    responses = {status: ok, **(extra or {})}
    for code in (["401"] if not public_route else []) + errors.split():
        responses[code] = {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
    operation = {"tags": [tag], "summary": summary, "responses": responses}
    if params:
        operation["parameters"] = params
    if body:
        operation["requestBody"] = body
    if public_route:
        operation["security"] = []
    return operation


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": _json(schema)}


def _body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": _json(schema)}


ADMIN_WRITE = "400 403 404 409 422"


def _unit_paths(plural: str, kind: str, schema: str) -> dict:
    """Document listing, creating and changing positions, roles or groups."""
    prefix = "Position" if schema == "Position" else "Unit"
    return {
        f"/{plural}": {
            "get": _op("org", f"List the {plural} by code.",
                       _ok(f"Every {kind}.", ref(f"{schema}List"))),
            "post": _op("org", f"Create a {kind} (admins).", _ok(f"The new {kind}.", ref(schema)), status="201",
                        errors=ADMIN_WRITE, body=_body(ref(f"{prefix}CreateRequest")))},
        f"/{plural}/{{code}}": {"patch": _op(
            "org", f"Change a {kind} (admins); fields left out keep their values, the code stays.",
            _ok(f"The {kind} after the change.", ref(schema)), errors=ADMIN_WRITE,
            params=[_path("code", f"The {kind} code.")], body=_body(ref(f"{prefix}UpdateRequest")))},
    }


def _verb_paths() -> dict:
    """Document the approval verbs: transfer, delegate, hand back, urge and carbon copy."""
    user = {"type": "string", "minLength": 1, "maxLength": 150, "description": "An active user's name"}
    comment = {"type": ["string", "null"], "maxLength": 2000}
    to_user = _body({"type": "object", "required": ["to_user"], "additionalProperties": False,
                     "properties": {"to_user": user, "comment": comment}})
    only_comment = _body({"type": "object", "additionalProperties": False, "properties": {"comment": comment}},
                         required=False)
    task = _ok("The task after the change, with owner (who delegated it) and last_urged_at.",
               {"allOf": [ref("Task"), {"type": "object", "required": ["owner", "last_urged_at"],
                                        "properties": {"owner": {"type": ["string", "null"]},
                                                       "last_urged_at": {"type": ["string", "null"],
                                                                         "format": "date-time"}}}]})
    copy = {"type": "object", "required": ["username", "sent_by", "note", "created_at", "read_at"],
            "properties": {"username": STRING, "sent_by": {"type": ["string", "null"]},
                           "note": {"type": ["string", "null"]}, "created_at": {"type": "string"},
                           "read_at": {"type": ["string", "null"], "description": "null until they open it"}}}
    copied = {"type": "object", "required": ["instance_id", "sent", "skipped", "copies"],
              "properties": {"instance_id": INTEGER, "sent": {"type": "array", "items": STRING},
                             "skipped": {"type": "array", "items": STRING,
                                         "description": "People who already have an unread copy"},
                             "copies": {"type": "array", "items": copy}}}
    return {
        "/tasks/{task_id}/transfer": {"post": _op(
            "tasks", "Transfer (转办) a task to another person, who then decides it; details.field names a "
                     "wrong to_user (404 unknown, 400 left or the caller).",
            task, errors="400 403 404 409", params=[TASK_ID], body=to_user)},
        "/tasks/{task_id}/delegate": {"post": _op(
            "tasks", "Delegate (委派) a task for an opinion: the delegate can only hand it back, the caller decides.",
            task, errors="400 403 404 409", params=[TASK_ID], body=to_user)},
        "/tasks/{task_id}/resolve": {"post": _op(
            "tasks", "Hand a delegated task back to its owner with an opinion (the delegate only).",
            task, errors="400 403 404 409", params=[TASK_ID], body=only_comment)},
        "/tasks/{task_id}/urge": {"post": _op(
            "tasks", "Urge (催办) a task of an instance the caller started (or any, for admins), once an hour; "
                     "409 with details.next_urge_at when too soon.",
            task, errors="400 403 404 409", params=[TASK_ID], body=only_comment)},
        "/instances/{instance_id}/cc": {"post": _op(
            "instances", "Send a copy (抄送) of an instance the caller may see to people; those with an unread "
                         "copy are skipped. Read receipts are in copies[].read_at.",
            _ok("Who got a copy now and every copy of the instance.", copied), errors="400 404",
            params=[INSTANCE_ID],
            body=_body({"type": "object", "required": ["to_users"], "additionalProperties": False,
                        "properties": {"to_users": {"type": "array", "minItems": 1, "maxItems": 50, "items": user},
                                       "note": comment}}))},
    }


def _lifecycle_paths() -> dict:
    """Document terminate, suspend, resume and withdraw, and the caller's standing proxies."""
    when = {"type": ["string", "null"], "format": "date-time"}
    reason = {"type": "object", "additionalProperties": False,
              "properties": {"reason": {"type": "string", "maxLength": 2000}}}
    needs_reason = {**reason, "required": ["reason"]}
    proxy = {"type": "object", "required": ["id", "username", "proxy", "starts_at", "ends_at", "state"],
             "properties": {"id": INTEGER, "username": STRING, "proxy": STRING, "starts_at": when, "ends_at": when,
                            "definition_keys": {"type": ["array", "null"], "items": STRING},
                            "created_at": when, "revoked_at": when,
                            "state": {"type": "string", "enum": ["active", "scheduled", "ended", "revoked"]}}}
    proxy_request = {"type": "object", "additionalProperties": False, "required": ["proxy", "starts_at", "ends_at"],
                     "properties": {"proxy": {**STRING, "description": "The user name of the proxy"},
                                    "starts_at": DATE, "ends_at": DATE,
                                    "definition_keys": {"type": ["array", "null"], "maxItems": 100, "items": STRING,
                                                        "description": "Only these processes; null means all"}}}
    changed = _ok("The instance after the change.", ref("Instance"))
    verbs = {
        "terminate": ("End the instance for good with a reason, cancelling its open tasks (admins).", needs_reason),
        "suspend": ("Pause a running instance: its tasks, timers and messages wait (admins).", reason),
        "resume": ("Let a suspended instance run again; timers that fell due fire next (admins).", reason),
        "withdraw": ("Take back one's own request with a reason while nobody else has completed a task in it "
                     "(the initiator; 409 names who already acted).", needs_reason),
    }
    out = {f"/instances/{{instance_id}}/{verb}": {"post": _op(
        "instances", summary, changed, errors="400 403 404 409", params=[INSTANCE_ID],
        body=_body(schema, required=schema is needs_reason))} for verb, (summary, schema) in verbs.items()}
    out["/me/proxies"] = {
        "get": _op("auth", "List the caller's standing proxies (代理), and those naming the caller.",
                   _ok("Proxies.", {"type": "object", "properties": {"items": {"type": "array", "items": proxy},
                                                                    "acting_for": {"type": "array", "items": proxy}}})),
        "post": _op("auth", "Have another user receive the caller's new direct tasks between two moments "
                            "(at most a year ahead).", _ok("The new proxy.", proxy), status="201",
                    errors="400 404", body=_body(proxy_request))}
    out["/me/proxies/{proxy_id}/revoke"] = {"post": _op(
        "auth", "End one of the caller's standing proxies now.", _ok("The revoked proxy.", proxy),
        errors="400 404 409", params=[_path("proxy_id", "The proxy id.", {"type": "integer", "minimum": 0})],
        body=_body({"type": "object", "additionalProperties": False}, required=False))}
    return out


def _record_type_paths() -> dict:
    """Document record types and admin dictionaries."""
    key = _path("key", "The record type key, e.g. customer.")
    name = _path("name", "The dictionary name.")
    detail = _ok("The record type with its schema and versions.", ref("RecordTypeDetail"))
    return {
        "/record-types": {
            "get": _op("records", "List the record types with their current versions.",
                       _ok("Record types, core ones first.", ref("RecordTypeList")), errors="400",
                       params=[_query("inactive", "Also the switched-off types.", FLAG)]),
            "post": _op("records", "Create a record type at version 1 (admins).", detail, status="201",
                        errors="400 403 409", body=_body(ref("RecordTypeCreateRequest")))},
        "/record-types/{key}": {
            "get": _op("records", "Describe a record type: schema, metadata, names and versions.", detail,
                       errors="400 404", params=[key, _query("version", "An older version to describe.",
                                                             {"type": "integer", "minimum": 1})]),
            "put": _op("records", "Save a new version of a record type (admins). Stored records are checked "
                                  "against it: a change that breaks them answers 409 with the report (checked, "
                                  "failing, examples, filled, dropped); give defaults and drop_removed with "
                                  "confirm to migrate them.",
                       _ok("The new version with the report.", ref("RecordTypeChanged")), errors="400 403 404 409",
                       params=[key], body=_body(ref("RecordTypeChangeRequest")))},
        "/record-types/{key}/active": {"post": _op(
            "records", "Switch a record type off (hidden, no new records; its records stay) or on (admins).",
            detail, errors="400 403 404", params=[key], body=_body(ref("ActiveRequest")))},
        "/dictionaries": {"get": _op("records", "List the admin dictionaries (数据字典) with their items.",
                                     _ok("Dictionaries by name.", ref("DictionaryList")))},
        "/dictionaries/{name}": {
            "get": _op("records", "Describe one dictionary.", _ok("The dictionary.", ref("Dictionary")),
                       errors="404", params=[name]),
            "put": _op("records", "Create a dictionary or replace its items (admins); switch items off "
                                  "(active: false) rather than removing them.",
                       _ok("The dictionary after the change.", ref("Dictionary")), errors="400 403",
                       params=[name], body=_body(ref("DictionaryRequest")),
                       extra={"201": _ok("The new dictionary.", ref("Dictionary"))})},
    }


def _record_paths() -> dict:
    """Document records: lists, create, read, change, delete and restore, history, related lists, processes."""
    type_key = _path("type_key", "The record type key, e.g. customer.")
    record = [type_key, _path("record_id", "The record id.", {"type": "integer", "minimum": 0})]
    one = _ok("The record; its ETag header is the lock version.", ref("Record"))
    if_match = _param("If-Match", "header", STRING, "The record's lock version (its ETag), instead of lock_version.")
    change = _body(ref("RecordChangeRequest"))
    lists = [
        _query("q", "Words in the title or search fields (each must appear).", {"type": "string", "maxLength": 200}),
        _query("sort", "A field or -field (or title, owner, created_at, updated_at, id); default from the type."),
        _query("columns", "Comma list of data fields to return."),
        _query("deleted", "The recycle bin instead of live records.", FLAG),
        _query("f.{field}", "Field equals the value (replace {field} by a field name)."),
        _query("f.{field}__{op}", "Field compared by op: ne, contains, gte, lte, in (comma list), empty, set."),
        *PAGE]
    return {
        "/records/{type_key}": {
            "get": _op("records", "List a type's records with filters, search, sort and columns.",
                       _ok("A page of records.", ref("RecordPage")), errors="400 404", params=[type_key, *lists]),
            "post": _op("records", "Create a record; Location names it.", _ok("The new record.", ref("Record")),
                        status="201", errors="400 403 404 422", params=[type_key],
                        body=_body(ref("RecordCreateRequest")))},
        "/records/{type_key}/export": {"get": _op(
            "records", "Export the records matching the filters and search, only what the caller may export; "
            "the export is logged.",
            {"description": "A CSV (UTF-8 with BOM) or Excel file.",
             "content": {"text/csv": {"schema": STRING},
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                             "schema": {"type": "string", "format": "binary"}}}},
            errors="400 404", params=[type_key, _query("format", "csv (default) or xlsx.",
                                                        {"type": "string", "enum": ["csv", "xlsx"]}),
                                      *[p for p in lists if p["name"] not in ("columns", "deleted", "page",
                                                                              "page_size")]])},
        "/records/{type_key}/{record_id}": {
            "get": _op("records", "Describe a live record.", one, errors="404", params=record),
            "patch": _op("records", "Change some fields (null removes one), with the lock version loaded.", one,
                         errors="400 403 404 409 422 428", params=[*record, if_match], body=change),
            "put": _op("records", "Replace the record's data whole, with the lock version loaded.", one,
                       errors="400 403 404 409 422 428", params=[*record, if_match], body=change),
            "delete": _op("records", "Move the record to the recycle bin (owner and admins).",
                          _ok("The deleted record.", ref("Record")), errors="400 403 404 409",
                          params=[*record, if_match])},
        "/records/{type_key}/{record_id}/restore": {"post": _op(
            "records", "Bring a record back from the recycle bin (owner and admins).",
            _ok("The restored record.", ref("Record")), errors="400 403 404", params=record,
            body=_body({"type": "object", "additionalProperties": False}, required=False))},
        "/records/{type_key}/{record_id}/history": {"get": _op(
            "records", "List the record's changes field by field, newest first.",
            _ok("The history.", ref("RecordHistory")), errors="400 404",
            params=[*record, _query("limit", "At most this many.", {"type": "integer", "minimum": 1,
                                                                     "maximum": 1000, "default": 200})])},
        "/records/{type_key}/{record_id}/related": {"get": _op(
            "records", "List the records that refer to this one, per type and field, with counts; types that "
                       "could refer to it give empty lists.",
            _ok("Related lists.", ref("RelatedLists")), errors="400 404",
            params=[*record, _query("per_list", "Records per list.", {"type": "integer", "minimum": 1,
                                                                       "maximum": 50, "default": 10})])},
        "/records/{type_key}/{record_id}/processes": {"get": _op(
            "records", "List the process instances the caller may see that created, updated or linked the record.",
            _ok("Instances with their relation.", ref("RecordProcesses")), errors="400 404",
            params=[*record, _query("limit", "At most this many.", {"type": "integer", "minimum": 1,
                                                                     "maximum": 200, "default": 20})])},
    }


def _paths() -> dict:
    from .openapi_calendar import calendar_paths
    from .openapi_collab import collab_paths  # it builds on this module's helpers: bind late
    from .openapi_definitions import definition_paths
    from .openapi_moves import move_paths
    inbox_filters = [
        _query("view", "Which list.", {"type": "string", "enum": ["mine", "group", "done", "started", "cc"],
                                       "default": "mine"}),
        _query("process", "Only this process key."), _query("status", "Instance status (started and cc views)."),
        _query("created_from", "Created on or after.", DATE), _query("created_to", "Created on or before.", DATE),
        _query("due_from", "Due on or after.", DATE), _query("due_to", "Due on or before.", DATE),
        _query("overdue", "Only overdue tasks.", FLAG), _query("priority_min", "Minimum priority.", INTEGER),
        _query("initiator", "Started by this user name."), _query("text", "Text in the title or business key."),
        _query("f.{field}", "Instance data field equals this value (replace {field} by a form field name)."),
        _query("sort", "Sort order.", {"type": "string", "enum": ["due", "priority", "created"], "default": "due"}),
        _query("desc", "Sort descending.", FLAG), *PAGE]
    instance_filters = [
        _query("process", "Only this process key."),
        _query("status", "Instance status.", {"type": "string", "enum": list(INSTANCE_STATUSES)}),
        _query("started_from", "Started on or after.", DATE), _query("started_to", "Started on or before.", DATE),
        _query("overdue", "Only instances with an overdue open task.", FLAG),
        _query("department", "Only instances started by members of this department code."), *PAGE]
    upload = {"required": True, "content": {"multipart/form-data": {"schema": ref("UploadRequest"),
                                                                    "encoding": {"file": {"contentType":
                                                                                          "application/octet-stream"}}}}}
    task_action = {"200": _ok("The task after the change.", ref("Task"))}
    return {
        "/auth/token": {"post": _op(
            "auth", "Exchange a user name and password for a bearer token valid for 30 days.",
            _ok("A new personal token; keep it secret.", ref("Token")), errors="400 401 429",
            body=_body(ref("TokenRequest")), public_route=True)},
        "/me": {"get": _op("org", "Describe the signed-in user with rights and inbox counts.",
                           _ok("The signed-in user.", ref("Me")))},
        "/users": {"get": _op("org", "List users, one page at a time.", _ok("A page of users.", ref("UserPage")),
                              errors="400", params=[_query("department", "Department code."),
                                                    _query("q", "Text in user name, name or email."),
                                                    _query("status", "User status.",
                                                           {"type": "string", "enum": ["active", "left"]}), *PAGE]),
                   "post": _op("org", "Create a user with a first password (admins).",
                               _ok("The new user.", ref("User")), status="201", errors=ADMIN_WRITE,
                               body=_body(ref("UserCreateRequest")))},
        "/users/{username}": {"get": _op("org", "Describe one user.", _ok("The user.", ref("User")), errors="404",
                                         params=[_path("username", "The user name.")]),
                              "patch": _op("org", "Change a user (admins); fields left out keep their values. "
                                                  "Admins cannot mark themselves as left or drop their own admin "
                                                  "role (422).",
                                           _ok("The user after the change.", ref("User")), errors=ADMIN_WRITE,
                                           params=[_path("username", "The user name.")],
                                           body=_body(ref("UserUpdateRequest")))},
        "/departments": {"get": _op("org", "Return the department tree with leaders.",
                                    _ok("The top-level departments, each with its children.",
                                        {"type": "object", "required": ["items"],
                                         "properties": {"items": {"type": "array", "items": ref("Department")}}})),
                         "post": _op("org", "Create a department (admins).",
                                     _ok("The new department.", ref("DepartmentDetail")), status="201",
                                     errors=ADMIN_WRITE, body=_body(ref("DepartmentCreateRequest")))},
        "/departments/{code}": {"patch": _op(
            "org", "Change a department (admins); fields left out keep their values, the code stays.",
            _ok("The department after the change.", ref("DepartmentDetail")), errors=ADMIN_WRITE,
            params=[_path("code", "The department code.")], body=_body(ref("DepartmentUpdateRequest")))},
        **_unit_paths("positions", "position", "Position"),
        **_unit_paths("roles", "role", "Unit"),
        **_unit_paths("groups", "group", "Unit"),
        "/definitions": {
            "get": _op("definitions", "List the newest version of every process (non-designers: published only).",
                       _ok("Process definitions.", ref("DefinitionList")), errors="400",
                       params=[_query("q", "Text in key, name or description."), _query("category", "Category."),
                               _query("startable", "Only processes that can start now (the catalogue).", FLAG)]),
            "post": _op("definitions", "Upload a .bpmn file or .zip bundle as a new version (designers and admins).",
                        _ok("The new version with its validation report.", ref("DefinitionVersionDetail")),
                        status="201", errors="400 403 413", body=upload,
                        extra={"200": _ok("Identical files are already stored: that version.",
                                          ref("DefinitionVersionDetail"))})},
        "/definitions/{key}": {"get": _op(
            "definitions", "List a process's versions, newest first, with reports and the start form.",
            _ok("The versions of the process.", ref("Definition")), errors="404", params=[KEY])},
        "/definitions/{key}/diagram.svg": {"get": _op(
            "definitions", "Draw a version of the process (the newest by default).",
            {"description": "The diagram.", "content": SVG}, errors="400 404 422",
            params=[KEY, _query("version", "Version number.", {"type": "integer", "minimum": 1})])},
        "/definitions/{key}/versions/{number}/status": {"post": _op(
            "definitions", "Publish, deprecate or return a version to draft (designers and admins).",
            _ok("The version.", ref("DefinitionVersionDetail")), errors="400 403 404",
            params=[KEY, _path("number", "The version number.", {"type": "integer", "minimum": 0})],
            body=_body(ref("StatusRequest")))},
        **definition_paths(),
        "/definitions/{key}/instances": {"post": _op(
            "instances", "Start the process with start-form data.",
            _ok("The new instance.", ref("StartedInstance")), status="201", errors="400 404 409 422",
            params=[KEY], body=_body(ref("StartRequest"), required=False))},
        "/instances": {"get": _op(
            "instances", "List instances, newest first: managers see all, others those they take part in.",
            _ok("A page of instances.", ref("InstancePage")), errors="400", params=instance_filters)},
        "/instances/{instance_id}": {"get": _op(
            "instances", "Describe an instance: status, data, active tasks, history.",
            _ok("The instance.", ref("InstanceDetail")), errors="404", params=[INSTANCE_ID])},
        "/instances/{instance_id}/diagram.svg": {"get": _op(
            "instances", "Draw the instance's progress on its model.", {"description": "The diagram.", "content": SVG},
            errors="404 422", params=[INSTANCE_ID])},
        "/tasks": {"get": _op("tasks", "List one inbox view with filters, one page at a time.",
                              _ok("A page of tasks (mine, group, done) or instances (started, cc).",
                                  ref("InboxPage")), errors="400", params=inbox_filters)},
        "/tasks/{task_id}": {"get": _op("tasks", "Describe a task with its form schema and its instance's data.",
                                        _ok("The task.", ref("TaskDetail")), errors="404", params=[TASK_ID])},
        "/tasks/{task_id}/claim": {"post": _op("tasks", "Take a group task for oneself.", task_action["200"],
                                               errors="404 409", params=[TASK_ID])},
        "/tasks/{task_id}/unclaim": {"post": _op("tasks", "Give a claimed task back to its group.",
                                                 task_action["200"], errors="404 409", params=[TASK_ID])},
        "/tasks/{task_id}/complete": {"post": _op(
            "tasks", "Complete a task with form data, a decision and a comment (a rejection needs a comment).",
            _ok("The completed task with its instance.", ref("Task")), errors="400 403 404 409 422",
            params=[TASK_ID], body=_body(ref("CompleteRequest"), required=False))},
        "/tasks/{task_id}/approve": {"post": _op(
            "tasks", "Approve a task: complete with the decision approve (data, comment and picks as for complete).",
            _ok("The completed task with its instance.", ref("Task")), errors="400 403 404 409 422",
            params=[TASK_ID], body=_body({"type": "object", "additionalProperties": False, "properties": {
                "data": {"type": "object"}, "comment": {"type": ["string", "null"]}, "picks": PICKS}},
                required=False))},
        "/tasks/{task_id}/reject": {"post": _op(
            "tasks", "Reject a task with a comment: complete with the decision reject; the step's "
                     "flowdesk.onReject says what follows.",
            _ok("The completed task with its instance.", ref("Task")), errors="400 403 404 409 422",
            params=[TASK_ID], body=_body({"type": "object", "required": ["comment"], "additionalProperties": False,
                                          "properties": {"data": {"type": "object"},
                                                         "comment": {"type": "string", "minLength": 1}}}))},
        **_verb_paths(),
        **move_paths(),
        **_lifecycle_paths(),
        **_record_type_paths(),
        **_record_paths(),
        **collab_paths(),
        **calendar_paths(),
        "/search": {"get": _op(
            "search", "Search documents, records and knowledge articles the caller may open. Every word must be "
                      "found, in the title or the text; Chinese needs no spaces; a word ending in * matches words "
                      "starting with it. Hits come best first.",
            _ok("One page of hits.", ref("SearchPage")), errors="400",
            params=[_query("q", "The words to find (1 to 200 characters, at most 24 words)."),
                    _query("kind", "Only this kind.", {"type": "string", "enum": ["document", "record", "article"]}),
                    _query("mine", "Only entries the caller owns.", FLAG),
                    _query("owner", "Only entries this user name owns."),
                    _query("from", "Changed on or after this day.", {"type": "string", "format": "date"}),
                    _query("to", "Changed on or before this day.", {"type": "string", "format": "date"}),
                    _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 100,
                                                            "default": 1}),
                    _query("page_size", "Hits per page.", {"type": "integer", "minimum": 1, "maximum": 100,
                                                           "default": 20})])},
        "/openapi.json": {"get": _op("meta", "This document.", _ok("The OpenAPI document.", {"type": "object"}),
                                     public_route=True)},
    }


def document() -> dict:
    """Build the OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Flowdesk API", "version": "1.0.0",
                 "description": "JSON for everything the Flowdesk pages do. Get a token from POST /auth/token or "
                                "the Account > API tokens page and send it as `Authorization: Bearer <token>`. "
                                "Every error has the shape {\"error\": {\"code\", \"message\", \"details\"}}; "
                                "timestamps are ISO-8601, ids are integers."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "tags": [{"name": n} for n in ("auth", "org", "definitions", "instances", "tasks", "records", "collab",
                                       "calendar", "search", "meta")],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal API token (fd_...)."}},
            "schemas": SCHEMAS,
            "responses": {name: {"description": text, "content": _json(ref("Error"))}
                          for name, text in ERRORS.values()},
        },
    }


@bp.get("/openapi.json")
@public
def openapi():
    """Serve the OpenAPI document."""
    return jsonify(document())
