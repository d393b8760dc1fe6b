"""The records domain's public face: record types, records, lists, related lists and dictionaries."""
from __future__ import annotations

from .core import install_core_types
from .dictionaries import dictionary_options, get_dictionary_or_raise, list_dictionaries, save_dictionary
from .query import (
                    Filter,
                    Page,
                    RelatedList,
                    counts_by_type,
    export_records,
                    list_records,
                    processes,
                    referencing_types,
                    related,
                    titles,
)
from .records import (
                    create_record,
                    delete_record,
                    get_record_or_raise,
                    history,
                    link_process,
                    record_readable,
                    restore_record,
                    update_record,
)
from .types import (
                    ChangeReport,
                    TypeView,
                    change_type,
                    define_type,
                    get_type_or_raise,
                    list_types,
                    list_versions,
                    set_active,
                    type_by_id,
)

__all__ = [
    "ChangeReport", "Filter", "Page", "RelatedList", "TypeView", "change_type", "counts_by_type", "export_records", "create_record",
    "define_type", "delete_record", "dictionary_options", "get_dictionary_or_raise", "get_record_or_raise",
    "get_type_or_raise", "history", "install_core_types", "link_process", "list_dictionaries", "list_records",
    "list_types", "list_versions", "processes", "record_readable", "referencing_types", "related",
    "restore_record", "save_dictionary", "set_active", "titles", "type_by_id", "update_record",
]
