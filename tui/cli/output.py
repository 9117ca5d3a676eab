"""Files a command writes (837, 270/276, 835, PDF): checked before anything is recorded.

A command that records an event and writes a file checks the path first, so that a typo in
`--out` or `--pdf` is refused with one line and records nothing; a write that still fails
(a full disk) is told the same way, never as a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from tui.cli.context import CliError


def check_writable(path: Path) -> None:
    """Refuse (exit 2) a path that could not be written: a directory, a missing or
    unwritable parent directory, an unwritable file."""
    parent = path.parent
    if path.is_dir():
        raise CliError(f"cannot write {path}: it is a directory")
    if not parent.is_dir():
        reason = "is not a directory" if parent.exists() else "does not exist"
        raise CliError(f"cannot write {path}: the directory {parent} {reason}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"cannot write {path}: the directory {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise CliError(f"cannot write {path}: the file is not writable")


def write_file(path: Path, data: bytes | str, *, after: str = "") -> None:
    """Write `data` (text as ASCII), turning an OSError into one line; `after` says what was
    already done, when the failure comes after something was recorded."""
    try:
        if isinstance(data, str):
            path.write_text(data, encoding="ascii")
        else:
            path.write_bytes(data)
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror or error}"
                       + (f"; {after}" if after else "")) from None
