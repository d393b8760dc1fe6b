"""Running process instances, the work items of the inbox, history, timers and the worker's jobs."""
from . import operations as _operations  # noqa: F401  registers instance.copy, the copy node (抄送节点)
