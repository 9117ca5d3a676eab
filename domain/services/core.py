"""Plumbing shared by the use-case mixins: loading, saving, acting user, conflict retries."""

from __future__ import annotations

import copy
import functools
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent, Transcoder

from domain import clock
from domain.base import BillingAggregate, project
from domain.errors import (
    ConcurrencyError,
    NotFoundError,
    PeriodClosedError,
    PermissionDenied,
    StorageError,
)
from domain.identity import acting_as, current_actor
from domain.ids import IdSource
from domain.permissions import roles_for
from domain.storage import events_table_of
from domain.transcoding import MroJSONTranscoder, register_transcodings
from domain.users import SETTING_DEFAULTS, Books, Role, UserDirectory

A = TypeVar("A", bound=BillingAggregate)
F = TypeVar("F", bound=Callable[..., Any])

# Offered a file's events, serialized, before they are saved (`_save_when`), with the position
# the first of them should get; returns what to run with the positions they got once saved.
BeforeSave = Callable[[Sequence[StoredEvent], int], "Callable[[Sequence[int]], object] | None"]

RETRIES = 30
SCHEMA_RETRIES = 8

# Streams read per query by `_get_many` (well under SQLite's bound-parameter limit).
STREAMS_PER_QUERY = 500


class Raced(IntegrityError):
    """Another writer recorded what this command was doing while it read its state.

    Reads of several streams are separate queries, so a command can see one stream before
    another writer's save and the next one after it. Raised (and retried like a conflicting
    save) when a command finds that happened; the retry reads everything afresh.
    """

_NAMES = {"PatientAccount": "account", "Encounter": "encounter", "Claim": "claim",
          "Payer": "payer", "Contract": "contract", "Provider": "provider",
          "Chargemaster": "chargemaster"}


