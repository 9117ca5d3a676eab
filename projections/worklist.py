"""Work queues a biller works from, as of a date: each a list of JSON-ready rows.

Queues (``queue_names()``), in the order a biller usually works them:

``unbilled``        a payer owes part of a line no claim to that payer holds yet
``ready``           claims scrubbed clean, waiting for the next 837 batch
``rejected``        claims a 999/277CA rejected: fix and resend as new originals
``denials``         open denied lines grouped by group/CARC/RARC, with the rule-table action
``no-response``     submitted claims with no 835 past the payer's expected response days
``timely-filing``   unfiled claims and unbilled lines whose filing deadline is within 30
                    days (or already passed), from the contract's timely-filing days
``underpaid``       primary payers' paid lines whose allowed amount (paid + patient share)
                    is below the contract fee schedule (``Contract.allowed_per_unit``)
``credit-balances`` negative line balances per guarantor and party, to refund
``delinquent``      patient balances past their statement's due date, unpaid since
``collections``     families the collection rule allows referring to an agency
``eligibility``     policies whose last eligibility answer (271) is inactive or a payer's
                    rejection (AAA), until a newer answer says active or the policy ends
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from domain import clock
from domain.carc import CARC_DESCRIPTIONS, action_for
from domain.errors import NotFoundError, ValidationError
from domain.ledger import AGENCY, PATIENT
from domain.practice import Contract
from domain.scrubber import filing_deadline
from domain.services.inquiries import REJECTION_PREFIX
from projections.patient_side import PatientSide
from projections.reads import to_date

FILING_WINDOW_DAYS = 30
UNFILED = ("draft", "ready", "rejected")
AWAITING = ("submitted", "accepted")


def days_after(day: date, days: int) -> date:
    """`day` plus `days` (negative: before), held at date.min / date.max instead of
    overflowing: a payer's expected response days or a KPI period have no upper limit."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min

QUEUES: dict[str, tuple[str, str]] = {   # name -> (title, default sort)
    "unbilled": ("Unbilled charges", "service_date"),
    "ready": ("Claims ready to submit", "service_date"),
    "rejected": ("Rejected claims", "rejected_on"),
    "denials": ("Denials by reason", "-amount_cents"),
    "no-response": ("No response from payer", "-days_waiting"),
    "timely-filing": ("Timely filing deadlines", "days_left"),
    "underpaid": ("Underpaid lines", "-variance_cents"),
    "credit-balances": ("Credit balances to refund", "-credit_cents"),
    "delinquent": ("Delinquent patient accounts", "-days_past_due"),
    "collections": ("Collection referral candidates", "-balance_cents"),
    "eligibility": ("Eligibility: inactive or rejected", "-checked_on"),
}
CLAIM_FIELDS = ("claim_id", "account_no", "encounter_id", "payer_id", "plan_id",
                "coverage_order", "state", "frequency", "service_date", "charge_cents")
# A payer's balance on a line is unbilled when the line's claims (JSON text, sorted keys, no
# spaces) have no key for the payer. REPLACE is exact and case-sensitive in both engines
# (SQLite's LIKE ignores ASCII case; instr/strpos differ by engine).
_UNCLAIMED = ("REPLACE(l.claims, '{\"' || p.party || '\":', '') = l.claims AND "
              "REPLACE(l.claims, ',\"' || p.party || '\":', '') = l.claims")
# Line-party balances as of a date (one per line: GROUP BY account_no first, so SQLite sums
# them from the covering index of rm_postings alone, without reading the table).
_BALANCES = ("SELECT account_no, line_id, party, SUM(bucket_delta) AS cents FROM rm_postings "
             "WHERE effective_on <= ? GROUP BY account_no, line_id, party "
             "HAVING SUM(bucket_delta) {having}")

