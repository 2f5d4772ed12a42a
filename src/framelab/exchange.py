"""Stable paths: the hub installer (``deploy/jupyterhub/install-course-env.sh``) writes
``c.ExchangeFactory.submit = "framelab.exchange.PrivateSubmit"`` into a course's global config, and the
course's ``nbgrader_config.py`` names ``c.ExchangeFactory.collect = "framelab.exchange.SafeCollect"``.
The code lives in :mod:`framelab.grading.exchange` and :mod:`framelab.grading.collect`."""

from framelab.grading.collect import SafeCollect
from framelab.grading.exchange import PrivateSubmit

__all__ = ["PrivateSubmit", "SafeCollect"]
