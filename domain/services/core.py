"""Plumbing shared by the use-case mixins: loading, saving, acting user, conflict retries."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Transcoder

from domain import clock
from domain.base import BillingAggregate
from domain.errors import ConcurrencyError, NotFoundError
from domain.identity import acting_as, current_actor
from domain.ids import IdSource
from domain.transcoding import MroJSONTranscoder, register_transcodings

A = TypeVar("A", bound=BillingAggregate)
F = TypeVar("F", bound=Callable[..., Any])

RETRIES = 5

_NAMES = {"PatientAccount": "account", "Encounter": "encounter", "Claim": "claim",
          "Payer": "payer", "Contract": "contract", "Provider": "provider",
          "Chargemaster": "chargemaster"}


class LedgerCore(Application):
    """An eventsourcing Application with our transcoder, identity and save hooks."""

    name = "claimdesk"
    is_snapshotting_enabled = False

    def __init__(
        self, env: Mapping[str, str] | None = None, *, actor: str | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(env=env)
        self.actor = actor
        self.ids = IdSource(seed)
        self.after_save: list[Callable[[], None]] = []

    def construct_transcoder(self) -> Transcoder:
        transcoder = MroJSONTranscoder()
        register_transcodings(transcoder)
        return transcoder

    @property
    def acting_user(self) -> str:
        return self.actor or current_actor()

    def today(self) -> date:
        return clock.today()

    def _get(self, cls: type[A], *key: Any) -> A:
        aggregate_id: UUID = cls.create_id(*key)
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            what = _NAMES.get(cls.__name__, cls.__name__.lower())
            raise NotFoundError(f"no {what} {' '.join(map(str, key))}".strip()) from None
        assert isinstance(aggregate, cls)
        return aggregate

    def _exists(self, cls: type[BillingAggregate], *key: Any) -> bool:
        return cls.create_id(*key) in self.repository

    def _save(self, *aggregates: BillingAggregate) -> None:
        self.save(*aggregates)
        for hook in self.after_save:
            hook()

    def events_count(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def iter_notifications(self, start: int = 1, page: int = 1000) -> Iterator[Any]:
        """Every stored event in the order it was recorded, paged to bound memory."""
        position = start
        while True:
            notifications = self.recorder.select_notifications(start=position, limit=page)
            if not notifications:
                return
            yield from notifications
            position = notifications[-1].id + 1


def command(method: F) -> F:
    """Run a use case as the acting user; retry it when another biller saved first.

    Optimistic concurrency: a conflicting save raises IntegrityError before anything is
    written, so re-running the whole command on fresh state is safe and loses nothing.
    """

    @functools.wraps(method)
    def wrapper(self: LedgerCore, *args: Any, **kwargs: Any) -> Any:
        with acting_as(self.acting_user):
            for attempt in range(RETRIES):
                try:
                    return method(self, *args, **kwargs)
                except IntegrityError:
                    if attempt == RETRIES - 1:
                        raise ConcurrencyError(
                            f"{method.__name__}: the records changed {RETRIES} times while "
                            "saving; try again") from None
            raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]


def chain_break(ledger: LedgerCore) -> dict[str, Any] | None:
    """Recompute every stream's hash chain from the stored events."""
    from domain.chain import first_break  # noqa: PLC0415

    return first_break((n.id, ledger.mapper.to_domain_event(n))
                       for n in ledger.iter_notifications())
