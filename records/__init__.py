"""Record types and records: the CRM's data objects, their links, history and dictionaries."""
from . import attendance as _attendance  # noqa: F401  registers leave.assess / overtime.assess / attendance.record
from . import operations as _operations  # noqa: F401  registers record.create / record.update / record.link
