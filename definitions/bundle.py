"""Read what a designer deploys: a process folder, a single BPMN file or a zip archive."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path, PurePosixPath

from .errors import InvalidDefinition

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
MAX_FILES = 200
ACCEPTED_SUFFIXES = (".bpmn", ".bpmn20.xml", ".bpmn2", ".dmn", ".json", ".xml")
METADATA_FILE = "process.json"


def _accepted(name: str) -> bool:
    return name.lower().endswith(ACCEPTED_SUFFIXES)


def read_folder(path: Path) -> dict[str, bytes]:
    """Read the model, form and metadata files of one process folder."""
    files = {}
    for item in sorted(path.rglob("*")):
        if item.is_file() and _accepted(item.name):
            name = item.relative_to(path).as_posix()
            if item.stat().st_size > MAX_FILE_BYTES:
                raise InvalidDefinition(f"{name} is larger than {MAX_FILE_BYTES // 2**20} MiB",
                                        details={"file": name})
            files[name] = item.read_bytes()
    if not files:
        raise InvalidDefinition(f"{path} holds no BPMN, DMN or JSON files", details={"path": str(path)})
    return files


def read_zip(data: bytes, label: str = "archive") -> dict[str, bytes]:
    """Read a zip archive safely: bounded sizes, no absolute or parent paths."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidDefinition(f"{label} is not a valid zip archive", details={"file": label}) from None
    files, total = {}, 0
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_FILES:
        raise InvalidDefinition(f"{label} holds more than {MAX_FILES} files", details={"file": label})
    for member in members:
        name = PurePosixPath(member.filename)
        if name.is_absolute() or ".." in name.parts:
            raise InvalidDefinition(f"{label} contains an unsafe path: {member.filename}",
                                    details={"file": member.filename})
        if name.name.startswith(".") or "__MACOSX" in name.parts or not _accepted(name.name):
            continue
        if member.file_size > MAX_FILE_BYTES:
            raise InvalidDefinition(f"{member.filename} is larger than {MAX_FILE_BYTES // 2**20} MiB",
                                    details={"file": member.filename})
        total += member.file_size
        if total > MAX_BUNDLE_BYTES:
            raise InvalidDefinition(f"{label} unpacks to more than {MAX_BUNDLE_BYTES // 2**20} MiB",
                                    details={"file": label})
        with archive.open(member) as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
        files[name.as_posix()] = content
    if not files:
        raise InvalidDefinition(f"{label} holds no BPMN, DMN or JSON files", details={"file": label})
    return files


def read_path(path: str | Path) -> dict[str, bytes]:
    """Read a folder, a .bpmn file or a .zip archive into name -> bytes."""
    target = Path(path)
    if target.is_dir():
        return read_folder(target)
    if not target.exists():
        raise InvalidDefinition(f"{path} does not exist", details={"path": str(path)})
    data = target.read_bytes()
    if target.suffix.lower() == ".zip":
        return read_zip(data, target.name)
    if not _accepted(target.name):
        raise InvalidDefinition(f"{target.name} is not a BPMN file or zip archive", details={"file": target.name})
    if len(data) > MAX_FILE_BYTES:
        raise InvalidDefinition(f"{target.name} is larger than {MAX_FILE_BYTES // 2**20} MiB",
                                details={"file": target.name})
    return {target.name: data}


def split_metadata(files: dict[str, bytes]) -> tuple[dict[str, bytes], dict]:
    """Separate the optional process.json metadata from the model and form files."""
    files = dict(files)
    raw = files.pop(METADATA_FILE, None)
    if raw is None:
        return files, {}
    try:
        metadata = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidDefinition(f"{METADATA_FILE} is not valid JSON: {exc}", details={"file": METADATA_FILE}) \
            from None
    if not isinstance(metadata, dict):
        raise InvalidDefinition(f"{METADATA_FILE} must hold a JSON object", details={"file": METADATA_FILE})
    return files, metadata
