"""The one hardened XML parser every BPMN and DMN file goes through."""
from __future__ import annotations

import re

from lxml import etree

from .errors import ModelError

MAX_XML_BYTES = 10 * 1024 * 1024

# No entity expansion, no DTD loading, no network: a model file is data, never a fetch instruction.
_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)
# A DTD can only sit in the prolog, before the root tag; checking the raw bytes there refuses it before
# lxml reads any of it and gives its line. Text such as "<!DOCTYPE html>" inside CDATA stays allowed.
_DTD_MARKUP = re.compile(rb"<!(DOCTYPE|ENTITY)\b", re.IGNORECASE)
_FIRST_TAG = re.compile(rb"<[A-Za-z_:]")
_DTD_REFUSED = "DOCTYPE and ENTITY declarations are not allowed in model files"


def parse_xml(data: bytes | str, file_name: str) -> etree._ElementTree:
    """Parse XML text into a tree, refusing DTDs, entities and oversized input."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_XML_BYTES:
        raise ModelError(f"file is larger than {MAX_XML_BYTES // (1024 * 1024)} MiB", file_name=file_name)
    if not data.strip():
        raise ModelError("file is empty", file_name=file_name)
    root_tag = _FIRST_TAG.search(data)
    match = _DTD_MARKUP.search(data, 0, root_tag.start() if root_tag else len(data))
    if match:
        raise ModelError(_DTD_REFUSED, file_name=file_name,
                         line=data.count(b"\n", 0, match.start()) + 1)
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None) or (exc.position[0] if getattr(exc, "position", None) else None)
        raise ModelError(f"not well-formed XML: {exc.msg}", file_name=file_name, line=line) from None
    except (ValueError, TypeError) as exc:
        raise ModelError(f"not well-formed XML: {exc}", file_name=file_name) from None
    docinfo = tree.docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise ModelError(_DTD_REFUSED, file_name=file_name)
    return tree
