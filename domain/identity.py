"""Who is acting: the actor recorded on every event."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_actor: ContextVar[str | None] = ContextVar("claimdesk_actor", default=None)


def os_user() -> str:
    """The OS login: what SSH gives us, hence the default identity."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry inside some containers
        return os.environ.get("USER") or f"uid{os.getuid()}"


def current_actor() -> str:
    return _actor.get() or os.environ.get("CLAIMDESK_USER") or os_user()


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)
