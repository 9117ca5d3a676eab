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

import json
from collections.abc import Callable
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from domain import clock
from domain.carc import CARC_DESCRIPTIONS, action_for
from domain.errors import NotFoundError
from domain.ledger import AGENCY, PATIENT
from domain.practice import Contract
from domain.scrubber import filing_deadline
from domain.services.inquiries import REJECTION_PREFIX
from projections.patient_side import PatientSide
from projections.reads import to_date

FILING_WINDOW_DAYS = 30
UNFILED = ("draft", "ready", "rejected")
AWAITING = ("submitted", "accepted")

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
        field contains it (case-insensitive).
        """
        if name not in QUEUES:
            raise NotFoundError(f"no queue {name!r}; queues: {', '.join(QUEUES)}")
        as_of = as_of or clock.today()
        title, default_sort = QUEUES[name]
        rows: list[dict[str, Any]] = self._builders()[name](as_of)
        if filter:
            rows = [r for r in rows if all(r.get(k) == v for k, v in filter.items())]
        if search:
            needle = search.lower()
            rows = [r for r in rows if any(needle in str(v).lower() for v in r.values()
                                           if isinstance(v, (str, int)))]
        key = sort or default_sort
        reverse = key.startswith("-") != descending
        key = key.lstrip("-")
        rows.sort(key=lambda r: (r.get(key) is None, r.get(key) or 0), reverse=reverse)
        total = sum(int(r.get("amount_cents") or r.get("balance_cents")
                        or r.get("credit_cents") or 0) for r in rows)
        page = rows[offset:] if limit is None else rows[offset:offset + limit]
        return {"name": name, "title": title, "as_of": as_of, "count": len(rows),
                "total_cents": total, "items": page}

    def _builders(self) -> dict[str, Callable[[date], list[dict[str, Any]]]]:
        return {
            "unbilled": self._unbilled, "ready": self._ready, "rejected": self._rejected,
            "denials": self._denials, "no-response": self._no_response,
            "timely-filing": self._timely_filing, "underpaid": self._underpaid,
            "credit-balances": self._credit_balances, "delinquent": self.delinquent,
            "collections": self.collection_candidates, "eligibility": self._eligibility,
        }

    # -- the data each queue reads ---------------------------------------------------------------
    def _open_lines(self, as_of: date) -> list[dict[str, Any]]:
        """Non-zero line-party balances as of a date, with the line's facts."""
        rows = self.store.fetchall(
            "SELECT b.line_id, b.party, b.plan_id, b.cents, l.encounter_id, l.account_no, "
            "l.code, l.modifiers, l.units_milli, l.service_date, l.claims FROM ("
            "SELECT line_id, party, MAX(plan_id) AS plan_id, SUM(bucket_delta) AS cents "
            "FROM rm_postings WHERE effective_on <= ? GROUP BY line_id, party "
            "HAVING SUM(bucket_delta) <> 0) b JOIN rm_lines l ON l.line_id = b.line_id",
            (as_of.isoformat(),))
        return [{"line_id": r[0], "party": r[1], "plan_id": r[2] or "", "cents": int(r[3]),
                 "encounter_id": r[4], "account_no": r[5], "code": r[6],
                 "modifiers": json.loads(r[7]), "units_milli": r[8],
                 "service_date": date.fromisoformat(r[9]), "claims": json.loads(r[10])}
                for r in rows]

    def _claims(self, where: str, params: list[Any]) -> list[dict[str, Any]]:
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

    # -- the queues ----------------------------------------------------------------------------
    def _unbilled(self, as_of: date) -> list[dict[str, Any]]:
        return [{"account_no": x["account_no"], "encounter_id": x["encounter_id"],
                 "line_id": x["line_id"], "payer_id": x["party"], "plan_id": x["plan_id"],
                 "code": x["code"], "service_date": x["service_date"],
                 "amount_cents": x["cents"], "age_days": (as_of - x["service_date"]).days}
                for x in self._open_lines(as_of)
                if x["party"] not in (PATIENT, AGENCY) and x["cents"] > 0
                and x["party"] not in x["claims"]]

    def _ready(self, as_of: date) -> list[dict[str, Any]]:
        return [{**self._claim_row(c, as_of), "ready_on": to_date(c["state_on"])}
                for c in self._claims("state = ? AND created_on <= ?",
                                      ["ready", as_of.isoformat()])]

    def _rejected(self, as_of: date) -> list[dict[str, Any]]:
        out = []
        for c in self._claims("state = ?", ["rejected"]):
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
        for c in self._claims("state = ?", ["adjudicated"]):
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

    def _no_response(self, as_of: date) -> list[dict[str, Any]]:
        expected = dict(self.store.fetchall(
            "SELECT payer_id, expected_response_days FROM rm_payers"))
        out = []
        for c in self._claims("state IN (?, ?) AND last_submitted_on <= ?",
                              [*AWAITING, as_of.isoformat()]):
            submitted = date.fromisoformat(c["last_submitted_on"])
            days, limit = (as_of - submitted).days, int(expected.get(c["payer_id"]) or 30)
            if days > limit:
                out.append({**self._claim_row(c, as_of), "submitted_on": submitted,
                            "expected_days": limit, "days_waiting": days})
        return out

    def _timely_filing(self, as_of: date) -> list[dict[str, Any]]:
        contracts = self._contracts()
        window = as_of + timedelta(days=FILING_WINDOW_DAYS)
        out = []
        for c in self._claims(f"state IN ({', '.join('?' * len(UNFILED))})", list(UNFILED)):
            service_date = date.fromisoformat(c["service_date"])
            deadline = contracts.deadline(c["payer_id"], c["plan_id"], service_date)
            if deadline <= window:
                out.append({**self._claim_row(c, as_of), "deadline": deadline,
                            "days_left": (deadline - as_of).days,
                            "override": bool(c["filing_override"])})
        unbilled: dict[tuple[str, str], dict[str, Any]] = {}
        for x in self._unbilled(as_of):
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
        claims = {c["claim_id"]: c for c in self._claims(
            "coverage_order = ? AND state IN (?, ?)", ["P", "adjudicated", "closed"])}
        if not claims:
            return []
        paid: dict[tuple[str, str], int] = {}
        patient_share: dict[tuple[str, str], int] = {}
        reasons: dict[str, str] = {}
        for line_id, party, category, amount, bucket, reason, entry_id, reverses in (
                self.store.fetchall(
                    "SELECT line_id, party, category, amount_cents, bucket_delta, reason, "
                    "entry_id, reverses_entry_id FROM rm_postings WHERE claim_id <> '' AND "
                    "category IN ('payment', 'transfer') AND effective_on <= ? "
                    "ORDER BY position, seq", (as_of.isoformat(),))):
            key = (line_id, party)
            reasons[entry_id] = reasons.get(reverses, reason) if reverses else reason
            if category == "payment":
                paid[key] = paid.get(key, 0) + int(amount)
            # The payer's side of a PR transfer (or of its reversal): what it left the patient.
            elif reasons[entry_id].startswith("PR-") and (bucket < 0) != bool(reverses):
                patient_share[key] = patient_share.get(key, 0) - int(bucket)
        lines = {x["line_id"]: x for x in self._rows_for_lines(list({k[0] for k in paid}))}
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

    def _rows_for_lines(self, line_ids: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in range(0, len(line_ids), 500):
            chunk = line_ids[i:i + 500]
            out += self._rows("lines", f"line_id IN ({', '.join('?' * len(chunk))})", chunk)
        return out

    def _credit_balances(self, as_of: date) -> list[dict[str, Any]]:
        guarantor_of = dict(self.store.fetchall(
            "SELECT account_no, guarantor_account_no FROM rm_accounts"))
        pending: dict[str, int] = {}
        for account_no, cents in self.store.fetchall(
                "SELECT account_no, amount_cents FROM rm_refunds WHERE status = 'requested'"):
            pending[account_no] = pending.get(account_no, 0) + int(cents)
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for x in self._open_lines(as_of):
            if x["cents"] >= 0:
                continue
            guarantor = guarantor_of.get(x["account_no"], x["account_no"])
            row = groups.setdefault((guarantor, x["party"]), {
                "guarantor_account_no": guarantor, "party": x["party"], "credit_cents": 0,
                "lines": [], "refund_requested_cents":
                    pending.get(guarantor, 0) if x["party"] == PATIENT else 0})
            row["credit_cents"] -= x["cents"]
            row["lines"].append(x["line_id"])
        return list(groups.values())
