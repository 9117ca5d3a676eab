"""Revenue-cycle KPIs as of a date over a trailing period (DOMAIN.md §7).

The period is the `period_days` days ending on `as_of` (business dates). Money comes from
postings (charges, payments, refunds, contractual adjustments and their reversals), claim
figures from the claim rows, and the SLA figures from event timestamps:

- days in A/R = net A/R / (gross charges in the period / period days), net A/R being
  debit balances less credit balances;
- % A/R over 90 days = the 91-120 and 121+ buckets / all debit balances;
- denial rate = claims first adjudicated in the period with a denied line / claims first
  adjudicated in the period, and the same weighted by charge;
- first-pass acceptance = claims first submitted in the period whose first answer
  (999/277CA or the 835 itself) accepted them / claims first submitted in the period;
- clean-claim rate = of those, claims paid on the first submission with no denied line;
- gross collection = payments (less refunds) / gross charges; net collection = payments /
  (charges - contractual adjustments);
- SLAs: days from the 835's payment date to its posting, from a denial's posting to the
  first action on it, from the date of service to the first submission.
Rates are percentages with one decimal, None when nothing is there to divide by.

`collections_by_month` is the dashboard's chart: payments received per calendar month, by
who paid (the payers, the patient, the collection agency), less refunds paid out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.ledger import AGENCY, PATIENT
from projections.aging import aging_report
from projections.reads import ReadModels, to_date, when
from projections.worklist import days_after


def percent(part: float, whole: float) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def average(values: list[float]) -> float | None:
    return None if not values else round(sum(values) / len(values), 1)


def _within(day: date | None, start: date, end: date) -> bool:
    return day is not None and start < day <= end


_COLLECTED = ("insurance_cents", "patient_cents", "agency_cents", "payments_cents",
              "refunds_cents", "net_cents")


class Kpis(ReadModels):
    def kpis(self, as_of: date, period_days: int = 90) -> dict[str, Any]:
        """The dashboard figures for the `period_days` days ending on `as_of`."""
        if period_days <= 0:
            raise ValueError("period_days must be positive")
        start = days_after(as_of, -period_days)
        money = self._period_money(start, as_of)
        aging = aging_report(self.line_balances(as_of), as_of)
        net_ar = aging["total_cents"] - aging["credit_cents"]
        over_90 = sum(sum(aging["buckets"][b].values()) for b in ("91-120", "121+"))
        claims = self._claim_figures(start, as_of)
        charges = money["gross_charges_cents"]
        payments = money["payments_cents"]
        return {
            "as_of": as_of, "period_days": period_days,
            "days_in_ar": None if charges <= 0 else round(net_ar / (charges / period_days), 1),
            "net_ar_cents": net_ar, "ar_over_90_pct": percent(over_90, aging["total_cents"]),
            **money,
            "gross_collection_rate": percent(payments, charges),
            "net_collection_rate": percent(payments, charges - money["contractual_cents"]),
            **claims,
        }

    def collections_by_month(self, as_of: date, months: int = 12,
                             known_at: datetime | None = None) -> dict[str, Any]:
        """Money collected in each of the `months` calendar months ending with `as_of`'s
        (that one up to `as_of`), oldest first, by payment date.

        Per month: payments by payers (`insurance_cents`), the patient and the agency,
        `payments_cents` their sum (reversals count against it), `refunds_cents` paid back,
        `net_cents` payments less refunds (the KPIs' collected money). Totals likewise.
        """
        if months <= 0:
            raise ValueError("months must be positive")
        index = as_of.year * 12 + as_of.month - 1 - (months - 1)
        start = date(index // 12, index % 12 + 1, 1)
        names = [f"{(index + i) // 12:04d}-{(index + i) % 12 + 1:02d}" for i in range(months)]
        figures = {name: dict.fromkeys(_COLLECTED, 0) for name in names}
        extra, params = when(as_of, known_at)
        for month, party, category, cents in self.store.fetchall(
                "SELECT SUBSTR(effective_on, 1, 7), party, category, SUM(amount_cents) "
                "FROM rm_postings WHERE category IN ('payment', 'refund') AND effective_on >= ?"
                f"{extra} GROUP BY SUBSTR(effective_on, 1, 7), party, category",
                [start.isoformat(), *params]):
            row = figures[month]
            if category == "refund":
                row["refunds_cents"] += int(cents)
                continue
            who = {PATIENT: "patient_cents", AGENCY: "agency_cents"}.get(party, "insurance_cents")
            row[who] += int(cents)
            row["payments_cents"] += int(cents)
        for row in figures.values():
            row["net_cents"] = row["payments_cents"] - row["refunds_cents"]
        totals = {k: sum(row[k] for row in figures.values()) for k in _COLLECTED}
        return {"as_of": as_of, "months": [{"month": name, **figures[name]} for name in names],
                **totals}

    def _period_money(self, start: date, end: date) -> dict[str, int]:
        sums = {"charge": 0, "payment": 0, "refund": 0}
        contractual = 0
        reversed_kinds: dict[str, int] = {}
        for category, kind, reverses, amount in self.store.fetchall(
                "SELECT category, kind, reverses_entry_id, SUM(amount_cents) FROM rm_postings "
                "WHERE effective_on > ? AND effective_on <= ? AND category IN "
                "('charge', 'payment', 'refund', 'adjustment') "
                "GROUP BY category, kind, reverses_entry_id",
                (start.isoformat(), end.isoformat())):
            if category in sums:
                sums[category] += int(amount)
            elif kind == "contractual":
                contractual += int(amount)
            elif reverses:
                reversed_kinds[reverses] = reversed_kinds.get(reverses, 0) + int(amount)
        if reversed_kinds:   # a reversal carries no kind: take its original entry's
            ids = list(reversed_kinds)
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                for entry_id, kind in self.store.fetchall(
                        "SELECT DISTINCT entry_id, kind FROM rm_postings WHERE entry_id IN "
                        f"({', '.join('?' * len(chunk))})", chunk):
                    if kind == "contractual":
                        contractual += reversed_kinds[entry_id]
        return {"gross_charges_cents": sums["charge"],
                "payments_cents": sums["payment"] - sums["refund"],
                "contractual_cents": contractual}

    def _claim_figures(self, start: date, end: date) -> dict[str, Any]:
        submitted = clean = accepted = adjudicated = denied = 0
        charge = denied_cents = 0
        dos_to_submission: list[float] = []
        era_to_posting: list[float] = []
        denial_to_action: list[float] = []
        pending_denials = 0
        for c in self._rows("claims", "first_submitted_on IS NOT NULL", []):
            first_submitted = to_date(c["first_submitted_on"])
            if _within(first_submitted, start, end):
                assert first_submitted is not None
                submitted += 1
                service_date = to_date(c["service_date"])
                if service_date is not None:
                    dos_to_submission.append((first_submitted - service_date).days)
                answered = to_date(c["first_response_on"])
                if c["first_response"] == "accepted" and answered and answered <= end:
                    accepted += 1
                first_paid = to_date(c["first_adjudicated_on"])
                if (c["first_outcome"] == "paid" and first_paid and first_paid <= end
                        and c["submissions_at_first_adjudication"] == 1):
                    clean += 1
            known = [a for a in c["adjudications"] if a["paid_on"] <= end.isoformat()]
            for a in known:
                if _within(to_date(a["paid_on"]), start, end):
                    posted = datetime.fromisoformat(a["recorded_at"]).date()
                    era_to_posting.append((posted - date.fromisoformat(a["paid_on"])).days)
            if known and _within(to_date(known[0]["paid_on"]), start, end):
                adjudicated += 1
                charge += c["charge_cents"]
                if any(a["denied_cents"] for a in known):
                    denied += 1
                    denied_cents += max(a["denied_cents"] for a in known)
            denial_at = c["denial_recorded_at"]
            if denial_at and _within(datetime.fromisoformat(denial_at).date(), start, end):
                action_at = c["denial_first_action_at"]
                if action_at:
                    delta = datetime.fromisoformat(action_at) - datetime.fromisoformat(denial_at)
                    denial_to_action.append(round(delta.total_seconds() / 86_400, 1))
                else:
                    pending_denials += 1
        return {
            "claims_first_submitted": submitted,
            "first_pass_acceptance_rate": percent(accepted, submitted),
            "clean_claim_rate": percent(clean, submitted),
            "claims_adjudicated": adjudicated,
            "denial_rate": percent(denied, adjudicated),
            "denial_rate_dollars": percent(denied_cents, charge),
            "denied_claims": denied, "denied_cents": denied_cents,
            "sla": {
                "era_to_posting_days": average(era_to_posting),
                "denial_to_first_action_days": average(denial_to_action),
                "denials_awaiting_action": pending_denials,
                "dos_to_first_submission_days": average(dos_to_submission),
            },
        }
