"""The ``framelab`` command: parse the arguments (:mod:`framelab.cli.parsers`) and run the subcommand."""

from __future__ import annotations

import sys

from framelab.cli.parsers import build_parser


def _skip_slow_optional_imports() -> None:
    """jsonschema (under nbformat and nbgrader) imports ``rfc3987_syntax`` if it is installed, for its
    optional "iri" format check, and that module builds a grammar at import: 1-2 s on every command
    that reads a notebook (jsonschema issue #1428). Notebook schemas use no such format, so a command
    started here goes without it: jsonschema then simply does not check "iri" formats."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    _skip_slow_optional_imports()
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
