"""The operation and access log: who did what, when, from where, with before and after."""
