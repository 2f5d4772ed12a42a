"""Stable path: every released and submitted notebook runs ``from framelab.notebook import Lesson``, so
this name must never move. The code lives in :mod:`framelab.views.lesson`."""

from framelab.views.lesson import ContentError, Exercise, Lesson

__all__ = ["ContentError", "Exercise", "Lesson"]