class LedgerCore(Application[UUID]):
    """An eventsourcing Application with our transcoder, identity and save hooks."""

    name = "claimdesk"
    is_snapshotting_enabled = False

    def __init__(
        self, env: Mapping[str, str] | None = None, *, actor: str | None = None,
        seed: int | None = None, as_user: str | None = None,
    ) -> None:
        """`actor` is who is at the keyboard (default: the OS login or CLAIMDESK_USER);
        `as_user` asks to act as another ledger user (`--as-user`), checked per command."""
        super().__init__(env=env)
        self.actor = actor
        self.as_user = as_user
        self.ids = IdSource(seed)
        # Hooks run after each save; what they return (e.g. events caught up) is ignored.
        self.after_save: list[Callable[[], object]] = []
        # Hooks that prepare, while an importer waits for pyx12's verdict, what would follow
        # the file's save (the read models fold its events ahead; `_save_when`).
        self.before_save: list[BeforeSave] = []
        self.role: Role | None = None   # of the command running now; None = every role

    def construct_recorder(self) -> Any:
        """The recorder, its tables created if missing; retried when another process creates
        them at the same moment.

        Two application servers starting together on one PostgreSQL run eventsourcing's
        CREATE ... IF NOT EXISTS statements concurrently, and the catalog refuses the loser
        ("duplicate key ... pg_type_typname_nsp_index", "tuple concurrently updated").
        The statements are idempotent, so running them again once the winner committed is safe.
        """
        for attempt in range(SCHEMA_RETRIES):
            try:
                return super().construct_recorder()
            except PersistenceError:
                if attempt == SCHEMA_RETRIES - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    def construct_transcoder(self) -> Transcoder:
        transcoder = MroJSONTranscoder()
        register_transcodings(transcoder)
        return transcoder

    @property
    def login(self) -> str:
        """The real person: what SSH or the OS says, or the identity a test configures."""
        return self.actor or current_actor()

    @property
    def acting_user(self) -> str:
        return self.as_user or self.login

    def directory(self) -> UserDirectory | None:
        directory = self._current(UserDirectory)
        assert directory is None or isinstance(directory, UserDirectory)
        return directory

    def books(self) -> Books | None:
        books = self._current(Books)
        assert books is None or isinstance(books, Books)
        return books

    def _current(self, cls: type[BillingAggregate]) -> BillingAggregate | None:
        """A small, often-read singleton (users, books), kept and brought up to date.

        Every command reads both; replaying them each time showed up in profiles. Reading
        only the events after the version we hold keeps it exact when others change them.
        """
        cache: dict[type, BillingAggregate] = self.__dict__.setdefault("_singletons", {})
        held = cache.get(cls)
        if held is None:
            if not self._exists(cls):
                return None
            held = self._get(cls)
        else:
            for event in self.repository.event_store.get(held.id, gt=held.version):
                # The store's events are typed by the library's protocol; ours are these.
                cast(BillingAggregate.Event, event).mutate(held)
        cache[cls] = held
        # Commands mutate what they are given; hand out a copy, keep the original clean.
        return copy.deepcopy(held)

    def setting(self, name: str) -> int:
        books = self.books()
        return SETTING_DEFAULTS[name] if books is None else books.setting(name)

    def identify(self) -> tuple[str, Role | None]:
        """Who is acting and in which role (None: an open ledger, every role).

        ``--as-user`` is honoured only for an admin of this ledger, or on an open ledger
        for someone with no ledger user: a biller cannot use it to act as a supervisor.
        """
        directory = self.directory()
        name = self.acting_user
        if self.as_user is not None and self.as_user != self.login and directory is not None:
            me = directory.users.get(self.login)
            allowed = (me is None and directory.open_access) or (
                me is not None and me["role"] == Role.ADMIN and not me["disabled"])
            if not allowed:
                raise PermissionDenied(
                    f"{self.login} may not act as {self.as_user}: only an admin of this ledger "
                    "can use --as-user")
        if directory is None:
            return name, None
        user = directory.users.get(name)
        if user is None:
            if directory.open_access:
                return name, None
            raise PermissionDenied(
                f"{name} is not a user of this ledger; an admin adds users with "
                "`claimdesk users add`")
        if user["disabled"]:
            raise PermissionDenied(f"user {name} is disabled")
        return name, Role(user["role"])

    def authorize(self, command_name: str) -> str:
        name, role = self.identify()
        allowed = roles_for(command_name)
        if role is not None and role not in allowed:
            needs = " or ".join(sorted(r.value for r in allowed))
            raise PermissionDenied(
                f"{command_name.replace('_', ' ')} needs the {needs} role; {name} has the "
                f"{role.value} role")
        self.role = role
        return name

    def require_role(self, what: str, *roles: Role) -> None:
        """For rules inside a command (e.g. write-offs above a threshold)."""
        if self.role is not None and self.role not in roles:
            needs = " or ".join(r.value for r in roles)
            raise PermissionDenied(
                f"{what} needs the {needs} role; you have the {self.role.value} role")

    def today(self) -> date:
        return clock.today()

    def _get(self, cls: type[A], *key: Any) -> A:
        aggregate_id: UUID = cls.create_id(*key)
        try:
            aggregate = self.repository.get(aggregate_id, projector_func=project)
        except AggregateNotFoundError:
            what = _NAMES.get(cls.__name__, cls.__name__.lower())
            raise NotFoundError(f"no {what} {' '.join(map(str, key))}".strip()) from None
        assert isinstance(aggregate, cls)
        return aggregate

    def _exists(self, cls: type[BillingAggregate], *key: Any) -> bool:
        return cls.create_id(*key) in self.repository

    def _get_many(self, cls: type[A], keys: Iterable[tuple[Any, ...]]) -> dict[UUID, A]:
        """The aggregates of `cls` that exist under these keys, by id in the order of the keys:
        what `_get` gives for each, read `STREAMS_PER_QUERY` streams per query instead of one
        query per aggregate.

        A key with no stream is left out (the caller's `_get` then says it is not found). The
        streams are read in separate queries, like separate `_get`s: a writer in between
        shows up as a conflicting save, which `@command` retries on fresh state.
        """
        ids = list(dict.fromkeys(cls.create_id(*key) for key in keys))
        found: dict[UUID, A] = {}
        if self.repository.cache is not None:   # the library's cache decides what it serves
            for aggregate_id in ids:
                try:
                    aggregate = self.repository.get(aggregate_id, projector_func=project)
                except AggregateNotFoundError:
                    continue
                if isinstance(aggregate, cls):
                    found[aggregate_id] = aggregate
            return found
        to_domain_event = self.mapper.to_domain_event
        for start in range(0, len(ids), STREAMS_PER_QUERY):
            streams: dict[Any, list[Any]] = {}
            for stored in _select_streams(self.recorder, ids[start:start + STREAMS_PER_QUERY]):
                streams.setdefault(stored.originator_id, []).append(to_domain_event(stored))
            for events in streams.values():
                aggregate = project(None, events)
                if isinstance(aggregate, cls):
                    found[aggregate.id] = aggregate
        return {i: found[i] for i in ids if i in found}   # in the order asked

    def _save(self, *aggregates: BillingAggregate) -> None:
        self._check_open_period(aggregates)
        with _storage_errors():
            self.save(*aggregates)
        for hook in self.after_save:
            hook()

    def _save_when(self, confirm: Callable[[], bool] | None,
                   *aggregates: BillingAggregate) -> bool:
        """Save `aggregates` in one transaction once `confirm()` allows it; False: nothing saved.

        `confirm` may wait (an importer's pyx12 verdict, computed in another process). The
        time is not lost: the events are serialized first and offered to the `before_save`
        hooks, which fold them into the read models meanwhile; once saved, each hook is told
        the positions the events got, to keep or throw away what it prepared.
        """
        if (not self.before_save or self._held_back() or self.repository.cache is not None
                or self.snapshots is not None):
            # Nobody to prepare anything, an import's unit of work holding saves back, or an
            # aggregate cache or snapshots the library's own save must fill.
            if confirm is not None and not confirm():
                return False
            self._save(*aggregates)
            return True
        self._check_open_period(aggregates)
        stored = [self.mapper.to_stored_event(event)
                  for aggregate in aggregates for event in aggregate.pending_events]
        first = int(self.recorder.max_notification_id() or 0) + 1
        prepared = [hook(stored, first) for hook in self.before_save]
        if confirm is not None and not confirm():
            return False
        with _storage_errors():
            # What `save` does for this application (no snapshots, no aggregate cache, no
            # subscribers), with the events serialized already.
            positions = list(self.recorder.insert_events(stored) or [])
        for aggregate in aggregates:
            aggregate.collect_events()
        for finish in prepared:
            if finish is not None:
                finish(positions)
        for hook in self.after_save:
            hook()
        return True

    def _held_back(self) -> bool:
        """Whether saves are held back to be written together later (an import's unit of work)."""
        return False

    def _check_open_period(self, aggregates: tuple[BillingAggregate, ...]) -> None:
        books = self.books()
        if books is None or books.closed_through is None:
            return
        for aggregate in aggregates:
            for pending in aggregate.pending_events:
                effective = getattr(pending, "effective_on", None)
                if type(pending).__name__ == "ChargeEntered":
                    effective = getattr(pending, "posted_on", None)
                if effective is not None and effective <= books.closed_through:
                    raise PeriodClosedError(
                        f"{type(pending).__name__} dated {effective} falls in a closed period "
                        f"(closed through {books.closed_through}); post it as a correction "
                        "dated in the open period")

    def events_count(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def iter_notifications(self, start: int = 1, page: int = 1000,
                           topics: Sequence[str] = ()) -> Iterator[Any]:
        """Every stored event in the order it was recorded (only those of `topics`, when
        given: the recorder filters them), paged to bound memory."""
        position = start
        while True:
            notifications = self.recorder.select_notifications(start=position, limit=page,
                                                               topics=topics)
            if not notifications:
                return
            yield from notifications
            position = notifications[-1].id + 1


@contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except IntegrityError:
        raise
    except PersistenceError as error:
        # One transaction per save: when it fails, none of its events were written.
        raise StorageError(
            f"the ledger could not be written ({error}); nothing was recorded. Is the disk "
            "full, the ledger file read-only, or the database server unreachable?") from None


def _select_streams(recorder: Any, ids: list[UUID]) -> list[StoredEvent]:
    """Every stored event of these streams, stream by stream in version order, in one query.

    The recorders of eventsourcing read one stream per query; this reads the same rows from
    the same table. Any other recorder (in-memory, a newer eventsourcing) is asked per stream.
    """
    found = events_table_of(recorder)
    if found is None:
        return [stored for i in ids for stored in recorder.select_events(i)]
    engine, datastore, table = found
    if engine == "sqlite":
        marks = ",".join("?" * len(ids))
        with datastore.transaction(commit=False) as cursor:
            cursor.sqlite_cursor.row_factory = None   # tuples, not sqlite3.Row
            cursor.execute(
                "SELECT originator_id, originator_version, topic, state FROM "
                f"{table} WHERE originator_id IN ({marks}) "
                "ORDER BY originator_id, originator_version",
                # As the recorder writes them: a UUID as its hex, whatever the id type.
                [i.hex if isinstance(i, UUID) else i for i in ids])
            rows = cursor.fetchall()
        convert = recorder.convert_originator_id
        return [StoredEvent(originator_id=convert(o), originator_version=v, topic=t, state=s)
                for o, v, t, s in rows]
    from psycopg.rows import tuple_row  # noqa: PLC0415 - only with a PostgreSQL ledger
    from psycopg.sql import SQL, Identifier  # noqa: PLC0415

    statement = SQL(
        "SELECT originator_id, originator_version, topic, state FROM {}.{} "
        "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version",
    ).format(Identifier(datastore.schema), Identifier(table))
    with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(statement, (ids if datastore.originator_id_type == "uuid"
                                else [str(i) for i in ids],))
        return [StoredEvent(originator_id=o, originator_version=v, topic=t, state=bytes(s))
                for o, v, t, s in cur.fetchall()]


def command(method: F) -> F:
    """Run a use case as the acting user; retry it when another biller saved first.

    Optimistic concurrency: a conflicting save raises IntegrityError before anything is
    written, so re-running the whole command on fresh state is safe and loses nothing.
    """

    @functools.wraps(method)
    def wrapper(self: LedgerCore, *args: Any, **kwargs: Any) -> Any:
        name = self.authorize(method.__name__)
        with acting_as(name):
            for attempt in range(RETRIES):
                try:
                    return method(self, *args, **kwargs)
                except IntegrityError:
                    # Back off with jitter so two billers racing for one account interleave
                    # instead of colliding again in lockstep.
                    time.sleep(random.uniform(0, min(0.002 * 2 ** attempt, 0.2)))
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
