"""Files attached to start and task forms: stored before the form is checked, in the same transaction."""
from __future__ import annotations

from flask import current_app, request

from attachments import service as attachments
from attachments.errors import AttachmentRefused
from forms import schema as forms


def store_dir():
    """Return the folder of the file store."""
    return current_app.extensions["flowdesk.settings"].var_dir / "files"


def save_uploads(session, schema: dict | None, actor: str) -> tuple[dict[str, list[int]], dict]:
    """Store the files posted for the form's attachment fields; return ids by field and errors by field."""
    ids, errors = {}, {}
    limit = current_app.extensions["flowdesk.settings"].max_upload_mb * 1024 * 1024
    for spec in forms.fields(schema or {}):
        if spec.kind != "attachments":
            continue
        for upload in request.files.getlist(spec.name):
            if not upload or not upload.filename:
                continue
            try:
                saved = attachments.store(session=session, store_dir=store_dir(), stream=upload.stream,
                                          file_name=upload.filename, actor=actor, max_bytes=limit)
            except AttachmentRefused as exc:
                errors[spec.name] = forms.FieldError("invalid", detail=exc.message)
                break
            ids.setdefault(spec.name, []).append(saved.id)
    return ids, errors