@dataclass(frozen=True)
class _Paged:
    """A queue read by one SQL query, so the database pages, counts and totals it.

    `sql` selects `aliases` in order; `fields` maps each sortable row field to its alias
    ("-alias": the field grows as the alias falls, as age_days does with service_date);
    `tie` orders rows whose sort keys are equal, as the full read lists them; `numbers`:
    the aliases that are not text (every other one sorts by code point, `collate`).
    """

    sql: str
    params: tuple[Any, ...]
    aliases: tuple[str, ...]
    fields: dict[str, str]
    amount: str
    tie: tuple[str, ...]
    row: Callable[[tuple[Any, ...]], dict[str, Any]]
    finish: Callable[[list[dict[str, Any]]], None] | None = None   # fills in a page's rows
    numbers: frozenset[str] = frozenset()

    def term(self, alias: str, collate: str) -> str:
        """`q.alias` to sort by; `collate` ("" or ' COLLATE "C"', the store's
        `by_code_point`) after a text one, so text sorts as Python sorts it."""
        return f"q.{alias}" if alias in self.numbers else f"q.{alias}{collate}"

    def tie_order(self, collate: str) -> str:
        return ", ".join(self.term(t, collate) for t in self.tie)

    def order_by(self, field: str, reverse: bool, collate: str = "") -> str:
        """ORDER BY as Python's stable sort on (value is None, value): ties keep `tie`."""
        alias = self.fields[field]
        flip = alias.startswith("-")
        alias = alias.lstrip("-")
        nulls, values = " DESC" if reverse else "", " DESC" if reverse != flip else ""
        return ", ".join((f"(q.{alias} IS NULL){nulls}", f"{self.term(alias, collate)}{values}",
                          self.tie_order(collate)))


