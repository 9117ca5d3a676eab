"""The read side's shared plumbing: the store, catch-up, and the SQL every report builds on.

Every answer is plain dicts and lists (JSON-ready: ints in cents, `date`/`datetime`
objects for dates). Balances "as of D" sum the postings whose business date is on or
before D; "known at K" also drops postings recorded after K (DOMAIN.md §9 I6).
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from eventsourcing.persistence import StoredEvent

from domain.ledger import AGENCY, PATIENT
from projections import aging as aging_rules
from projections.catchup import Projector
from projections.rows import utc_iso
from projections.schema import TABLE
from projections.store import ProjectionStore, decode_rows

RESERVED = (PATIENT, AGENCY)


_F = TypeVar("_F", bound=Callable[..., Any])


def gc_paused(method: _F) -> _F:
    """Run without the cyclic GC: an answer of 10,000 rows makes ~100k small acyclic objects,
    and each collection that allocation triggers would walk every object in the process."""
    @functools.wraps(method)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return method(*args, **kwargs)
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            gc.enable()
    return paused  # type: ignore[return-value]


def to_date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def to_datetime(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def when(as_of: date | None, known_at: datetime | None, alias: str = "",
         date_column: str = "effective_on") -> tuple[str, list[Any]]:
    """SQL conditions (each starting with AND) for an as-of date and a known-at instant."""
    sql, params = "", []
    if as_of is not None:
        sql += f" AND {alias}{date_column} <= ?"
        params.append(as_of.isoformat())
    if known_at is not None:
        sql += f" AND {alias}recorded_at <= ?"
        params.append(known_at_text(known_at))
    return sql, params


def known_at_text(known_at: datetime) -> str:
    if known_at.tzinfo is None:
        known_at = known_at.astimezone()  # a naive instant is local time, as typed
    return utc_iso(known_at.astimezone(UTC))


def split(line_parties: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Balance figures from (line, party, cents) rows."""
    by_party: dict[str, int] = {}
    credit = 0
    for _, party, cents in line_parties:
        by_party[party] = by_party.get(party, 0) + cents
        credit -= min(cents, 0)
    patient, agency = by_party.get(PATIENT, 0), by_party.get(AGENCY, 0)
    balance = sum(by_party.values())
    return {"balance_cents": balance, "insurance_cents": balance - patient - agency,
            "patient_cents": patient, "agency_cents": agency, "credit_cents": credit,
            "by_party": {p: c for p, c in by_party.items() if c}}


class ReadModels:
    """Read models of one ledger, kept caught up with its events."""

    def __init__(self, store: ProjectionStore, recorder: Any, mapper: Any,
                 name: str = "claimdesk") -> None:
        self.store = store
        self.recorder = recorder
        self.mapper = mapper
        self.name = name
        self.store.setup(name)
        self.projector = Projector(store, recorder, mapper, name)
        self._lock = threading.Lock()

    # -- keeping up ------------------------------------------------------------------------------
    def catch_up(self) -> int:
        with self._lock:
            return self.projector.catch_up()

    def fold_ahead(self, stored: Sequence[StoredEvent],
                   first: int) -> Callable[[Sequence[int]], object] | None:
        """`Projector.fold_ahead` (a ledger's `before_save` hook): events folded before their
        save, written after it when they landed where expected."""
        try:
            with self._lock:
                write = self.projector.fold_ahead(stored, first)
        except Exception:  # only a head start: the catch-up after the save
            return None    # folds these events again and reports what went wrong there
        if write is None:
            return None

        def finish(positions: Sequence[int]) -> object:
            try:
                with self._lock:
                    return write(positions)
            except Exception:  # the catch-up that follows meets it again
                return False
        return finish

    def rebuild(self) -> int:
        """Drop every read model and rebuild it from the events; returns events processed."""
        with self._lock:
            return self.projector.rebuild()

    def position(self) -> int:
        return self.store.position(self.name)

    def close(self) -> None:
        self.store.close()

    # -- small helpers ---------------------------------------------------------------------------
    def _rows(self, table: str, where: str, params: list[Any] | tuple[Any, ...],
              order: str = "", columns: tuple[str, ...] = (), limit: int | None = None,
              offset: int = 0) -> list[dict[str, Any]]:
        """Rows of a read model as dicts, JSON decoded; only `columns` when given; a page of
        `limit` rows from `offset` when a limit is given."""
        spec = TABLE[table]
        names = columns or spec.column_names
        sql = f"SELECT {', '.join(names)} FROM rm_{table} WHERE {where}"
        if order:
            sql += f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params = [*params, limit, offset]
        return decode_rows(spec, self.store.fetchall(sql, params), names)

    def _names(self) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
        payers = dict(self.store.fetchall("SELECT payer_id, name FROM rm_payers"))
        plans = {(p, q): n for p, q, n in self.store.fetchall(
            "SELECT payer_id, plan_id, name FROM rm_payer_plans")}
        return payers, plans

    def _line_parties(self, column: str, values: list[str], as_of: date | None,
                      known_at: datetime | None) -> list[tuple[str, str, str, int]]:
        """(key, line, party, cents) for the postings whose `column` is one of `values`."""
        out: list[tuple[str, str, str, int]] = []
        extra, params = when(as_of, known_at)
        for i in range(0, len(values), 500):
            chunk = values[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            out += [(k, line, party, int(cents)) for k, line, party, cents in
                    self.store.fetchall(
                        f"SELECT {column}, line_id, party, SUM(bucket_delta) FROM rm_postings "
                        f"WHERE {column} IN ({marks}){extra} GROUP BY {column}, line_id, party",
                        [*chunk, *params])]
        return out

    # -- A/R aging ---------------------------------------------------------------------------------
    def line_balances(self, as_of: date | None = None, known_at: datetime | None = None,
                      basis: str = "dos") -> list[aging_rules.LineBalance]:
        """Every non-zero line-party balance as of a date, with its aging basis date."""
        extra, params = when(as_of, known_at, alias="p.")
        rows = self.store.fetchall(
            "SELECT p.line_id, p.party, MAX(p.plan_id), SUM(p.bucket_delta), l.service_date "
            "FROM rm_postings p JOIN rm_lines l ON l.line_id = p.line_id "
            f"WHERE 1 = 1{extra} GROUP BY p.line_id, p.party, l.service_date "
            "HAVING SUM(p.bucket_delta) <> 0", params)
        basis_dates = self._basis_dates(basis, as_of, known_at)
        return [aging_rules.LineBalance(line, party, plan or "",
                                        basis_dates.get(line) or date.fromisoformat(dos),
                                        int(cents))
                for line, party, plan, cents, dos in rows]

    def _basis_dates(self, basis: str, as_of: date | None,
                     known_at: datetime | None) -> dict[str, date]:
        if basis == "dos":
            return {}
        if basis == "billed":
            extra, params = when(as_of, known_at, alias="e.")
            rows = self.store.fetchall(
                "SELECT cl.line_id, MIN(e.effective_on) FROM rm_claim_lines cl "
                "JOIN rm_events e ON e.claim_id = cl.claim_id AND e.event_type = 'Submitted' "
                f"WHERE 1 = 1{extra} GROUP BY cl.line_id", params)
        elif basis == "statement":
            extra, params = when(as_of, known_at, date_column="issued_on")
            rows = self.store.fetchall(
                "SELECT line_id, MIN(issued_on) FROM rm_statement_lines "
                f"WHERE 1 = 1{extra} GROUP BY line_id", params)
        else:
            raise ValueError(f"basis must be one of {', '.join(aging_rules.BASES)}")
        return {line: date.fromisoformat(on) for line, on in rows if on}
