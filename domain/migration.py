"""Moving a ledger to another store (SQLite → PostgreSQL) by copying every event in order.

Stored events are copied byte for byte (encrypted payloads stay encrypted, hash chains stay
intact), a page per transaction; an interrupted copy resumes where the target stops.
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.persistence import StoredEvent

from domain.services.core import LedgerCore

PAGE = 1000


class MigrationError(Exception):
    pass


def copy_events(source: LedgerCore, target: LedgerCore,
                progress: Callable[[int, int], None] | None = None) -> int:
    """Copy the events `target` lacks; returns how many were copied."""
    total = source.events_count()
    already = target.events_count()
    if already > total:
        raise MigrationError(
            f"the target holds {already} events, more than the source's {total}: wrong target?")
    copied = 0
    skipped = 0
    page: list[StoredEvent] = []
    for notification in source.iter_notifications(page=PAGE):
        if skipped < already:
            # Resuming: the target's events must be the source's first ones, in order.
            skipped += 1
            continue
        page.append(StoredEvent(notification.originator_id, notification.originator_version,
                                notification.topic, notification.state))
        if len(page) == PAGE:
            target.recorder.insert_events(page)
            copied += len(page)
            page = []
            if progress:
                progress(already + copied, total)
    if page:
        target.recorder.insert_events(page)
        copied += len(page)
    if progress:
        progress(already + copied, total)
    if target.events_count() != total:
        raise MigrationError(
            f"copied {copied} events but the target holds {target.events_count()} of {total}")
    return copied