class _Contracts:
    """The practice's contracts, chosen as the ledger chooses them: latest signed wins."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = sorted(rows, key=lambda r: r["position"])
        self.shims: dict[str, SimpleNamespace] = {}
        for r in self.rows:
            fees: dict[tuple[str, str], list[tuple[date, date | None, int]]] = {}
            for code, modifier, start, end, cents in r["fees"]:
                fees.setdefault((code, modifier), []).append(
                    (date.fromisoformat(start), to_date(end), int(cents)))
            self.shims[r["contract_id"]] = SimpleNamespace(
                fees=fees, timely_filing_days=r["timely_filing_days"])

    def find(self, payer_id: str, plan_id: str, on: date) -> SimpleNamespace | None:
        day = on.isoformat()
        for r in reversed(self.rows):
            if r["payer_id"] == payer_id and plan_id in r["plan_ids"] and (
                    r["effective_on"] <= day and (r["ends_on"] is None or day <= r["ends_on"])):
                return self.shims[r["contract_id"]]
        return None

    def deadline(self, payer_id: str, plan_id: str, service_date: date) -> date:
        contract = self.find(payer_id, plan_id, service_date)
        return filing_deadline(service_date, contract)  # type: ignore[arg-type]

    def allowed_cents(self, payer_id: str, plan_id: str, code: str, modifiers: list[str],
                      units_milli: int, on: date) -> int | None:
        contract = self.find(payer_id, plan_id, on)
        if contract is None:
            return None
        per_unit = Contract.allowed_per_unit(contract, code, modifiers, on)  # type: ignore[arg-type]
        return None if per_unit is None else (per_unit * units_milli + 500) // 1000


def _sortable(rows: list[dict[str, Any]]) -> list[str]:
    """The fields rows can be sorted by: not those holding lists or records (no order)."""
    return [k for k in rows[0] if not any(isinstance(r.get(k), (dict, list)) for r in rows)]


class WorkQueues(PatientSide):
    """The `queue(name)` read and the queries behind each queue."""

    def queue_names(self) -> list[str]:
        return list(QUEUES)

    def queue_titles(self) -> list[dict[str, str]]:
        return [{"name": n, "title": t} for n, (t, _) in QUEUES.items()]

    def queue(self, name: str, as_of: date | None = None, limit: int | None = None,
              offset: int = 0, sort: str | None = None, descending: bool = False,
              search: str | None = None,
              filter: dict[str, Any] | None = None) -> dict[str, Any]:
        """One queue's rows as of a date: searched, filtered, sorted, then paged.

        `sort` names a field ("-field" sorts descending, as does `descending`); `filter`
        keeps rows whose fields equal the given values; `search` keeps rows where any text
        field contains it (case-insensitive). A queue read by one SQL query (`_queue_sources`)
        is sorted, paged, counted and totalled by the database when no search or filter asks
        for more (and the sort field is one of its columns), so a page costs one query.
        """
        if name not in QUEUES:
            raise NotFoundError(f"no queue {name!r}; queues: {', '.join(QUEUES)}")
        as_of = as_of or clock.today()
        title, default_sort = QUEUES[name]
        key = sort or default_sort
        reverse = key.startswith("-") != descending
        key = key.lstrip("-")
        head = {"name": name, "title": title, "as_of": as_of}
        source = self._queue_sources().get(name)
        if source is not None and not filter and not search:
            paged = source(as_of)
            if key in paged.fields:
                return {**head, **self._queue_page(paged, key, reverse, limit, offset)}
        rows: list[dict[str, Any]] = self._builders()[name](as_of)
        if sort:
            # An empty queue has no rows to name its fields: one read by SQL names those its
            # query sorts by; another has nothing to sort.
            fields = _sortable(rows) if rows else list(source(as_of).fields) if source else [key]
            if key not in fields:
                raise ValidationError(f"the {name} queue cannot be sorted by {key!r}; "
                                      f"sort by one of: {', '.join(fields)}")
        if filter:
            rows = [r for r in rows if all(r.get(k) == v for k, v in filter.items())]
        if search:
            needle = search.lower()
            rows = [r for r in rows if any(needle in str(v).lower() for v in r.values()
                                           if isinstance(v, (str, int)))]
        rows.sort(key=lambda r: (r.get(key) is None, r.get(key) or 0), reverse=reverse)
        total = sum(int(r.get("amount_cents") or r.get("balance_cents")
                        or r.get("credit_cents") or 0) for r in rows)
        page = rows[offset:] if limit is None else rows[offset:offset + limit]
        return {**head, "count": len(rows), "total_cents": total, "items": page}

    def _queue_page(self, source: _Paged, key: str, reverse: bool, limit: int | None,
                    offset: int) -> dict[str, Any]:
        """One page of a SQL queue, with the whole queue's count and total (window sums)."""
        columns = ", ".join(f"q.{a}" for a in source.aliases)
        sql = (f"SELECT {columns}, COUNT(*) OVER (), SUM(q.{source.amount}) OVER () "
               f"FROM ({source.sql}) q "
               f"ORDER BY {source.order_by(key, reverse, self.store.by_code_point)}")
        params: list[Any] = list(source.params)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        found = self.store.fetchall(sql, params)
        width = len(source.aliases)
        if found:
            count, total = found[0][width], found[0][width + 1]
        else:   # past the end (or empty): the page cannot carry the figures
            count, total = self.store.fetchone(
                f"SELECT COUNT(*), SUM(q.{source.amount}) FROM ({source.sql}) q",
                source.params) or (0, 0)
        items = [source.row(r[:width]) for r in (found if limit is not None else found[offset:])]
        if source.finish is not None:
            source.finish(items)
        return {"count": int(count), "total_cents": int(total or 0), "items": items}

    def _queue_sources(self) -> dict[str, Callable[[date], _Paged]]:
        return {"unbilled": self._unbilled_sql, "ready": self._ready_sql,
                "no-response": self._no_response_sql}

    def _builders(self) -> dict[str, Callable[[date], list[dict[str, Any]]]]:
        return {
            "unbilled": self._unbilled, "ready": self._ready, "rejected": self._rejected,
            "denials": self._denials, "no-response": self._no_response,
            "timely-filing": self._timely_filing, "underpaid": self._underpaid,
            "credit-balances": self._credit_balances, "delinquent": self._delinquent,
            "collections": self._collections, "eligibility": self._eligibility,
        }

    def _queue_rows(self, source: _Paged) -> list[dict[str, Any]]:
        """Every row of a SQL queue, in its own order (the order ties keep when sorted)."""
        columns = ", ".join(f"q.{a}" for a in source.aliases)
        order = source.tie_order(self.store.by_code_point)
        rows = [source.row(r) for r in self.store.fetchall(
            f"SELECT {columns} FROM ({source.sql}) q ORDER BY {order}", source.params)]
        if source.finish is not None:
            source.finish(rows)
        return rows

    # -- the data each queue reads ---------------------------------------------------------------
    def _open_balances(self, as_of: date, having: str) -> list[tuple[str, str, str, int]]:
        """(account_no, line_id, party, cents) of the line-party balances `having` picks."""
        c = self.store.by_code_point   # the Python sorts after keep this order on ties
        return [(a, line, party, int(cents)) for a, line, party, cents in self.store.fetchall(
            f"SELECT b.account_no, b.line_id, b.party, b.cents FROM ("
            f"{_BALANCES.format(having=having)}) b "
            f"JOIN rm_lines l ON l.line_id = b.line_id ORDER BY b.line_id{c}, b.party{c}",
            (as_of.isoformat(),))]

    def _plans(self, rows: list[dict[str, Any]], as_of: date) -> None:
        """Each row's plan: the latest plan of its line-party postings by then (MAX)."""
        lines = sorted({r["line_id"] for r in rows})
        plans: dict[tuple[str, str], str] = {}
        for i in range(0, len(lines), 500):
            chunk = lines[i:i + 500]
            plans.update(((line, party), plan or "") for line, party, plan in self.store.fetchall(
                "SELECT line_id, party, MAX(plan_id) FROM rm_postings WHERE line_id IN "
                f"({', '.join('?' * len(chunk))}) AND effective_on <= ? GROUP BY line_id, party",
                [*chunk, as_of.isoformat()]))
        for r in rows:
            r["plan_id"] = plans.get((r["line_id"], r["payer_id"]), "")

    def _queue_claims(self, where: str, params: list[Any]) -> list[dict[str, Any]]:
        return self._rows("claims", where, params, "position")

    def _contracts(self) -> _Contracts:
        return _Contracts(self._rows("contracts", "1 = 1", []))

    def _claim_row(self, c: dict[str, Any], as_of: date) -> dict[str, Any]:
        service_date = to_date(c["service_date"])
        return {"claim_id": c["claim_id"], "account_no": c["account_no"],
                "encounter_id": c["encounter_id"], "payer_id": c["payer_id"],
                "plan_id": c["plan_id"], "coverage_order": c["coverage_order"],
                "state": c["state"], "frequency": c["frequency"],
                "service_date": service_date, "charge_cents": c["charge_cents"],
                "amount_cents": c["charge_cents"],
                "age_days": (as_of - service_date).days if service_date else None}

    def _claims_paged(self, where: str, params: list[Any], extra: dict[str, str],
                      fields: dict[str, str], as_of: date,
                      more: Callable[[dict[str, Any]], dict[str, Any]]) -> _Paged:
        """A queue of claims `where` picks, in position order; `extra`: alias -> SQL."""
        aliases = (*CLAIM_FIELDS, *extra, "position")
        sql = (f"SELECT {', '.join(CLAIM_FIELDS)}, "
               + "".join(f"{expression} AS {alias}, " for alias, expression in extra.items())
               + f"position FROM rm_claims WHERE {where}")

        def row(values: tuple[Any, ...]) -> dict[str, Any]:
            c = dict(zip(aliases, values, strict=True))
            return {**self._claim_row(c, as_of), **more(c)}
        return _Paged(sql, tuple(params), aliases,
                      {**{f: f for f in CLAIM_FIELDS}, "amount_cents": "charge_cents",
                       "age_days": "-service_date", **fields},
                      "charge_cents", ("position",), row,
                      numbers=frozenset({"charge_cents", "position", "expected_days"}))

    # -- the queues ----------------------------------------------------------------------------
    def _unbilled_sql(self, as_of: date, served_by: str | None = None) -> _Paged:
        """What payers owe on lines no claim to them holds (plans filled in per page);
        `served_by`: only lines with a date of service on or before it."""
        aliases = ("account_no", "encounter_id", "line_id", "payer_id", "code",
                   "service_date", "amount_cents")
        # Only lines the fold flags `unclaimed` (a payer with postings and no claim) can hold
        # one, at any as-of date: their postings are summed from rm_postings' covering index.
        sql = ("SELECT l.account_no AS account_no, l.encounter_id AS encounter_id, "
               "l.line_id AS line_id, p.party AS payer_id, l.code AS code, "
               "l.service_date AS service_date, SUM(p.bucket_delta) AS amount_cents "
               "FROM rm_lines l JOIN rm_postings p ON p.account_no = l.account_no "
               "AND p.line_id = l.line_id WHERE l.unclaimed = 1 AND p.effective_on <= ? "
               f"AND p.party NOT IN (?, ?) AND {_UNCLAIMED}"
               + (" AND l.service_date <= ?" if served_by else "") + " GROUP BY l.account_no, "
               "l.encounter_id, l.line_id, p.party, l.code, l.service_date "
               "HAVING SUM(p.bucket_delta) > 0")

        def row(r: tuple[Any, ...]) -> dict[str, Any]:
            service_date = date.fromisoformat(r[5])
            return {"account_no": r[0], "encounter_id": r[1], "line_id": r[2],
                    "payer_id": r[3], "plan_id": "", "code": r[4],
                    "service_date": service_date, "amount_cents": int(r[6]),
                    "age_days": (as_of - service_date).days}
        params = (as_of.isoformat(), PATIENT, AGENCY, *([served_by] if served_by else []))
        return _Paged(sql, params, aliases,
                      {**{a: a for a in aliases}, "age_days": "-service_date"},
                      "amount_cents", ("line_id", "payer_id"), row,
                      lambda rows: self._plans(rows, as_of), frozenset({"amount_cents"}))

    def _unbilled(self, as_of: date) -> list[dict[str, Any]]:
        return self._queue_rows(self._unbilled_sql(as_of))

    def _ready_sql(self, as_of: date) -> _Paged:
        return self._claims_paged(
            "state = ? AND created_on <= ?", ["ready", as_of.isoformat()],
            {"state_on": "state_on"}, {"ready_on": "state_on"}, as_of,
            lambda c: {"ready_on": to_date(c["state_on"])})

    def _ready(self, as_of: date) -> list[dict[str, Any]]:
        return self._queue_rows(self._ready_sql(as_of))

    def _rejected(self, as_of: date) -> list[dict[str, Any]]:
        out = []
        for c in self._queue_claims("state = ?", ["rejected"]):
            rejection = c["rejection"] or {}
            rejected_on = to_date(rejection.get("rejected_on"))
            if rejected_on is not None and rejected_on > as_of:
                continue
            out.append({**self._claim_row(c, as_of), "rejected_on": rejected_on,
                        "level": rejection.get("level", ""),
                        "reasons": "; ".join(rejection.get("reasons", []))})
        return out

    def _denials(self, as_of: date) -> list[dict[str, Any]]:
        groups: dict[tuple[str, str, str], dict[str, Any]] = {}
        # Only claims with open denials are decoded ('{}' is how the fold writes none).
        for c in self._rows("claims", "state = ? AND open_denials IS NOT NULL AND "
                            "open_denials <> '{}'", ["adjudicated"], "position",
                            ("claim_id", "account_no", "payer_id", "adjudications",
                             "open_denials")):
            live = [a for a in c["adjudications"] if not a["reversed"]]
            denied_on = to_date(live[-1]["paid_on"]) if live else None
            if not c["open_denials"] or (denied_on is not None and denied_on > as_of):
                continue
            for line_id, denials in c["open_denials"].items():
                for d in denials:
                    rarcs = list(d.get("rarcs") or [])
                    key = (d["group"], d["carc"], rarcs[0] if rarcs else "")
                    group = groups.get(key)
                    if group is None:
                        group = groups[key] = {
                            "group": key[0], "carc": key[1], "rarc": key[2],
                            "action": str(action_for(key[0], key[1], rarcs)),
                            "description": CARC_DESCRIPTIONS.get(key[1], ""),
                            "count": 0, "amount_cents": 0, "lines": []}
                    group["count"] += 1
                    group["amount_cents"] += int(d["amount_cents"])
                    group["lines"].append({
                        "claim_id": c["claim_id"], "line_id": line_id,
                        "account_no": c["account_no"], "payer_id": c["payer_id"],
                        "amount_cents": int(d["amount_cents"]), "denied_on": denied_on})
        return list(groups.values())

    def _no_response_sql(self, as_of: date) -> _Paged:
        """Claims awaiting an answer longer than their payer's expected response days."""
        limits = {payer: int(days or 30) for payer, days in self.store.fetchall(
            "SELECT payer_id, expected_response_days FROM rm_payers")}
        # days waiting > limit <=> submitted before as_of - limit: a cutoff date per payer.
        odd = {p: n for p, n in limits.items() if n != 30}
        days_sql = ("CASE payer_id " + "WHEN ? THEN ? " * len(odd) + "ELSE 30 END"
                    if odd else "30")
        cutoff_sql = ("CASE payer_id " + "WHEN ? THEN ? " * len(odd) + "ELSE ? END"
                      if odd else "?")
        days_params = [x for p, n in odd.items() for x in (p, n)]
        cutoff_params = [x for p, n in odd.items()
                         for x in (p, days_after(as_of, -n).isoformat())]
        cutoff_params.append(days_after(as_of, -30).isoformat())
        where = (f"state IN (?, ?) AND last_submitted_on <= ? AND "
                 f"last_submitted_on < {cutoff_sql}")

        def more(c: dict[str, Any]) -> dict[str, Any]:
            submitted = date.fromisoformat(c["last_submitted_on"])
            return {"submitted_on": submitted, "expected_days": int(c["expected_days"]),
                    "days_waiting": (as_of - submitted).days}
        paged = self._claims_paged(
            where, [*AWAITING, as_of.isoformat(), *cutoff_params],
            {"last_submitted_on": "last_submitted_on", "expected_days": days_sql},
            {"submitted_on": "last_submitted_on", "expected_days": "expected_days",
             "days_waiting": "-last_submitted_on"}, as_of, more)
        # The select list's CASE comes before the WHERE's: its parameters go first.
        return _Paged(paged.sql, (*days_params, *paged.params), paged.aliases, paged.fields,
                      paged.amount, paged.tie, paged.row, numbers=paged.numbers)

    def _no_response(self, as_of: date) -> list[dict[str, Any]]:
        return self._queue_rows(self._no_response_sql(as_of))

    def _timely_filing(self, as_of: date) -> list[dict[str, Any]]:
        contracts = self._contracts()
        window = days_after(as_of, FILING_WINDOW_DAYS)
        # A deadline is DOS + filing days (a contract's, else 365): work served after the
        # window less the fewest days any contract gives cannot be due within it.
        fewest = min([365, *(int(r["timely_filing_days"]) for r in contracts.rows)])
        served_by = days_after(window, -fewest).isoformat()
        out = []
        for c in self._rows("claims", f"state IN ({', '.join('?' * len(UNFILED))}) AND "
                            "service_date <= ?", [*UNFILED, served_by], "position",
                            (*CLAIM_FIELDS, "filing_override")):
            service_date = date.fromisoformat(c["service_date"])
            deadline = contracts.deadline(c["payer_id"], c["plan_id"], service_date)
            if deadline <= window:
                out.append({**self._claim_row(c, as_of), "deadline": deadline,
                            "days_left": (deadline - as_of).days,
                            "override": bool(c["filing_override"])})
        unbilled: dict[tuple[str, str], dict[str, Any]] = {}
        for x in self._queue_rows(self._unbilled_sql(as_of, served_by)):
            deadline = contracts.deadline(x["payer_id"], x["plan_id"], x["service_date"])
            if deadline > window:
                continue
            row = unbilled.setdefault((x["encounter_id"], x["payer_id"]), {
                "claim_id": "", "account_no": x["account_no"],
                "encounter_id": x["encounter_id"], "payer_id": x["payer_id"],
                "plan_id": x["plan_id"], "state": "unbilled", "service_date": x["service_date"],
                "amount_cents": 0, "deadline": deadline,
                "days_left": (deadline - as_of).days, "override": False})
            row["amount_cents"] += x["amount_cents"]
            if deadline < row["deadline"]:
                row.update(deadline=deadline, days_left=(deadline - as_of).days,
                           service_date=x["service_date"])
        return out + list(unbilled.values())

    def _underpaid(self, as_of: date) -> list[dict[str, Any]]:
        contracts = self._contracts()
        claims = {c["claim_id"]: c for c in self._rows(
            "claims", "coverage_order = ? AND state IN (?, ?)", ["P", "adjudicated", "closed"],
            "position", ("claim_id", "account_no", "plan_id"))}
        if not claims:
            return []
        on = as_of.isoformat()
        # What each payer paid on each line, in the order of its first payment (one payment
        # posting per event, so first positions differ).
        paid: dict[tuple[str, str], int] = {
            (line_id, party): int(cents) for line_id, party, cents in self.store.fetchall(
                "SELECT line_id, party, SUM(amount_cents) FROM rm_postings WHERE claim_id <> '' "
                "AND category = 'payment' AND effective_on <= ? GROUP BY line_id, party "
                "ORDER BY MIN(position)", (on,))}
        patient_share: dict[tuple[str, str], int] = {}
        reasons: dict[str, str] = {}   # a reversal's reason is the reversed transfer's
        for line_id, party, bucket, reason, entry_id, reverses in self.store.fetchall(
                "SELECT line_id, party, bucket_delta, reason, entry_id, reverses_entry_id "
                "FROM rm_postings WHERE claim_id <> '' AND category = 'transfer' AND "
                "effective_on <= ? ORDER BY position, seq", (on,)):
            reasons[entry_id] = reasons.get(reverses, reason) if reverses else reason
            # The payer's side of a PR transfer (or of its reversal): what it left the patient.
            if reasons[entry_id].startswith("PR-") and (bucket < 0) != bool(reverses):
                key = (line_id, party)
                patient_share[key] = patient_share.get(key, 0) - int(bucket)
        lines = {x["line_id"]: x for x in self._rows_for_lines(
            sorted({line for (line, _), cents in paid.items() if cents > 0}),
            ("line_id", "code", "modifiers", "units_milli", "service_date", "reversed",
             "claims"))}
        out = []
        for (line_id, party), paid_cents in paid.items():
            line = lines.get(line_id)
            claim = claims.get((line or {}).get("claims", {}).get(party, ""))
            if line is None or claim is None or paid_cents <= 0 or line["reversed"]:
                continue
            service_date = date.fromisoformat(line["service_date"])
            expected = contracts.allowed_cents(party, claim["plan_id"], line["code"],
                                               line["modifiers"], line["units_milli"],
                                               service_date)
            allowed = paid_cents + patient_share.get((line_id, party), 0)
            if expected is None or allowed >= expected:
                continue
            out.append({"claim_id": claim["claim_id"], "account_no": claim["account_no"],
                        "line_id": line_id, "payer_id": party, "plan_id": claim["plan_id"],
                        "code": line["code"], "modifiers": ",".join(line["modifiers"]),
                        "service_date": service_date, "expected_cents": expected,
                        "paid_cents": paid_cents,
                        "patient_share_cents": patient_share.get((line_id, party), 0),
                        "allowed_cents": allowed, "variance_cents": expected - allowed,
                        "amount_cents": expected - allowed})
        return out

    def _eligibility(self, as_of: date) -> list[dict[str, Any]]:
        """Each policy whose last eligibility answer, checked by `as_of`, is not active.

        A policy that has ended by then (terminated) leaves the queue: the answer is explained.
        """
        payers, _ = self._names()
        out = []
        for a in self._rows("accounts", "eligibility <> ?", ["{}"], "account_no",
                            ("account_no", "name", "policies", "eligibility")):
            for policy_id, answer in a["eligibility"].items():
                checked_on = to_date(answer.get("checked_on"))
                policy = a["policies"].get(policy_id) or {}
                ended = to_date(policy.get("terminated_on"))
                if (answer.get("active") or (checked_on is not None and checked_on > as_of)
                        or (ended is not None and ended <= as_of)):
                    continue
                message = str(answer.get("message") or "")
                out.append({
                    "account_no": a["account_no"], "name": a["name"], "policy_id": policy_id,
                    "payer_id": policy.get("payer_id", ""),
                    "service_date": to_date(answer.get("service_on")), "checked_on": checked_on,
                    "trace_number": answer.get("trace_number") or "", "message": message,
                    "payer_name": payers.get(policy.get("payer_id", ""), ""),
                    "plan_id": policy.get("plan_id", ""),
                    "rejected": message.startswith(REJECTION_PREFIX),
                    "source": answer.get("source") or ""})
        return out

    def _rows_for_lines(self, line_ids: list[str],
                        columns: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in range(0, len(line_ids), 500):
            chunk = line_ids[i:i + 500]
            out += self._rows("lines", f"line_id IN ({', '.join('?' * len(chunk))})", chunk,
                              columns=columns)
        return out

    def _credit_balances(self, as_of: date) -> list[dict[str, Any]]:
        guarantor_of = dict(self.store.fetchall(
            "SELECT account_no, guarantor_account_no FROM rm_accounts"))
        pending: dict[str, int] = {}
        for account_no, cents in self.store.fetchall(
                "SELECT account_no, amount_cents FROM rm_refunds WHERE status = 'requested'"):
            pending[account_no] = pending.get(account_no, 0) + int(cents)
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for account_no, line_id, party, cents in self._open_balances(as_of, "< 0"):
            guarantor = guarantor_of.get(account_no, account_no)
            row = groups.setdefault((guarantor, party), {
                "guarantor_account_no": guarantor, "party": party, "credit_cents": 0,
                "lines": [], "refund_requested_cents":
                    pending.get(guarantor, 0) if party == PATIENT else 0})
            row["credit_cents"] -= cents
            row["lines"].append(line_id)
        return list(groups.values())

    def _stated(self, as_of: date) -> bool:
        """Whether any statement was issued by `as_of`: the two patient queues need one
        (delinquency runs from the last statement, collections from three)."""
        return self.store.fetchone("SELECT 1 FROM rm_statements WHERE issued_on <= ? LIMIT 1",
                                   (as_of.isoformat(),)) is not None

    def _delinquent(self, as_of: date) -> list[dict[str, Any]]:
        return self.delinquent(as_of) if self._stated(as_of) else []

    def _collections(self, as_of: date) -> list[dict[str, Any]]:
        return self.collection_candidates(as_of) if self._stated(as_of) else []
