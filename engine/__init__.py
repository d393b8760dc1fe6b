"""Flowdesk's BPMN runtime around SpiffWorkflow: pure, with no web framework, database or file access."""
