"""An account's history: every event of the account, its visits and its claims, in order,
with the running balance and the responsibility split after each, a page at a time.

The running figures of a page start from what the postings before it add up to, so pages
read forwards or backwards join up exactly, and a page costs what it shows, not the
account's whole history. See `projections.reads` for what "as of" and "known at" mean.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.errors import NotFoundError
from domain.ledger import AGENCY, PATIENT
from projections.catchup import events_at, facts
from projections.reads import ReadModels, gc_paused, when
from projections.rows import details_of

_SPLIT_INDEX = {PATIENT: 1, AGENCY: 2}   # any other party is a payer: insurance (0)


class AccountHistory(ReadModels):
    """`account_history`, `history_page` and `account_history_count`."""

    def account_history(self, account_no: str, as_of: date | None = None,
                        known_at: datetime | None = None, limit: int | None = None,
                        offset: int = 0, before: int | None = None, after: int | None = None,
                        money_only: bool = False) -> list[dict[str, Any]]:
        """Every event of the account, its visits and its claims, with a running balance
        and the responsibility split after it (`insurance_cents`, `patient_cents`,
        `agency_cents`: what the payers, the patient and the agency hold; they sum to it).

        `limit`/`offset` page through the events in order; `before`/`after` a position
        instead: the last `limit` events before it, the first `limit` after it. The running
        figures of a page start from what the events before it add up to, so pages join up
        exactly. `money_only`: the ledger's rows, the events that post or name an amount.
        """
        return self._history(account_no, as_of, known_at, limit=limit, offset=offset,
                             before=before, after=after, money_only=money_only)[0]

    def history_page(self, account_no: str, as_of: date | None = None,
                     known_at: datetime | None = None, limit: int = 50,
                     before: int | None = None, after: int | None = None,
                     money_only: bool = False) -> dict[str, Any]:
        """One page of `account_history`: the `limit` events just before position `before`,
        just after `after`, or the latest (neither). Answers {"events", "earlier", "later"}:
        the events in order, and whether the account has events before and after them."""
        events, more = self._history(account_no, as_of, known_at, limit=limit, before=before,
                                     after=after, money_only=money_only,
                                     latest=before is None and after is None)
        if after is None:   # read backwards from `before` or from the end
            earlier = more
            later = before is not None and self._has_events(
                account_no, as_of, known_at, money_only, ">=", before)
        else:
            earlier = self._has_events(account_no, as_of, known_at, money_only, "<=", after)
            later = more or (before is not None and self._has_events(
                account_no, as_of, known_at, money_only, ">=", before))
        return {"events": events, "earlier": earlier, "later": later}

    def _history_where(self, account_no: str, as_of: date | None, known_at: datetime | None,
                       money_only: bool) -> tuple[str, list[Any], str, list[Any]]:
        """WHERE of the account's history rows and its parameters, then the as-of/known-at
        conditions alone (the postings take the same ones)."""
        extra, params = when(as_of, known_at)
        # A range, not `account_no = ?`: ordered by (account_no, position), only the index
        # on those columns gives the order. With an equality PostgreSQL may walk the whole
        # table's primary key backwards for a page of a large account instead (40 ms).
        where = f"account_no BETWEEN ? AND ?{extra}"
        args: list[Any] = [account_no, account_no, *params]
        if money_only:
            where += " AND money = 1"
        return where, args, extra, params

    def _has_events(self, account_no: str, as_of: date | None, known_at: datetime | None,
                    money_only: bool, compare: str, position: int) -> bool:
        """Whether the history has a row at a position `compare` (<=, >=) `position`."""
        assert compare in ("<=", ">=")
        where, args, _, _ = self._history_where(account_no, as_of, known_at, money_only)
        return self.store.fetchone(
            f"SELECT 1 FROM rm_events WHERE {where} AND position {compare} ? "
            "ORDER BY account_no, position LIMIT 1", [*args, position]) is not None

    @gc_paused
    def _history(self, account_no: str, as_of: date | None, known_at: datetime | None, *,
                 limit: int | None, offset: int = 0, before: int | None = None,
                 after: int | None = None, money_only: bool = False,
                 latest: bool = False) -> tuple[list[dict[str, Any]], bool]:
        """The rows of `account_history` (`latest`: the last `limit`), and whether more lie
        beyond them in the direction read."""
        if offset and (before is not None or after is not None or latest):
            raise ValueError("page by offset or by position, not both")
        where, args, extra, dated = self._history_where(account_no, as_of, known_at,
                                                        money_only)
        if before is not None:
            where += " AND position < ?"
            args.append(before)
        if after is not None:
            where += " AND position > ?"
            args.append(after)
        backwards = latest or (before is not None and after is None)
        sql = ("SELECT position, event_type, effective_on, recorded_at, amount_cents, "
               "encounter_id, claim_id FROM rm_events "
               f"WHERE {where} ORDER BY "
               + ("account_no DESC, position DESC" if backwards else "account_no, position"))
        if limit is not None:
            # One row more than asked says whether there are more.
            sql += " LIMIT ? OFFSET ?"
            args += [limit + 1, offset]
        elif offset:
            sql += " LIMIT -1 OFFSET ?" if self.store.dialect == "sqlite" else " OFFSET ?"
            args.append(offset)
        rows = self.store.fetchall(sql, args)
        if not rows and self.store.fetchone("SELECT 1 FROM rm_accounts WHERE account_no = ?",
                                            [account_no]) is None:
            raise NotFoundError(f"no account {account_no}")
        more = limit is not None and len(rows) > limit
        if more:
            del rows[-1]
        if backwards:
            rows.reverse()
        # A ledger page (money_only) may start after events that moved nothing but the split.
        from_start = not (backwards or after is not None or offset or money_only)
        return self._running(account_no, extra, dated, rows, from_start), more

    def _running(self, account_no: str, extra: str, params: list[Any], rows: list[Any],
                 from_start: bool) -> list[dict[str, Any]]:
        """History rows as dicts with the running balance and split after each."""
        if not rows:
            return []
        shown = self._read_off_events([r[0] for r in rows])
        held, steps = self._split_steps(account_no, extra, params, rows, not from_start)
        insurance, patient, agency = held
        running = 0 if from_start else insurance + patient + agency
        moves = iter(sorted(steps.items()))
        move = next(moves, None)
        days: dict[str, date] = {}      # an account's events share few business dates
        instant = datetime.fromisoformat
        out = []
        for (position, event_type, effective_on, recorded_at, amount, encounter_id,
             claim_id) in rows:
            aggregate, actor, line_id, details = shown.get(position) or ("", "", "", {})
            running += amount
            # Every posting up to this row moves the split, a row not asked for too.
            while move is not None and move[0] <= position:
                insurance += move[1][0]
                patient += move[1][1]
                agency += move[1][2]
                move = next(moves, None)
            day = days.get(effective_on)
            if day is None:
                day = days[effective_on] = date.fromisoformat(effective_on)
            out.append({
                "position": position, "type": event_type, "aggregate": aggregate,
                "effective_date": day,
                "recorded_at": instant(recorded_at) if recorded_at else None,
                "actor": actor, "amount_cents": amount, "balance_cents": running,
                "insurance_cents": insurance, "patient_cents": patient, "agency_cents": agency,
                "encounter_id": encounter_id, "line_id": line_id, "claim_id": claim_id,
                "details": details,
            })
        return out

    def _read_off_events(self, positions: list[int],
                         ) -> dict[int, tuple[str, str, str, dict[str, Any]]]:
        """(aggregate, actor, line, details) of each history row, read off the stored
        events themselves: a rebuild writes no copy of them, and a page decodes only the
        events it shows. The fold's history row took these from the same fields."""
        out = {}
        for fact in facts(events_at(self.recorder, positions), self.mapper):
            data = fact.data
            out[fact.position] = (fact.aggregate, str(data.get("actor") or ""),
                                  str(data.get("line_id") or ""), details_of(data, fact.name))
        return out

    def _split_steps(self, account_no: str, extra: str, params: list[Any],
                     rows: list[Any], paged: bool,
                     ) -> tuple[list[int], dict[int, list[int]]]:
        """[insurance, patient, agency] held before the first of `rows`, and how each
        position from the first row to the last moves them (from the postings' bucket
        deltas, as `split` counts them); `paged`: the rows may not start at the beginning."""
        held = [0, 0, 0]
        steps: dict[int, list[int]] = {}
        if not rows:
            return held, steps
        where = f"WHERE account_no = ?{extra}"
        if paged:
            # Two queries, not one grouped by "before the page or this position": on SQLite
            # that grouping sorts every posting of the account (0.5 ms more CPU at 5k).
            for party, cents in self.store.fetchall(
                    f"SELECT party, SUM(bucket_delta) FROM rm_postings {where} AND position < ? "
                    "GROUP BY party", [account_no, *params, rows[0][0]]):
                held[_SPLIT_INDEX.get(party, 0)] += int(cents)
        # One row per posting (no GROUP BY: the covering index returns them as they are).
        for position, party, cents in self.store.fetchall(
                f"SELECT position, party, bucket_delta FROM rm_postings {where} "
                "AND position >= ? AND position <= ?",
                [account_no, *params, rows[0][0], rows[-1][0]]):
            step = steps.get(position)
            if step is None:
                step = steps[position] = [0, 0, 0]
            step[_SPLIT_INDEX.get(party, 0)] += int(cents)
        return held, steps

    def account_history_count(self, account_no: str, as_of: date | None = None,
                              known_at: datetime | None = None) -> int:
        extra, params = when(as_of, known_at)
        return int(self.store.scalar(
            f"SELECT COUNT(*) FROM rm_events WHERE account_no = ?{extra}",
            [account_no, *params]) or 0)
