"""Stable path: ``nbgrader_config.py`` names ``framelab.preprocessors.TeachingFeedback``,
``LimitOutputChars`` and ``SanitizeUntrusted`` (a course keeps its config across upgrades). The code
lives in :mod:`framelab.grading.preprocessors`."""

from framelab.grading.preprocessors import FeedbackRefused, LimitOutputChars, SanitizeUntrusted, TeachingFeedback

__all__ = ["FeedbackRefused", "LimitOutputChars", "SanitizeUntrusted", "TeachingFeedback"]
