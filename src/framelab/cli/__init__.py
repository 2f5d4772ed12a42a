"""The ``framelab`` command (``pyproject.toml`` names ``framelab.cli:main``)."""

from framelab.cli.main import main

__all__ = ["main"]
