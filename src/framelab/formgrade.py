"""Stable path: ``nbgrader_config.py`` names ``framelab.formgrade.FormgraderView``. The code lives in
:mod:`framelab.grading.formgrade`."""

from framelab.grading.formgrade import FormgraderView

__all__ = ["FormgraderView"]
