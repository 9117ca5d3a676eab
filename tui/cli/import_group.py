"""The `claimdesk import ...` command group, shared by every importer's CLI module.

Each importer module calls `import_subparsers(subparsers)` from its own ``register`` and adds
its subcommand (``835``, ``999``, ``837``, ``patients``...) to what it returns; the first call
creates the ``import`` parser, later calls get the same sub-parsers object.
"""

from __future__ import annotations

from typing import Any

_ATTRIBUTE = "_claimdesk_import_subparsers"


def import_subparsers(subparsers: Any) -> Any:
    """The sub-parsers of `claimdesk import`, created once per top-level parser."""
    existing = getattr(subparsers, _ATTRIBUTE, None)
    if existing is None:
        parser = subparsers.add_parser(
            "import", help="read files into the ledger: 835 payments, 999/277CA "
                           "acknowledgements, claims and reference data")
        existing = parser.add_subparsers(dest="import_command", metavar="FORMAT")
        setattr(subparsers, _ATTRIBUTE, existing)
    return existing
