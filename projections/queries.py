"""BillingQueries: the read API the CLI and the TUI use, answered from the read models.

Accounts, their history and A/R aging live here; work queues, statement and collection
selection and KPIs come from the mixins it composes. See `projections.reads` for what
"as of" and "known at" mean.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from domain.errors import NotFoundError
from domain.ledger import AGENCY, PATIENT
from projections import aging as aging_rules
from projections.account_history import AccountHistory
from projections.catchup import Progress, Projector, compare, scratch_store
from projections.follow_up import FollowUpQueries
from projections.kpis import Kpis
from projections.reads import RESERVED, gc_paused, split, to_date, when
from projections.store import PostgresProjectionStore, ProjectionStore, SQLiteProjectionStore
from projections.worklist import WorkQueues

# What the account answer shows of each visit, line and claim (not every column).
_ENCOUNTER_COLUMNS = ("encounter_id", "service_date", "place_of_service", "billing_npi",
                      "rendering_npi", "diagnoses", "coverage", "self_pay")
_LINE_COLUMNS = ("line_id", "encounter_id", "code", "modifiers", "units_milli", "description",
                 "service_date", "charge_cents", "reversed", "claims")
_CLAIM_COLUMNS = ("claim_id", "encounter_id", "payer_id", "plan_id", "coverage_order", "state",
                  "frequency", "service_date", "charge_cents", "paid_cents", "outcome",
                  "first_submitted_on", "payer_claim_control_number", "open_denials")


class BillingQueries(AccountHistory, FollowUpQueries, WorkQueues, Kpis):
    """The read API: accounts, history, aging, work queues, statements, KPIs, verify."""

    @classmethod
    def for_ledger(cls, ledger: Any,
                   progress: Progress | None = None) -> BillingQueries:
        """Read models beside the ledger's events (its `store`, else its env), caught up;
        `progress`: told how a long rebuild goes (`Projector.progress`)."""
        queries = cls(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
        queries.projector.progress = progress
        queries.catch_up()
        return queries

    def verify(self) -> dict[str, Any]:
        """Rebuild every read model from the events alone in a scratch store; compare rows."""
        self.catch_up()
        with scratch_store(self.store) as scratch:
            # Tables without secondary indexes: the comparison reads them in key order only.
            scratch.reset(self.name)
            rebuilt = Projector(scratch, self.recorder, self.mapper, self.name)
            rebuilt.priming = False   # it starts empty: see Projector.rebuild
            while True:
                target = self.position()
                with scratch.bulk():
                    rebuilt.catch_up(stop=target)
                with self.store.snapshot():
                    if self.position() != target:
                        continue  # another process moved on meanwhile: follow it
                    result = compare(self.store, scratch)
                    result["position"] = target
                    return result

    # -- accounts --------------------------------------------------------------------------------
    def accounts(self, search: str = "", limit: int | None = None,
                 offset: int = 0) -> list[dict[str, Any]]:
        """Accounts by name with their balances; `search` matches the start of an account
        number or member id, part of a name, or a birth date (`account_search`)."""
        where, params = "1 = 1", list[Any]()
        if search.strip():
            where, params = account_search(search)
        sql = (f"SELECT account_no, name, birth_date, guarantor_account_no FROM rm_accounts "
               # By code point on PostgreSQL too, so a page of the search answers the same
               # order on both stores whatever the server's collation.
               f"WHERE {where} ORDER BY name{self.store.by_code_point}, "
               f"account_no{self.store.by_code_point}")
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        elif offset:
            sql += " LIMIT -1 OFFSET ?" if self.store.dialect == "sqlite" else " OFFSET ?"
            params.append(offset)
        found = self.store.fetchall(sql, params)
        per_account: dict[str, list[tuple[str, str, int]]] = {r[0]: [] for r in found}
        for account_no, line, party, cents in self._line_parties(
                "account_no", list(per_account), None, None):
            per_account[account_no].append((line, party, cents))
        out = []
        for account_no, name, birth_date, guarantor in found:
            figures = split(per_account[account_no])
            figures.pop("by_party")
            out.append({"account_no": account_no, "name": name,
                        "birth_date": to_date(birth_date), "guarantor_account_no": guarantor,
                        **figures})
        return out

    def _account_row(self, account_no: str) -> dict[str, Any]:
        rows = self._rows("accounts", "account_no = ?", [account_no])
        if not rows:
            raise NotFoundError(f"no account {account_no}")
        return rows[0]

    @gc_paused
    def account(self, account_no: str, as_of: date | None = None,
                known_at: datetime | None = None,
                page_size: int | None = None) -> dict[str, Any]:
        """One account: demographics, coverage, balances and their split, visits, claims.

        Every visit and claim by default. With `page_size`, only the latest `page_size` of
        each (what a screen shows first; `account_visits` and `account_claims` turn the
        pages): the balances are then summed in SQL, not from every line's split.
        `visit_count` and `claim_count` always say how many there are in all.
        """
        acct = self._account_row(account_no)
        payers, plans = self._names()
        order = [acct["policies"][p] for p in acct["coverage_order"] if p in acct["policies"]]
        if page_size is None:
            line_parties = [(line, party, cents) for _, line, party, cents in
                            self._line_parties("account_no", [account_no], as_of, known_at)]
            figures = split(line_parties)
            visits = self._visits(account_no, as_of, known_at, line_parties=line_parties)
            claims = self._claims(account_no, as_of, known_at, payers)
        else:
            figures = self._balances(account_no, as_of, known_at)
            visits = self._visits(account_no, as_of, known_at, limit=page_size)
            claims = self._claims(account_no, as_of, known_at, payers, limit=page_size)
        dated, params = when(as_of, known_at, date_column="issued_on")
        statements = self._rows("statements", "account_no = ?" + dated,
                                [account_no, *params], "issued_on, statement_id")
        plan = self._latest("payment_plans", account_no, "starts_on", as_of)
        referral = self._latest("referrals", account_no, "referred_on", as_of)
        at_agency = 0
        if referral is not None and referral["status"] == "placed":
            at_agency = (referral["referred_cents"] - referral["recovered_cents"]
                         - referral["recalled_cents"])
        return {
            "account_no": acct["account_no"], "name": acct["name"],
            "last_name": acct["last_name"], "first_name": acct["first_name"],
            "middle_name": acct["middle_name"], "birth_date": to_date(acct["birth_date"]),
            "sex": acct["sex"], "address": acct["address"], "phone": acct["phone"],
            "guarantor_account_no": acct["guarantor_account_no"],
            "guarantor_relationship": acct["guarantor_relationship"],
            "dependents": acct["dependents"],
            "coverage": [_policy(p, payers, plans, acct["eligibility"].get(p["policy_id"]))
                         for p in order],
            **{k: figures[k] for k in ("balance_cents", "insurance_cents", "patient_cents",
                                       "agency_cents", "credit_cents")},
            "at_agency_cents": at_agency,
            "by_party": _ordered_parties(figures["by_party"], order),
            "as_of": as_of, "known_at": known_at,
            "encounters": visits["encounters"], "visit_count": visits["total"],
            "claims": claims["claims"], "claim_count": claims["total"],
            "statements": [{"statement_id": s["statement_id"],
                            "issued_on": to_date(s["issued_on"]),
                            "dunning_level": s["dunning_level"],
                            "balance_cents": s["balance_cents"],
                            "due_on": to_date(s["due_on"])} for s in statements],
            "payment_plan": _dated(plan),
            "referral": _dated(referral),
            "pending_refunds": self._pending_refunds(account_no, as_of),
        }

    def account_visits(self, account_no: str, as_of: date | None = None,
                       known_at: datetime | None = None, limit: int = 50,
                       offset: int | None = None) -> dict[str, Any]:
        """A page of the account's visits in date order, each with its lines and their
        balances: `limit` visits from `offset`, the latest ones when no offset is given.
        Answers {"encounters", "total", "offset"}."""
        self._account_row(account_no)
        return self._visits(account_no, as_of, known_at, limit=limit, offset=offset)

    def account_claims(self, account_no: str, as_of: date | None = None,
                       known_at: datetime | None = None, limit: int = 50,
                       offset: int | None = None) -> dict[str, Any]:
        """A page of the account's claims in the order created: `limit` from `offset`, the
        latest ones when no offset is given. Answers {"claims", "total", "offset"}."""
        self._account_row(account_no)
        return self._claims(account_no, as_of, known_at, self._names()[0], limit, offset)

    def account_choices(self, account_no: str, as_of: date | None = None,
                        known_at: datetime | None = None) -> dict[str, Any]:
        """What an account's action forms offer, across every page of the account: its
        visits ({"encounter_id", "service_date", "billing_npi"}, in date order), their lines
        ({"line_id", "encounter_id", "code", "reversed", "balance_cents", "by_party"}, visit
        by visit) and its claims ({"claim_id", "encounter_id", "state"}, in the order
        created). Only the columns the choices name (about 7 ms for an 860-visit account
        on SQLite, about what the screen's first page costs)."""
        self._account_row(account_no)
        dated, params = when(as_of, known_at, date_column="service_date")
        visits = [{"encounter_id": e, "service_date": to_date(dos), "billing_npi": npi}
                  for e, dos, npi in self.store.fetchall(
                      "SELECT encounter_id, service_date, billing_npi FROM rm_encounters "
                      f"WHERE account_no = ?{dated} ORDER BY service_date, position",
                      [account_no, *params])]
        extra, money_params = when(as_of, known_at)
        per_line: dict[str, dict[str, int]] = {}
        # The covering postings index answers this alone, grouped as it is ordered; most
        # line-party sums of an old account are settled (0), so only the others come back.
        for line, party, cents in self.store.fetchall(
                "SELECT line_id, party, SUM(bucket_delta) FROM rm_postings "
                f"WHERE account_no = ?{extra} GROUP BY line_id, party "
                "HAVING SUM(bucket_delta) <> 0", [account_no, *money_params]):
            per_line.setdefault(line, {})[party] = int(cents)
        by_visit: dict[str, list[dict[str, Any]]] = {}
        for line, encounter_id, code, reversed_ in self.store.fetchall(
                "SELECT line_id, encounter_id, code, reversed FROM rm_lines "
                f"WHERE account_no = ?{dated} ORDER BY position", [account_no, *params]):
            split_ = per_line.get(line, {})
            by_visit.setdefault(encounter_id, []).append({
                "line_id": line, "encounter_id": encounter_id, "code": code,
                "reversed": bool(reversed_), "balance_cents": sum(split_.values()),
                "by_party": split_})
        created, claim_params = when(as_of, known_at, date_column="created_on")
        claims = [{"claim_id": c, "encounter_id": e, "state": state}
                  for c, e, state in self.store.fetchall(
                      "SELECT claim_id, encounter_id, state FROM rm_claims "
                      f"WHERE account_no = ?{created} ORDER BY position",
                      [account_no, *claim_params])]
        return {"visits": visits,
                "lines": [x for v in visits for x in by_visit.get(v["encounter_id"], [])],
                "claims": claims}

    def _balances(self, account_no: str, as_of: date | None,
                  known_at: datetime | None) -> dict[str, Any]:
        """`split` of the account's line balances, added up in SQL: one row per party."""
        extra, params = when(as_of, known_at)
        by_party: dict[str, int] = {}
        credit = 0
        for party, cents, negative in self.store.fetchall(
                "SELECT party, SUM(cents), SUM(CASE WHEN cents < 0 THEN cents ELSE 0 END) "
                "FROM (SELECT party, SUM(bucket_delta) AS cents FROM rm_postings "
                f"WHERE account_no = ?{extra} GROUP BY line_id, party) t GROUP BY party",
                [account_no, *params]):
            by_party[party] = int(cents)
            credit -= int(negative)
        patient, agency = by_party.get(PATIENT, 0), by_party.get(AGENCY, 0)
        balance = sum(by_party.values())
        return {"balance_cents": balance, "insurance_cents": balance - patient - agency,
                "patient_cents": patient, "agency_cents": agency, "credit_cents": credit,
                "by_party": {p: c for p, c in by_party.items() if c}}

    def _page(self, table: str, where: str, params: list[Any], limit: int | None,
              offset: int | None) -> tuple[int | None, int]:
        """(total, offset) of a page: `offset` None asks for the last `limit` rows."""
        if limit is None:
            return None, offset or 0
        total = int(self.store.scalar(f"SELECT COUNT(*) FROM rm_{table} WHERE {where}",
                                      params) or 0)
        return total, max(0, total - limit) if offset is None else offset

    def _visits(self, account_no: str, as_of: date | None, known_at: datetime | None,
                limit: int | None = None, offset: int | None = None,
                line_parties: list[tuple[str, str, int]] | None = None) -> dict[str, Any]:
        """Visits with their lines: every one (`line_parties` then holds the account's line
        splits), or a page of `limit` from `offset` (the latest when None)."""
        dated, params = when(as_of, known_at, date_column="service_date")
        where, args = "account_no = ?" + dated, [account_no, *params]
        total, offset = self._page("encounters", where, args, limit, offset)
        encounters = self._rows("encounters", where, args, "service_date, position",
                                _ENCOUNTER_COLUMNS, limit, offset)
        if limit is None:
            line_rows = self._rows("lines", where, args, "position", _LINE_COLUMNS)
        elif encounters:
            ids = [e["encounter_id"] for e in encounters]
            line_rows = self._rows(
                "lines", f"encounter_id IN ({', '.join('?' * len(ids))}){dated}",
                [*ids, *params], "position", _LINE_COLUMNS)
        else:
            line_rows = []
        if line_parties is None:
            line_parties = self._page_line_parties([r["line_id"] for r in line_rows],
                                                   as_of, known_at)
        per_line: dict[str, dict[str, int]] = {}
        for line, party, cents in line_parties:
            if cents:
                per_line.setdefault(line, {})[party] = cents
        lines: dict[str, list[dict[str, Any]]] = {}
        for row in line_rows:
            split_ = per_line.get(row["line_id"], {})
            lines.setdefault(row["encounter_id"], []).append({
                "line_id": row["line_id"], "code": row["code"],
                "modifiers": row["modifiers"], "units_milli": row["units_milli"],
                "units": _units(row["units_milli"]), "description": row["description"],
                "service_date": to_date(row["service_date"]),
                "charge_cents": row["charge_cents"], "reversed": bool(row["reversed"]),
                "claims": row["claims"], "balance_cents": sum(split_.values()),
                "by_party": split_})
        return {"encounters": [_encounter(e, lines.get(e["encounter_id"], []))
                               for e in encounters],
                "total": len(encounters) if total is None else total, "offset": offset}

    def _page_line_parties(self, line_ids: list[str], as_of: date | None,
                           known_at: datetime | None) -> list[tuple[str, str, int]]:
        """(line, party, cents) of a page's lines.

        Found by line alone, the dates applied inside the sum, so that PostgreSQL has one
        index to use whatever it knows: with the account in the condition too, the generic
        plan of a prepared statement filters every posting of the account against the list
        (10 ms at 5k postings); with the dates there, a table not yet analyzed (just
        rebuilt) is read through the date index, every posting of the ledger (15 ms at 72k).
        """
        if not line_ids:
            return []
        extra, params = when(as_of, known_at)
        marks = ", ".join("?" * len(line_ids))
        return [(line, party, int(cents)) for line, party, cents in self.store.fetchall(
            f"SELECT line_id, party, SUM(CASE WHEN 1 = 1{extra} THEN bucket_delta ELSE 0 END) "
            f"FROM rm_postings WHERE line_id IN ({marks}) GROUP BY line_id, party",
            [*params, *line_ids])]

    def _claims(self, account_no: str, as_of: date | None, known_at: datetime | None,
                payers: dict[str, str], limit: int | None = None,
                offset: int | None = None) -> dict[str, Any]:
        dated, params = when(as_of, known_at, date_column="created_on")
        where, args = "account_no = ?" + dated, [account_no, *params]
        total, offset = self._page("claims", where, args, limit, offset)
        claims = [_claim_summary(c, payers) for c in self._rows(
            "claims", where, args, "position", _CLAIM_COLUMNS, limit, offset)]
        return {"claims": claims, "total": len(claims) if total is None else total,
                "offset": offset}

    def _pending_refunds(self, account_no: str, as_of: date | None) -> list[dict[str, Any]]:
        """Refund requests not approved or declined as of the date, oldest first (by the
        business dates alone: the `refunds` rows keep no recording times)."""
        sql = ("SELECT request_id, amount_cents, reason, requested_on, status, decided_on "
               "FROM rm_refunds WHERE account_no = ?")
        params: list[Any] = [account_no]
        if as_of is not None:
            sql += " AND requested_on <= ?"
            params.append(as_of.isoformat())
        out = []
        for request_id, cents, reason, requested_on, status, decided_on in self.store.fetchall(
                sql + " ORDER BY requested_on, request_id", params):
            decided = status != "requested" and (
                as_of is None or (decided_on is not None and decided_on <= as_of.isoformat()))
            if not decided:
                out.append({"request_id": request_id, "amount_cents": cents, "reason": reason,
                            "requested_on": to_date(requested_on)})
        return out

    def _latest(self, table: str, account_no: str, date_column: str,
                as_of: date | None) -> dict[str, Any] | None:
        dated, params = when(as_of, None, date_column=date_column)
        rows = self._rows(table, "account_no = ?" + dated, [account_no, *params], "position")
        return rows[-1] if rows else None

    def aging(self, as_of: date, known_at: datetime | None = None, basis: str = "dos",
              by: str | None = None) -> dict[str, Any]:
        """A/R aging (DOMAIN.md §7); see `projections.aging` for the rules."""
        if basis not in aging_rules.BASES:
            raise ValueError(f"basis must be one of {', '.join(aging_rules.BASES)}")
        return aging_rules.aging_report(self.line_balances(as_of, known_at, basis), as_of,
                                        basis, by)


_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE_START = re.compile(r"\d{4}-[\d-]{0,5}")


def account_search(text: str) -> tuple[str, list[Any]]:
    """The condition `accounts(search=text)` filters by, and its parameters.

    Case-insensitive: an account number or member id starting with the text, a name
    containing it, or a birth date: MM/DD/YYYY or YYYY-MM-DD exactly, or the start of an
    ISO date ("1980-03") as it is being typed.
    """
    needle = text.strip().lower()
    # Policies are stored as compact JSON (projections.store): a member id appears as
    # "member_id":"W123..."; the key in the pattern keeps payer and plan ids from matching.
    member_id = '"member_id":' + json.dumps(needle, ensure_ascii=False)[:-1]
    terms = ["LOWER(account_no) LIKE ?", "LOWER(name) LIKE ?", "LOWER(policies) LIKE ?"]
    params: list[Any] = [f"{needle}%", f"%{needle}%", f"%{member_id}%"]
    us = _US_DATE.fullmatch(needle)
    if us:
        try:
            born = date(int(us[3]), int(us[1]), int(us[2]))
        except ValueError:
            pass
        else:
            terms.append("birth_date = ?")
            params.append(born.isoformat())
    elif _ISO_DATE_START.fullmatch(needle):
        terms.append("birth_date LIKE ?")
        params.append(f"{needle}%")
    return f"({' OR '.join(terms)})", params


def _units(milli: int) -> str:
    whole, frac = divmod(milli, 1000)
    return str(whole) if not frac else f"{whole}.{frac:03d}".rstrip("0")


def _policy(p: dict[str, Any], payers: dict[str, str], plans: dict[tuple[str, str], str],
            eligibility: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "policy_id": p["policy_id"], "payer_id": p["payer_id"],
        "payer_name": payers.get(p["payer_id"], ""), "plan_id": p["plan_id"],
        "plan_name": plans.get((p["payer_id"], p["plan_id"]), ""),
        "member_id": p["member_id"], "group_number": p["group_number"],
        "relationship": p["relationship"], "effective_on": to_date(p["effective_on"]),
        "terminates_on": to_date(p["terminates_on"]),
        "terminated_on": to_date(p["terminated_on"]), "eligibility": eligibility,
    }


def _ordered_parties(by_party: dict[str, int], policies: list[dict[str, Any]]) -> dict[str, int]:
    """Payers in coverage order, then any other payer, then the patient, then the agency."""
    order = [p["payer_id"] for p in policies]
    rank = {party: i for i, party in enumerate(order)}
    payers = sorted((p for p in by_party if p not in RESERVED),
                    key=lambda p: (rank.get(p, len(order)), p))
    return {p: by_party[p] for p in [*payers, *RESERVED] if p in by_party}


def _encounter(e: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "encounter_id": e["encounter_id"], "service_date": to_date(e["service_date"]),
        "place_of_service": e["place_of_service"], "billing_npi": e["billing_npi"],
        "rendering_npi": e["rendering_npi"], "diagnoses": e["diagnoses"],
        "coverage": [{"order": c["order"], "payer_id": c["payer_id"], "plan_id": c["plan_id"]}
                     for c in e["coverage"]],
        "self_pay": bool(e["self_pay"]),
        "balance_cents": sum(line["balance_cents"] for line in lines), "lines": lines,
    }


def _claim_summary(c: dict[str, Any], payers: dict[str, str]) -> dict[str, Any]:
    return {
        "claim_id": c["claim_id"], "encounter_id": c["encounter_id"],
        "payer_id": c["payer_id"], "payer_name": payers.get(c["payer_id"], ""),
        "plan_id": c["plan_id"], "coverage_order": c["coverage_order"], "state": c["state"],
        "frequency": c["frequency"], "service_date": to_date(c["service_date"]),
        "charge_cents": c["charge_cents"], "paid_cents": c["paid_cents"],
        "outcome": c["outcome"] or None,
        "first_submitted_on": to_date(c["first_submitted_on"]),
        "payer_claim_control_number": c["payer_claim_control_number"],
        "open_denials": sum(len(v) for v in c["open_denials"].values()),
    }


def _dated(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A plan or referral row with its ISO dates as dates, minus bookkeeping columns."""
    if row is None:
        return None
    return {k: (to_date(v) if k.endswith("_on") and isinstance(v, str) else v)
            for k, v in row.items() if k not in ("position", "account_no")}


def store_for(ledger: Any) -> ProjectionStore:
    """The read-model store beside a ledger's events."""
    where = getattr(ledger, "store", None)
    if where is not None:
        if where.is_postgres:
            return PostgresProjectionStore(where.url)
        return SQLiteProjectionStore(where.sqlite_path)
    env = ledger.env
    module = str(env.get("PERSISTENCE_MODULE") or "")
    if "postgres" in module:
        user = quote(env.get("POSTGRES_USER") or "", safe="")
        password = quote(env.get("POSTGRES_PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if user else ""
        return PostgresProjectionStore(
            f"postgresql://{auth}{env.get('POSTGRES_HOST') or '127.0.0.1'}:"
            f"{env.get('POSTGRES_PORT') or 5432}/{env.get('POSTGRES_DBNAME')}")
    path = str(env.get("SQLITE_DBNAME") or "")
    if "sqlite" in module and path and ":memory:" not in path and "mode=memory" not in path:
        return SQLiteProjectionStore(path)
    # An in-memory ledger (tests): the read models live in memory too.
    return SQLiteProjectionStore(":memory:")
