"""Use cases of sending claims: plan an 837 batch of the ready claims, then record it as sent.

Sending is two steps so the file and the ledger never disagree. ``plan_batch`` reads every
ready claim with what an 837P needs (encounter, patient, policy, providers, payer and, for a
secondary claim, what each earlier payer did with every line) and takes the next control
numbers, without saving anything. The caller writes the file aside, then ``record_batch``
saves in one transaction the counter's new numbers and one ``Submitted`` event per claim;
only then is the file moved into place. If another biller submitted in between, the save is
refused and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from eventsourcing.utils import get_topic

from domain import clock
from domain.batch import SubmissionCounter
from domain.claim import Claim, ClaimState
from domain.encounter import Encounter
from domain.errors import ConcurrencyError
from domain.patient_account import PatientAccount
from domain.practice import Payer, Provider
from domain.services.claims import CLAIM_PAYMENT_ADJUSTMENT
from domain.services.core import LedgerCore, command

# Receivers handle big files badly; the 837 guide suggests at most 5000 claims per ST.
MAX_CLAIMS_PER_TRANSACTION = 5000
CLAIM_LEVEL = ":claim-level"


@dataclass(frozen=True)
class Adjustment:
    """One CAS triplet: group, reason, amount."""

    group: str
    carc: str
    amount_cents: int


@dataclass
class LineAdjudication:
    """What one payer did with one line (835 SVC; 837 loop 2430)."""

    line_id: str
    paid_cents: int = 0
    adjustments: list[Adjustment] = field(default_factory=list)

    @property
    def accounted_cents(self) -> int:
        return self.paid_cents + sum(a.amount_cents for a in self.adjustments)


@dataclass
class AdjudicationDetail:
    """A payer's standing adjudication of a claim, line by line, rebuilt from the ledger.

    ``claim_adjustments`` are the 835's claim-level CAS (posted on one line, recorded with a
    ``:claim-level`` source, kept here with that line's id): in an 837 they belong in loop
    2320, not 2430, and every line balances without them.
    """

    claim_id: str
    payer_id: str
    policy_id: str
    coverage_order: str
    payer_claim_control_number: str
    paid_on: date
    lines: dict[str, LineAdjudication]
    claim_adjustments: list[tuple[str, Adjustment]] = field(default_factory=list)

    @property
    def paid_cents(self) -> int:
        """CLP04 / AMT*D: the lines' payments less the claim-level adjustments (835 balancing:
        each line's charge = its payment + its CAS; the claim's CAS come off the total)."""
        return sum(line.paid_cents for line in self.lines.values()) - sum(
            a.amount_cents for _, a in self.claim_adjustments)

    def patient_responsibility_cents(self, line_ids: list[str] | None = None) -> int:
        lines = [self.lines[i] for i in (line_ids or list(self.lines)) if i in self.lines]
        return sum(a.amount_cents for line in lines for a in line.adjustments
                   if a.group == "PR") + sum(a.amount_cents for i, a in self.claim_adjustments
                                             if a.group == "PR")


@dataclass
class PriorPayer:
    """An earlier payer in coverage order, for a secondary claim's loops 2320/2330/2430."""

    payer: Payer
    policy: dict[str, Any]
    order: str
    adjudication: AdjudicationDetail


@dataclass
class ClaimBundle:
    """Everything an 837P says about one claim."""

    claim: Claim
    encounter: Encounter
    account: PatientAccount
    policy: dict[str, Any]
    payer: Payer
    billing: Provider
    rendering: Provider | None
    referring: Provider | None
    prior_payers: list[PriorPayer]

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [self.encounter.line(i) for i in self.claim.line_ids]


@dataclass
class Transaction:
    control: str          # ST02
    payer_id: str
    claims: list[ClaimBundle]


