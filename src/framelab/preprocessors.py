"""Stable path: ``nbgrader_config.py`` names ``framelab.preprocessors.TeachingFeedback``,
``LimitOutputChars``, ``SanitizeUntrusted``, ``LatePolicy`` and ``LateNote`` (a course keeps its config
across upgrades). The code lives in :mod:`framelab.grading.preprocessors` and :mod:`framelab.grading.late`."""

from framelab.grading.late import LateNote, LatePolicy
from framelab.grading.preprocessors import FeedbackRefused, LimitOutputChars, SanitizeUntrusted, TeachingFeedback

__all__ = ["FeedbackRefused", "LateNote", "LatePolicy", "LimitOutputChars", "SanitizeUntrusted", "TeachingFeedback"]
