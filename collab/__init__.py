"""Collaboration: internal messages, notifications and their delivery by email and chat webhooks."""
