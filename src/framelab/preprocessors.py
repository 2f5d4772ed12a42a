"""Stable path: ``nbgrader_config.py`` names ``framelab.preprocessors.TeachingFeedback`` and
``framelab.preprocessors.LimitOutputChars`` (a course keeps its config across upgrades). The code
lives in :mod:`framelab.grading.preprocessors`."""

from framelab.grading.preprocessors import FeedbackRefused, LimitOutputChars, TeachingFeedback

__all__ = ["FeedbackRefused", "LimitOutputChars", "TeachingFeedback"]
