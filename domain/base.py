"""The aggregate base class: every event records who triggered it and chains to the one before.

Each event stores ``prev_hash``, the SHA-256 of the previous event of its stream in a
canonical form, so altering a stored event breaks the chain at its successor and
``claimdesk verify`` names it (see ``domain.chain``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.chain import GENESIS, event_hash
from domain.identity import current_actor

# All our aggregate ids are uuid5 of a natural key, so a duplicate registration or a
# re-imported file collides in the store instead of creating a second stream.
NAMESPACE = UUID("6f1d5f0e-8f5e-4c59-9a39-2f3f0b1c9a77")


def stream_id(kind: str, key: str) -> UUID:
    return uuid5(NAMESPACE, f"{kind}:{key}")


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """Replay `events` onto `aggregate`: eventsourcing's `project_aggregate` without its
    per-event ``isinstance`` against a runtime Protocol, which cost more than the replay."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class BillingAggregate(Aggregate):
    """Aggregate whose events carry `actor` and `prev_hash`."""

    class Event(Aggregate.Event):
        actor: str
        prev_hash: str

        def apply(self, aggregate: Any) -> None:
            # Runs after the event's own mutation, on trigger and on every replay. Only the
            # hash of a stream's last event is ever needed (as the next one's prev_hash), so
            # it is computed when the next event asks for it: a replay hashes nothing. State
            # changes only through events, so the hash is what it would have been here.
            aggregate._chain_last = self

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs.setdefault("actor", current_actor())
        if "prev_hash" not in kwargs:
            kwargs["prev_hash"] = self.chain_head()
        super().trigger_event(event_class, **kwargs)

    def chain_head(self) -> str:
        """The hash of this aggregate's last event (GENESIS before the first)."""
        last = self.__dict__.get("_chain_last")
        return GENESIS if last is None else event_hash(last)

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("actor", current_actor())
        kwargs.setdefault("prev_hash", GENESIS)
        return super()._create(event_class, id=id, **kwargs)
