"""Running process instances, the work items of the inbox, history, timers and the worker's jobs."""
