"""Stable path: ``nbgrader_config.py`` names ``framelab.feedback.FeedbackExporter``. The code lives in
:mod:`framelab.instructor.feedback`."""

from framelab.instructor.feedback import FeedbackExporter

__all__ = ["FeedbackExporter"]
