"""Use cases of a claim's life: create, scrub, submit, acknowledge, post adjudication, correct.

Posting a payer's adjudication follows DOMAIN.md §4: each SVC is matched to our line
(REF*6R first, then code + modifiers + date + charge, then SVC06), its payment posted, each
CAS applied by the rule table: PR moves to the next payer or the patient, contractual CO is
written off, anything else is a denial left with the payer for a biller to work. A CLP02=22
reversal negates exactly the entries the original posting created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from domain.base import BillingAggregate
from domain.carc import DenialAction, action_for
from domain.claim import Claim, ClaimState, Outcome
from domain.codes import AdjustmentGroup
from domain.encounter import Encounter
from domain.errors import NotFoundError, RuleViolation, ValidationError
from domain.ledger import PATIENT, AdjustmentKind
from domain.money import allocate
from domain.patient_account import PatientAccount
from domain.practice import Contract, Payer, Provider
from domain.remittance import CasAdjustment, ClaimRemit, ServiceRemit, UnmatchedRemitError
from domain.scrubber import ScrubContext, scrub
from domain.services.core import LedgerCore, command
from domain.services.practice import require

A = TypeVar("A", bound=BillingAggregate)

# Source suffix of the entry that brings a claim's posted payments to CLP04 when claim-level
# CAS sit beside line detail; readers of line adjudications (secondary 837 loops) skip it.
CLAIM_PAYMENT_ADJUSTMENT = ":claim-payment-adjustment"


@dataclass
class PostingResult:
    """What posting one CLP did: for --dry-run previews and import summaries."""

    claim_id: str
    status_code: str
    outcome: str
    paid_cents: int = 0
    written_off_cents: int = 0
    transferred: dict[str, int] = field(default_factory=dict)
    denied_cents: int = 0
    entry_ids: list[str] = field(default_factory=list)
    events: int = 0
    balances: dict[str, int] = field(default_factory=dict)


class ClaimCommands(LedgerCore):
    def claim(self, claim_id: str) -> Claim:
        return self._get(Claim, claim_id)

    @command
    def create_claim(
        self, encounter_id: str, payer_id: str | None = None, *,
        line_ids: list[str] | None = None, claim_id: str | None = None,
    ) -> str:
        """A claim for one payer: by default the primary, with every line not yet billed to it."""
        encounter = self._get(Encounter, encounter_id)
        if not encounter.coverage:
            raise RuleViolation(f"encounter {encounter_id} is self-pay; bill the patient instead")
        payer_id = payer_id or encounter.coverage[0]["payer_id"]
        coverage = next((c for c in encounter.coverage if c["payer_id"] == payer_id), None)
        if coverage is None:
            raise RuleViolation(f"payer {payer_id} is not on encounter {encounter_id}'s coverage")
        account = self._get(PatientAccount, encounter.account_no)
        eligibility = account.eligibility.get(coverage["policy_id"])
        if eligibility and not eligibility["active"] and (
                eligibility["service_on"] == encounter.service_date):
            raise RuleViolation(
                f"eligibility says {payer_id} coverage was inactive on {encounter.service_date}; "
                "resolve the coverage first")
        if line_ids is None:
            line_ids = [
                i for i, line in encounter.lines.items()
                if not line["reversed"] and payer_id not in line["claims"]
                and (coverage["order"] == "P" or line["buckets"].get(payer_id, 0) > 0)]
        require(bool(line_ids), f"encounter {encounter_id} has no lines to bill to {payer_id}")
        require(len(line_ids) <= 50, "a claim takes at most 50 lines")
        if claim_id is None:
            claim_id = self.ids.claim_id()
            while self._exists(Claim, claim_id):
                claim_id = self.ids.claim_id()
        else:
            Claim.validate_id(claim_id)
            if self._exists(Claim, claim_id):
                raise RuleViolation(f"claim {claim_id} already exists")
        encounter.claim_lines(claim_id, payer_id, line_ids)
        charge = sum(encounter.line(i)["charge_cents"] for i in line_ids)
        claim = Claim(
            claim_id=claim_id, encounter_id=encounter_id, account_no=encounter.account_no,
            payer_id=payer_id, plan_id=coverage["plan_id"], policy_id=coverage["policy_id"],
            coverage_order=coverage["order"], line_ids=line_ids, charge_cents=charge,
            billing_npi=encounter.billing_npi, service_date=encounter.service_date,
            created_on=self.today())
        self._save(claim, encounter)
        return claim_id

    def _scrub_problems(self, claim: Claim, encounter: Encounter) -> list[str]:
        account = self._get(PatientAccount, claim.account_no)
        billing = self._get(Provider, claim.billing_npi)
        payer = self._get(Payer, claim.payer_id)
        contract_id = payer.contract_id_for(claim.plan_id, claim.service_date, claim.billing_npi)
        contract = self._get(Contract, contract_id) if contract_id else None
        primary_adjudicated = True
        if claim.coverage_order != "P":
            primary = encounter.coverage[0]["payer_id"]
            primary_claims = {line["claims"].get(primary) for line in encounter.lines.values()
                              if line["line_id"] in claim.line_ids}
            primary_adjudicated = all(
                c is not None and self._get(Claim, c).adjudications for c in primary_claims)
        return scrub(ScrubContext(claim, encounter, account, billing, contract, self.today(),
                                  primary_adjudicated))

    @command
    def scrub_claim(self, claim_id: str) -> list[str]:
        """Check a draft; it becomes ready when nothing is wrong. Returns the problems."""
        claim = self._get(Claim, claim_id)
        encounter = self._get(Encounter, claim.encounter_id)
        problems = self._scrub_problems(claim, encounter)
        claim.record_scrub(problems, self.today())
        self._save(claim)
        return problems

    @command
    def override_filing_limit(self, claim_id: str, reason: str) -> None:
        claim = self._get(Claim, claim_id)
        claim.override_filing_limit(self.acting_user, reason)
        self._save(claim)

    @command
    def mark_submitted(
        self, claim_ids: list[str], *, batch_id: str, submitted_on: date | None = None,
        interchange_control: str = "", transaction_controls: dict[str, str] | None = None,
    ) -> None:
        """Record one 837 batch: every claim in it is submitted, or none is."""
        claims = [self._get(Claim, c) for c in claim_ids]
        for claim in claims:
            claim.submit(batch_id, submitted_on or self.today(), interchange_control,
                         (transaction_controls or {}).get(claim.claim_id, ""))
        self._save(*claims)

    @command
    def accept_claim(self, claim_id: str, *, level: str, source: str,
                     accepted_on: date | None = None,
                     payer_claim_control_number: str = "") -> None:
        claim = self._get(Claim, claim_id)
        claim.accept(accepted_on or self.today(), level, source, payer_claim_control_number)
        self._save(claim)

    @command
    def reject_claim(self, claim_id: str, *, level: str, reasons: list[str], source: str,
                     rejected_on: date | None = None) -> None:
        claim = self._get(Claim, claim_id)
        claim.reject(rejected_on or self.today(), level, reasons, source)
        self._save(claim)

    @command
    def resend_rejected(self, claim_id: str, reason: str) -> list[str]:
        """After correcting a rejected claim, scrub it again to go out as a new original."""
        claim = self._get(Claim, claim_id)
        claim.resend_as_original(reason)
        encounter = self._get(Encounter, claim.encounter_id)
        problems = self._scrub_problems(claim, encounter)
        claim.record_scrub(problems, self.today())
        self._save(claim)
        return problems

    @command
    def start_replacement(self, claim_id: str, reason: str) -> list[str]:
        """A corrected claim (frequency 7, REF*F8 = the payer's ICN), scrubbed again."""
        claim = self._get(Claim, claim_id)
        encounter = self._get(Encounter, claim.encounter_id)
        line_ids = [i for i in claim.line_ids if not encounter.line(i)["reversed"]]
        extra = [i for i, line in encounter.lines.items()
                 if not line["reversed"] and claim.payer_id not in line["claims"]
                 and claim.coverage_order == "P"]
        if extra:
            encounter.claim_lines(claim.claim_id, claim.payer_id, extra)
        line_ids += extra
        charge = sum(encounter.line(i)["charge_cents"] for i in line_ids)
        claim.start_replacement(reason, line_ids, charge)
        problems = self._scrub_problems(claim, encounter)
        claim.record_scrub(problems, self.today())
        self._save(claim, encounter)
        return problems

    @command
    def start_void(self, claim_id: str, reason: str) -> None:
        claim = self._get(Claim, claim_id)
        claim.start_void(reason)
        self._save(claim)

    @command
    def work_denial(self, claim_id: str, line_id: str, action: str, note: str = "") -> None:
        claim = self._get(Claim, claim_id)
        require(action in {a.value for a in DenialAction} | {"appealed", "corrected"},
                f"unknown denial action {action!r}")
        claim.work_denial(line_id, action, note, self.today())
        self._save(claim)

    @command
    def close_claim(self, claim_id: str, reason: str) -> None:
        claim = self._get(Claim, claim_id)
        claim.close(self.today(), reason)
        self._save(claim)

    # -- posting a payer's adjudication ---------------------------------------------------------
    @command
    def post_remittance(self, remit: ClaimRemit, *, dry_run: bool = False) -> PostingResult:
        loaded: dict[UUID, BillingAggregate] = {}
        result = self._post_remittance(remit, loaded)
        if not dry_run:
            self._save(*loaded.values())
        return result

    def _loaded(self, loaded: dict[UUID, BillingAggregate], cls: type[A], *key: Any) -> A:
        """`_get` through `loaded`, so one file's postings share (and pile up on) one object."""
        aggregate_id = cls.create_id(*key)
        if aggregate_id not in loaded:
            loaded[aggregate_id] = self._get(cls, *key)
        aggregate = loaded[aggregate_id]
        assert isinstance(aggregate, cls)
        return aggregate

    def _post_remittance(
        self, remit: ClaimRemit, loaded: dict[UUID, BillingAggregate],
    ) -> PostingResult:
        """Post one CLP on the aggregates in `loaded` (id -> aggregate), without saving.

        Refusals (UnmatchedRemitError, BillingError) come before anything changes; a caller
        that goes on after one checks that no event was left pending (RemittanceCommands).
        """
        groups = {a.group for a in remit.claim_adjustments}
        groups |= {a.group for s in remit.services for a in s.adjustments}
        unknown = sorted(groups - {g.value for g in AdjustmentGroup})
        if unknown:
            raise ValidationError(
                f"claim {remit.claim_id}: adjustment group {', '.join(unknown)} is not one of "
                "5010's CO, PR, OA, PI")
        try:
            claim = self._loaded(loaded, Claim, remit.claim_id)
        except NotFoundError:
            raise UnmatchedRemitError(f"claim {remit.claim_id} is not in the ledger") from None
        encounter = self._loaded(loaded, Encounter, claim.encounter_id)
        before = len(claim.pending_events) + len(encounter.pending_events)
        if remit.is_reversal:
            result = self._reverse(claim, encounter, remit)
        else:
            result = self._adjudicate(claim, encounter, remit)
        result.events = len(claim.pending_events) + len(encounter.pending_events) - before
        result.balances = {
            party: cents for party, cents in encounter.balances_by_party().items() if cents}
        return result

    def _reverse(self, claim: Claim, encounter: Encounter, remit: ClaimRemit) -> PostingResult:
        adjudication = claim.adjudication_to_reverse(remit.payer_claim_control_number)
        if remit.paid_cents != -adjudication["paid_cents"]:
            raise RuleViolation(
                f"reversal of claim {claim.claim_id} takes back {-remit.paid_cents} cents but "
                f"{adjudication['paid_cents']} were posted")
        result = PostingResult(claim.claim_id, remit.status_code, "reversed",
                               paid_cents=remit.paid_cents)
        reversal_ids = []
        for entry_id in reversed(adjudication["entry_ids"]):
            if not encounter.entries[entry_id]["reversed"]:
                reversal_ids.append(encounter.reverse_entry(
                    entry_id, remit.paid_on, "payer reversal (CLP02=22)", remit.source))
        claim.reverse_adjudication(adjudication["adjudication_id"], reversal_ids, remit.paid_on,
                                   remit.source)
        if claim.frequency == "8" and not any(not a["reversed"] for a in claim.adjudications):
            # The payer took back everything a void (frequency 8) asked it to: the claim is
            # void and its lines are free to be billed again, to the right payer.
            claim.confirm_void(remit.paid_on, remit.source)
            encounter.release_lines(claim.claim_id, claim.payer_id, "claim voided by the payer")
            result.outcome = "voided"
        result.entry_ids = reversal_ids
        return result

    def _match_services(self, claim: Claim, encounter: Encounter,
                        services: tuple[ServiceRemit, ...]) -> list[str]:
        remaining = [i for i in claim.line_ids if not encounter.line(i)["reversed"]]
        matched: list[str] = []
        for svc in services:
            line_id = svc.line_ref if svc.line_ref in remaining else None
            if line_id is None:
                line_id = self._match_by_content(encounter, remaining, svc)
            if line_id is None:
                raise UnmatchedRemitError(
                    f"claim {claim.claim_id} service {svc.index or len(matched) + 1} "
                    f"({svc.code} {':'.join(svc.modifiers)} charge {svc.charge_cents}) matches "
                    "none of its lines")
            remaining.remove(line_id)
            matched.append(line_id)
        return matched

    @staticmethod
    def _match_by_content(encounter: Encounter, remaining: list[str],
                          svc: ServiceRemit) -> str | None:
        codes = {svc.code} | ({svc.original_code} if svc.original_code else set())

        def fits(line: dict[str, Any], strict: bool) -> bool:
            if line["code"] not in codes:
                return False
            if not strict:
                return True
            same_date = svc.service_date in (None, line["service_date"])
            return (same_date and tuple(line["modifiers"]) == svc.modifiers
                    and line["charge_cents"] == svc.charge_cents)

        for strict in (True, False):
            hits = [i for i in remaining if fits(encounter.line(i), strict)]
            if len(hits) == 1 or (strict and hits):
                return hits[0]
        return None

    def _adjudicate(self, claim: Claim, encounter: Encounter,
                    remit: ClaimRemit) -> PostingResult:
        if claim.state in (ClaimState.DRAFT, ClaimState.READY, ClaimState.VOIDED):
            raise RuleViolation(
                f"claim {claim.claim_id} is {claim.state.value}; it was never sent to the payer")
        party = claim.payer_id
        result = PostingResult(claim.claim_id, remit.status_code, "")
        denials: list[dict[str, Any]] = []
        line_ids = self._match_services(claim, encounter, remit.services)
        for svc, line_id in zip(remit.services, line_ids, strict=True):
            source = f"{remit.source}:SVC{svc.index or line_ids.index(line_id) + 1}"
            if svc.paid_cents:
                result.entry_ids.append(encounter.post_payment(
                    line_id=line_id, party=party, amount_cents=svc.paid_cents,
                    effective_on=remit.paid_on, method="ERA",
                    reference=remit.payer_claim_control_number, source=source,
                    allow_negative=True))
                result.paid_cents += svc.paid_cents
            self._apply_adjustments(encounter, line_id, party, svc.adjustments, svc.rarcs,
                                    remit.paid_on, source, result, denials)
        if remit.claim_adjustments:
            self._apply_claim_level(claim, encounter, party, remit, result, denials)
        if not remit.services and remit.paid_cents:
            # A claim-level-only remittance: spread the payment by line balance, shown as such.
            lines = [i for i in claim.line_ids if not encounter.line(i)["reversed"]]
            shares = allocate(remit.paid_cents, [
                max(encounter.party_balance(i, party), 0) or 1 for i in lines])
            for line_id, share in zip(lines, shares, strict=True):
                if share:
                    result.entry_ids.append(encounter.post_payment(
                        line_id=line_id, party=party, amount_cents=share,
                        effective_on=remit.paid_on, method="ERA",
                        reference=remit.payer_claim_control_number,
                        source=f"{remit.source}:claim-level", allow_negative=True))
            result.paid_cents += remit.paid_cents
        elif remit.services and result.paid_cents != remit.paid_cents:
            # Claim-level CAS beside line detail: the lines' SVC03 add up to more (or less)
            # than the payer paid (CLP04 = sum(SVC03) - sum(claim-level CAS)). The adjustment itself
            # was applied above; this entry takes the difference back so that the money
            # posted for the claim is exactly CLP04 (DOMAIN §9 I4).
            first = next(i for i in claim.line_ids if not encounter.line(i)["reversed"])
            result.entry_ids.append(encounter.post_payment(
                line_id=first, party=party, amount_cents=remit.paid_cents - result.paid_cents,
                effective_on=remit.paid_on, method="ERA",
                reference=remit.payer_claim_control_number,
                source=f"{remit.source}{CLAIM_PAYMENT_ADJUSTMENT}", allow_negative=True))
            result.paid_cents = remit.paid_cents
        if denials and result.paid_cents == 0:
            result.outcome = Outcome.DENIED
        elif denials:
            result.outcome = Outcome.PARTIALLY_PAID
        else:
            result.outcome = Outcome.PAID
        result.denied_cents = sum(d["amount_cents"] for d in denials)
        claim.record_adjudication(
            adjudication_id=remit.source, status_code=remit.status_code,
            payer_claim_control_number=remit.payer_claim_control_number,
            charge_cents=remit.charge_cents, paid_cents=remit.paid_cents,
            patient_responsibility_cents=remit.patient_responsibility_cents,
            outcome=result.outcome, entry_ids=result.entry_ids, denials=denials,
            paid_on=remit.paid_on, source=remit.source)
        return result

    def _apply_adjustments(
        self, encounter: Encounter, line_id: str, party: str,
        adjustments: tuple[CasAdjustment, ...], rarcs: tuple[str, ...], on: date, source: str,
        result: PostingResult, denials: list[dict[str, Any]],
    ) -> None:
        for cas in adjustments:
            if cas.amount_cents == 0:
                continue
            action = action_for(cas.group, cas.carc, rarcs)
            if cas.group == "PR":
                to_party = encounter.next_party(party)
                result.entry_ids.append(encounter.transfer(
                    line_id=line_id, from_party=party, to_party=to_party,
                    amount_cents=cas.amount_cents, effective_on=on, reason=f"PR-{cas.carc}",
                    source=source, allow_negative=True))
                result.transferred[to_party] = (
                    result.transferred.get(to_party, 0) + cas.amount_cents)
            elif action is DenialAction.WRITE_OFF:
                result.entry_ids.append(encounter.post_adjustment(
                    line_id=line_id, party=party, amount_cents=cas.amount_cents,
                    effective_on=on, kind=AdjustmentKind.CONTRACTUAL, group=cas.group,
                    carc=cas.carc, rarcs=list(rarcs), reason=f"{cas.group}-{cas.carc}",
                    approved_by="", source=source, allow_negative=True))
                result.written_off_cents += cas.amount_cents
            elif action is DenialAction.INFO:
                continue
            else:
                denials.append({"line_id": line_id, "group": cas.group, "carc": cas.carc,
                                "rarcs": list(rarcs), "amount_cents": cas.amount_cents,
                                "action": str(action), "source": source})

    def _apply_claim_level(self, claim: Claim, encounter: Encounter, party: str,
                           remit: ClaimRemit, result: PostingResult,
                           denials: list[dict[str, Any]]) -> None:
        # Claim-level CAS has no line; we post it on the claim's first line and say so in
        # the source, rather than spreading it silently across lines.
        first = next(i for i in claim.line_ids if not encounter.line(i)["reversed"])
        self._apply_adjustments(encounter, first, party, remit.claim_adjustments,
                                remit.claim_rarcs, remit.paid_on,
                                f"{remit.source}:claim-level", result, denials)

    @command
    def transfer_denial_to_patient(self, claim_id: str, line_id: str, note: str = "") -> str:
        """Bill the patient for a denied line (only where the payer's reason allows it)."""
        claim = self._get(Claim, claim_id)
        encounter = self._get(Encounter, claim.encounter_id)
        denials = claim.open_denials.get(line_id)
        if not denials:
            raise RuleViolation(f"line {line_id} of claim {claim_id} has no open denial")
        # DOMAIN §2: CO and PI reductions are never the patient's to bear.
        if any(d["group"] in ("CO", "PI") for d in denials):
            raise RuleViolation(
                "a CO or PI denial is the provider's obligation and may not be billed to the "
                "patient")
        amount = encounter.party_balance(line_id, claim.payer_id)
        if amount <= 0:
            raise ValidationError(f"nothing is left with {claim.payer_id} on {line_id}")
        entry = encounter.transfer(line_id=line_id, from_party=claim.payer_id, to_party=PATIENT,
                                   amount_cents=amount, effective_on=self.today(),
                                   reason="denied: billed to patient", source="user")
        claim.work_denial(line_id, "XFER", note, self.today())
        self._save(claim, encounter)
        return entry