@dataclass
class BatchPlan:
    batch_id: str
    interchange_control: int
    created_at: datetime
    submitted_on: date
    payer_id: str
    transactions: list[Transaction]
    held: dict[str, list[str]]
    versions: dict[str, int]

    @property
    def claims(self) -> list[ClaimBundle]:
        return [bundle for t in self.transactions for bundle in t.claims]

    @property
    def charge_cents(self) -> int:
        return sum(bundle.claim.charge_cents for bundle in self.claims)

    @property
    def interchange_control_text(self) -> str:
        return f"{self.interchange_control:09d}"


Check = Callable[[ClaimBundle], list[str]]


class SubmissionCommands(LedgerCore):
    def submission_counter(self) -> SubmissionCounter:
        if self._exists(SubmissionCounter):
            return self._get(SubmissionCounter)
        return SubmissionCounter()

    def claims_in_state(self, *states: ClaimState, event_names: tuple[str, ...] = (
            "MarkedReady", "VoidStarted")) -> list[Claim]:
        """Claims now in one of `states`, found through the events that lead there."""
        topics = [get_topic(getattr(Claim, name)) for name in event_names]
        seen: dict[Any, None] = {}
        for notification in self._notifications(topics):
            seen.setdefault(notification.originator_id, None)
        claims = []
        for originator_id in seen:
            claim: Any = self.repository.get(originator_id)
            assert isinstance(claim, Claim)
            if claim.state in states:
                claims.append(claim)
        return claims

    def _notifications(self, topics: list[str]) -> Iterator[Any]:
        position = 1
        while True:
            page = self.recorder.select_notifications(start=position, limit=1000, topics=topics)
            if not page:
                return
            yield from page
            position = page[-1].id + 1

    # -- what a payer did, from the ledger ---------------------------------------------------
    def adjudication_details(self, claim_id: str) -> list[AdjudicationDetail]:
        """Each live (not reversed) adjudication of a claim, oldest first, with the lines it
        touched: what a payer's reversal of it has to take back."""
        claim = self._get(Claim, claim_id)
        live = [a for a in claim.adjudications if not a["reversed"]]
        if not live:
            return []
        encounter = self._get(Encounter, claim.encounter_id)
        details = {a["adjudication_id"]: AdjudicationDetail(
            claim_id=claim.claim_id, payer_id=claim.payer_id, policy_id=claim.policy_id,
            coverage_order=claim.coverage_order,
            payer_claim_control_number=a["payer_claim_control_number"]
            or claim.payer_claim_control_number,
            paid_on=a["paid_on"], lines={}) for a in live}
        owner = {entry_id: details[a["adjudication_id"]]
                 for a in live for entry_id in a["entry_ids"]}

        def add(detail: AdjudicationDetail, line_id: str, source: str,
                adjustment: Adjustment | None = None, paid_cents: int = 0) -> None:
            line = detail.lines.setdefault(line_id, LineAdjudication(line_id))
            line.paid_cents += paid_cents
            if adjustment is not None and source.endswith(CLAIM_LEVEL):
                detail.claim_adjustments.append((line_id, adjustment))
            elif adjustment is not None:
                line.adjustments.append(adjustment)

        encounter_events: list[Any] = list(self.repository.event_store.get(encounter.id))
        for ev in encounter_events:
            detail = owner.get(getattr(ev, "entry_id", None) or "")
            if detail is None:
                continue
            name = type(ev).__name__
            if name == "PaymentPosted" and ev.source.endswith(CLAIM_PAYMENT_ADJUSTMENT):
                continue   # the claim-level CAS below already take it off the total
            if name == "PaymentPosted":
                add(detail, ev.line_id, ev.source, paid_cents=ev.amount_cents)
            elif name == "AdjustmentPosted":
                add(detail, ev.line_id, ev.source, Adjustment(ev.group, ev.carc, ev.amount_cents))
            elif name == "ResponsibilityTransferred" and ev.reason.startswith("PR-"):
                add(detail, ev.line_id, ev.source,
                    Adjustment("PR", ev.reason[3:], ev.amount_cents))
        claim_events: list[Any] = list(self.repository.event_store.get(claim.id))
        for ev in claim_events:
            if type(ev).__name__ == "Adjudicated" and ev.adjudication_id in details:
                # Denials stay with the payer, so no entry records them; the event does.
                for denial in ev.denials:
                    add(details[ev.adjudication_id], denial["line_id"], denial["source"],
                        Adjustment(denial["group"], denial["carc"], denial["amount_cents"]))
        if claim.coverage_order != "P":
            # A later payer's OA-23 (impact of the prior payer) moves no money, so posting
            # records nothing for it; it is whatever of the charge the rest leaves unexplained.
            for detail in details.values():
                for line_id, line in detail.lines.items():
                    gap = encounter.line(line_id)["charge_cents"] - line.accounted_cents
                    if gap > 0:
                        line.adjustments.append(Adjustment("OA", "23", gap))
        return list(details.values())

    def adjudication_detail(self, claim_id: str) -> AdjudicationDetail | None:
        """Where the claim stands with its payer, line by line; None if never adjudicated.

        A payer may adjudicate some lines again without reversing the first answer (a denied
        line paid after an appeal): each line takes its latest adjudication.
        """
        details = self.adjudication_details(claim_id)
        if not details:
            return None
        latest = details[-1]
        standing = AdjudicationDetail(
            claim_id=latest.claim_id, payer_id=latest.payer_id, policy_id=latest.policy_id,
            coverage_order=latest.coverage_order,
            payer_claim_control_number=latest.payer_claim_control_number,
            paid_on=latest.paid_on, lines={})
        for detail in details:
            standing.lines.update(detail.lines)
            standing.claim_adjustments.extend(detail.claim_adjustments)
        return standing

    def _prior_payers(self, claim: Claim, encounter: Encounter) -> tuple[list[PriorPayer],
                                                                         list[str]]:
        payers = [c["payer_id"] for c in encounter.coverage]
        if claim.payer_id not in payers:
            return [], []
        account = self._get(PatientAccount, claim.account_no)
        priors, problems = [], []
        for coverage in encounter.coverage[:payers.index(claim.payer_id)]:
            payer_id = coverage["payer_id"]
            claim_ids = list(dict.fromkeys(
                encounter.line(i)["claims"][payer_id] for i in claim.line_ids
                if payer_id in encounter.line(i)["claims"]))
            details = [d for d in map(self.adjudication_detail, claim_ids) if d is not None]
            if not details:
                problems.append(f"{payer_id} ({coverage['order']}) has no adjudication of "
                                "these lines to report to the next payer")
                continue
            merged = details[0]
            for extra in details[1:]:
                merged.lines.update(extra.lines)
                merged.claim_adjustments.extend(extra.claim_adjustments)
                merged.paid_on = max(merged.paid_on, extra.paid_on)
            merged.lines = {i: merged.lines.get(i, LineAdjudication(i)) for i in claim.line_ids}
            merged.claim_adjustments = [(i, a) for i, a in merged.claim_adjustments
                                        if i in claim.line_ids]
            for line_id, line in merged.lines.items():
                charge = encounter.line(line_id)["charge_cents"]
                if line.accounted_cents != charge:
                    problems.append(
                        f"{payer_id}'s adjudication of line {line_id} accounts for "
                        f"{line.accounted_cents} of its {charge} cents; the next payer's "
                        "claim would not balance")
            priors.append(PriorPayer(
                payer=self._get(Payer, payer_id), policy=account.policy(coverage["policy_id"]),
                order=coverage["order"], adjudication=merged))
        return priors, problems

    def claim_bundle(self, claim_id: str) -> tuple[ClaimBundle, list[str]]:
        """A claim with everything its 837P needs, and what stops it from being written."""
        claim = self._get(Claim, claim_id)
        encounter = self._get(Encounter, claim.encounter_id)
        account = self._get(PatientAccount, claim.account_no)
        rendering = referring = None
        if encounter.rendering_npi and encounter.rendering_npi != claim.billing_npi:
            rendering = self._get(Provider, encounter.rendering_npi)
        if encounter.referring_npi and self._exists(Provider, encounter.referring_npi):
            referring = self._get(Provider, encounter.referring_npi)
        priors, problems = self._prior_payers(claim, encounter)
        bundle = ClaimBundle(
            claim=claim, encounter=encounter, account=account,
            policy=account.policy(claim.policy_id), payer=self._get(Payer, claim.payer_id),
            billing=self._get(Provider, claim.billing_npi), rendering=rendering,
            referring=referring, prior_payers=priors)
        return bundle, problems

    # -- a batch ---------------------------------------------------------------------------------
    def plan_batch(self, payer_id: str | None = None, *, check: Check | None = None,
                   claim_ids: list[str] | None = None) -> BatchPlan:
        """Every ready claim (or one payer's), numbered for one interchange. Saves nothing.

        `check` names what would make a claim unwritable; such claims are *held*: left out
        of the file and, when the batch is recorded, sent back to draft with those problems.
        """
        if claim_ids is None:
            claims = self.claims_in_state(ClaimState.READY)
        else:
            claims = [self._get(Claim, c) for c in claim_ids]
            claims = [c for c in claims if c.state is ClaimState.READY]
        if payer_id is not None:
            self._get(Payer, payer_id)
            claims = [c for c in claims if c.payer_id == payer_id]
        claims.sort(key=lambda c: (c.payer_id, c.billing_npi, c.claim_id))
        versions = {c.claim_id: int(c.version) for c in claims}
        held: dict[str, list[str]] = {}
        by_payer: dict[str, list[ClaimBundle]] = {}
        for claim in claims:
            bundle, problems = self.claim_bundle(claim.claim_id)
            problems += check(bundle) if check is not None else []
            if problems:
                held[claim.claim_id] = problems
            else:
                by_payer.setdefault(claim.payer_id, []).append(bundle)
        chunks = [(payer, bundles[i:i + MAX_CLAIMS_PER_TRANSACTION])
                  for payer, bundles in by_payer.items()
                  for i in range(0, len(bundles), MAX_CLAIMS_PER_TRANSACTION)]
        counter = self.submission_counter()
        numbers = counter.next_transactions(len(chunks))
        batch_id = self.ids.batch_id()
        while batch_id in counter.batches:
            batch_id = self.ids.batch_id()
        return BatchPlan(
            batch_id=batch_id, interchange_control=counter.next_interchange,
            created_at=clock.now(), submitted_on=self.today(), payer_id=payer_id or "",
            transactions=[Transaction(f"{n:04d}", payer, bundles)
                          for n, (payer, bundles) in zip(numbers, chunks, strict=True)],
            held=held, versions=versions)

    @command
    def record_batch(self, plan: BatchPlan, *, file_name: str = "") -> None:
        """Save the batch: the counter's numbers, a ``Submitted`` event per claim, and the
        held claims back to draft with their problems. All of it, or nothing."""
        changed: list[Any] = []
        for transaction in plan.transactions:
            for bundle in transaction.claims:
                claim = self._fresh_claim(plan, bundle.claim.claim_id)
                claim.submit(plan.batch_id, plan.submitted_on, plan.interchange_control_text,
                             transaction.control)
                changed.append(claim)
        for claim_id, problems in plan.held.items():
            claim = self._fresh_claim(plan, claim_id)
            claim.record_scrub(problems, plan.submitted_on)
            changed.append(claim)
        if plan.transactions:
            counter = self.submission_counter()
            counter.record_batch(
                batch_id=plan.batch_id, interchange_control=plan.interchange_control,
                transactions={t.control: [b.claim.claim_id for b in t.claims]
                              for t in plan.transactions},
                payer_id=plan.payer_id, charge_cents=plan.charge_cents, file_name=file_name,
                submitted_on=plan.submitted_on)
            changed.append(counter)
        if changed:
            self._save(*changed)

    def _fresh_claim(self, plan: BatchPlan, claim_id: str) -> Claim:
        claim = self._get(Claim, claim_id)
        if claim.version != plan.versions[claim_id] or claim.state is not ClaimState.READY:
            raise ConcurrencyError(
                f"claim {claim_id} changed after the batch was written; submit again")
        return claim
