"""Server-side SVG drawings of BPMN models, an instance's progress and a definition's bottlenecks.

Pure Python: no Flask, no database. It reads models only through engine.xmlsafe.parse_xml.
"""
from .errors import DiagramError
from .progress import progress_from_history
from .render import render_definition

__all__ = ["DiagramError", "progress_from_history", "render_definition"]
