"""Use cases of eligibility (270/271) and claim status (276/277) inquiries; one save per file.

Every 270/276 we send is recorded first: an `InquiryTrace` stream per trace number (TRN02)
says which account and policy, or which claim, it asks about, and an `InquiryCounter` keeps
the interchange control numbers of inquiry files (900000001 upwards, a range the 837
sequence never reaches). A 271/277 answer is tied back through the trace number its TRN*2
echoes, so the same trace answered again records nothing new, and an answer we never asked
for is reported as unmatched, never guessed onto an account.

- 271: each subscriber/dependent answer becomes an `EligibilityRecorded` on the policy
  (active or not on the date asked, plan, copay, coinsurance %, deductible and out-of-pocket
  remaining, the trace number). An AAA rejection (member not found, invalid id...) is recorded
  as inactive with the payer's reason in `message` ("rejected by payer: ..."), so the account
  shows it and claims to that payer on that date wait until a new check says otherwise. A
  payer naming another payer as primary (2120 NM1*PRP) moves that payer's policy ahead of its
  own in coverage order.
- 277: each claim answer becomes a `StatusReported` on the claim; not found (A4, D0) and
  returned-as-unprocessable categories (A3, A6, A7, A8) reject a submitted claim, which puts
  it in the rejected queue to be corrected and resent; A1/A2/A5, pending and finalized
  categories on a claim still `submitted` accept it (the payer has it).

The importers fill the dataclasses below from X12; the domain never reads X12 itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from eventsourcing.utils import get_topic

from domain.base import BillingAggregate, stream_id
from domain.claim import Claim, ClaimState
from domain.encounter import Encounter
from domain.errors import NotFoundError, RuleViolation
from domain.patient_account import PatientAccount
from domain.practice import Payer, Provider
from domain.remittance_file import AcknowledgementFile, SourceFile
from domain.services.core import LedgerCore, command
from domain.services.practice import require

Progress = Callable[[int, int], None]

KIND_270, KIND_276 = "270", "276"
FIRST_INQUIRY_CONTROL = 900_000_000
POSTED, ALREADY_POSTED, REFUSED = "posted", "already-posted", "refused"

# 277 STC01-1 categories (X12 code source 507) by what they do to a submitted claim.
STATUS_NOT_FOUND = frozenset({"A4", "D0"})
STATUS_RETURNED = frozenset({"A3", "A6", "A7", "A8"})
STATUS_WITH_PAYER = frozenset({"A1", "A2", "A5", "P0", "P1", "P2", "P3", "P4", "P5",
                               "F0", "F1", "F2", "F3", "F3F", "F3N", "F4"})
REJECTION_PREFIX = "rejected by payer: "


# -- what the 270/276 writers and the 271/277 readers exchange with the ledger -----------------
@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: date | None = None
    sex: str = ""
    address: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EligibilityQuestion:
    """One subscriber (and, when the patient is a dependent, the dependent) in a 270."""

    trace: str
    account_no: str
    policy_id: str
    payer_id: str
    payer_name: str
    member_id: str
    group_number: str
    subscriber: Person
    patient: Person | None          # None: the patient is the subscriber
    relationship: str
    service_on: date


@dataclass(frozen=True)
class StatusQuestion:
    """One claim in a 276."""

    trace: str
    claim_id: str
    payer_id: str
    payer_name: str
    member_id: str
    subscriber: Person
    patient: Person | None
    charge_cents: int
    service_from: date
    service_to: date
    payer_claim_control_number: str = ""


@dataclass
class InquiryBatch:
    """A 270 or 276 about to be written: what it asks, per payer and information receiver."""

    kind: str
    batch_id: str
    interchange_control: int
    created_on: date
    provider_npi: str
    provider_name: str
    provider_is_person: bool
    questions: list[Any] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def interchange_control_text(self) -> str:
        return f"{self.interchange_control:09d}"


@dataclass(frozen=True)
class BenefitAnswer:
    """One 271 subscriber or dependent answer (2000C/2000D)."""

    trace: str                       # TRN*2 TRN02: the trace of our 270
    payer_id: str
    payer_name: str
    member_id: str
    name: str
    active: bool | None              # None: no coverage status (EB01 1-8) in the answer
    plan_name: str = ""
    copay_cents: int | None = None
    coinsurance_percent: int | None = None
    deductible_remaining_cents: int | None = None
    out_of_pocket_remaining_cents: int | None = None
    rejections: tuple[str, ...] = ()  # AAA reasons, e.g. "AAA 72 invalid member id (C ...)"
    other_payers: tuple[dict[str, str], ...] = ()   # 2120 loops: role, payer_id, name
    segment: int = 0


@dataclass(frozen=True)
class EligibilityDocument:
    name: str
    raw: bytes = field(repr=False)
    raw_sha256: str
    content_sha256: str
    sender: str
    interchange_control: str
    answers: tuple[BenefitAnswer, ...] = ()
    rejections: tuple[str, ...] = ()  # AAA at the payer or information receiver level


@dataclass(frozen=True)
class StatusAnswer:
    """One 277 claim answer (2200D/2200E)."""

    trace: str                       # TRN*2 TRN02: the trace of our 276
    claim_id: str                    # REF*EJ (patient control number = CLM01), if sent
    payer_id: str
    statuses: tuple[str, ...]        # STC01/10/11 composites, "category:status[:entity]"
    payer_claim_control_number: str = ""   # REF*1K
    status_on: date | None = None    # STC02
    charge_cents: int | None = None  # STC04
    paid_cents: int | None = None    # STC05
    segment: int = 0

    @property
    def category(self) -> str:
        return self.statuses[0].split(":")[0] if self.statuses else ""


@dataclass(frozen=True)
class StatusDocument:
    name: str
    raw: bytes = field(repr=False)
    raw_sha256: str
    content_sha256: str
    sender: str
    interchange_control: str
    answers: tuple[StatusAnswer, ...] = ()
    level_statuses: tuple[str, ...] = ()   # STC at the receiver or provider level


@dataclass
class InquiryImport:
    """What importing one 271 or 277 did (or, in a dry run, would do)."""

    file: str
    kind: str
    status: str = POSTED
    answers: int = 0
    matched: int = 0
    unmatched: list[dict[str, str]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    unchanged: list[dict[str, str]] = field(default_factory=list)
    reordered: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    message: str = ""
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- aggregates ---------------------------------------------------------------------------------
class InquiryTrace(BillingAggregate):
    """One question we sent (a 270 subscriber or a 276 claim), keyed by its trace number."""

    @staticmethod
    def create_id(kind: str, trace: str) -> UUID:
        return stream_id("inquiry-trace", f"{kind}:{trace}")

    @event("Sent")
    def __init__(self, kind: str, trace: str, batch_id: str, payer_id: str, account_no: str,
                 policy_id: str, claim_id: str, service_on: date, sent_on: date) -> None:
        self.kind = kind
        self.trace = trace
        self.batch_id = batch_id
        self.payer_id = payer_id
        self.account_no = account_no
        self.policy_id = policy_id
        self.claim_id = claim_id
        self.service_on = service_on
        self.sent_on = sent_on
        self.answer: dict[str, Any] | None = None

    def record_answer(self, answered_on: date, outcome: str, source: str) -> None:
        if self.answer is not None:
            raise RuleViolation(f"trace {self.trace} was already answered")
        self._answered(answered_on=answered_on, outcome=outcome, source=source)

    @event("Answered")
    def _answered(self, answered_on: date, outcome: str, source: str) -> None:
        self.answer = {"answered_on": answered_on, "outcome": outcome, "source": source}


class InquiryCounter(BillingAggregate):
    """Interchange control numbers of the inquiry files we write, and what each carried."""

    @staticmethod
    def create_id() -> UUID:
        return stream_id("inquiry-counter", "main")

    @event("Opened")
    def __init__(self) -> None:
        self.last_interchange = FIRST_INQUIRY_CONTROL
        self.batches: dict[str, dict[str, Any]] = {}

    @property
    def next_interchange(self) -> int:
        following = self.last_interchange + 1
        return following if following < 10**9 else FIRST_INQUIRY_CONTROL + 1

    def record_batch(self, kind: str, batch_id: str, interchange_control: int,
                     traces: list[str], file_name: str, sent_on: date) -> None:
        if batch_id in self.batches:
            raise RuleViolation(f"inquiry batch {batch_id} was already sent")
        self._batch_sent(kind=kind, batch_id=batch_id, interchange_control=interchange_control,
                         traces=traces, file_name=file_name, sent_on=sent_on)

    @event("BatchSent")
    def _batch_sent(self, kind: str, batch_id: str, interchange_control: int,
                    traces: list[str], file_name: str, sent_on: date) -> None:
        self.last_interchange = interchange_control
        self.batches[batch_id] = {"kind": kind, "interchange_control": interchange_control,
                                  "traces": list(traces), "file_name": file_name,
                                  "sent_on": sent_on}


def _person(account: PatientAccount) -> Person:
    return Person(account.last_name, account.first_name, account.middle_name,
                  account.birth_date, account.sex, dict(account.address))


def _subscriber(policy: dict[str, Any], account: PatientAccount) -> Person:
    if policy["relationship"] == "18":
        return _person(account)
    sub = policy["subscriber"]
    born = sub.get("birth_date")
    return Person(str(sub.get("last_name", "")).upper(), str(sub.get("first_name", "")).upper(),
                  str(sub.get("middle_name", "")).upper(),
                  date.fromisoformat(born) if isinstance(born, str) and born else born,
                  str(sub.get("sex", "")), dict(sub.get("address") or {}))


class InquiryCommands(LedgerCore):
    # -- finding what to ask ------------------------------------------------------------------
    def _events(self, *event_classes: Any) -> Iterator[Any]:
        topics = [get_topic(cls) for cls in event_classes]
        position = 1
        while True:
            page = self.recorder.select_notifications(start=position, limit=1000, topics=topics)
            if not page:
                return
            for notification in page:
                yield self.mapper.to_domain_event(notification)
            position = page[-1].id + 1

    def _inquiry_counter(self) -> InquiryCounter:
        if self._exists(InquiryCounter):
            return self._get(InquiryCounter)
        return InquiryCounter()

    def _information_receiver(self, npi: str | None) -> Provider:
        if npi:
            return self._get(Provider, npi)
        for enrolled in self._events(Provider.Enrolled):  # type: ignore[attr-defined]
            if enrolled.is_billing:
                return self._get(Provider, enrolled.npi)
        raise NotFoundError("no billing provider is enrolled; enroll one first")

    def plan_eligibility_requests(
        self, service_on: date, account_nos: list[str] | None = None, *,
        provider_npi: str | None = None,
    ) -> InquiryBatch:
        """A 270 batch for the given accounts, or every account with a visit that day: one
        question per policy in force on the date, in coverage order."""
        encounter_npis: dict[str, str] = {}
        if account_nos is None:
            account_nos = []
            for opened in self._events(Encounter.Opened):  # type: ignore[attr-defined]
                if opened.service_date == service_on and opened.account_no not in account_nos:
                    account_nos.append(opened.account_no)
                    encounter_npis.setdefault(opened.account_no, opened.billing_npi)
        npi = provider_npi or next(iter(encounter_npis.values()), None)
        provider = self._information_receiver(npi)
        counter = self._inquiry_counter()
        control = counter.next_interchange
        batch = InquiryBatch(KIND_270, self.ids.batch_id(), control, self.today(), provider.npi,
                             provider.name, provider.is_person)
        payers: dict[str, Payer] = {}
        for account_no in account_nos:
            account = self._get(PatientAccount, account_no)
            policies = account.active_policies(service_on)
            if not policies:
                batch.skipped.append({"account_no": account_no,
                                      "reason": f"no coverage in force on {service_on}"})
            for policy in policies:
                payer = payers.get(policy["payer_id"]) or self._get(Payer, policy["payer_id"])
                payers[payer.payer_id] = payer
                trace = f"E{control:09d}{len(batch.questions) + 1:05d}"
                batch.questions.append(EligibilityQuestion(
                    trace=trace, account_no=account_no, policy_id=policy["policy_id"],
                    payer_id=payer.payer_id, payer_name=payer.name,
                    member_id=policy["member_id"], group_number=policy["group_number"],
                    subscriber=_subscriber(policy, account),
                    patient=None if policy["relationship"] == "18" else _person(account),
                    relationship=policy["relationship"], service_on=service_on))
        return batch

    def plan_status_requests(self, older_than_days: int | None = None, *,
                             provider_npi: str | None = None) -> InquiryBatch:
        """A 276 batch: claims submitted (or accepted) with no 835 after `older_than_days`
        days, else after their payer's expected response days."""
        today = self.today()
        seen: dict[UUID, None] = {}
        for submitted in self._events(Claim.Submitted):  # type: ignore[attr-defined]
            seen.setdefault(submitted.originator_id, None)
        payers: dict[str, Payer] = {}
        found: list[Claim] = []
        for claim_uuid in seen:
            claim: Any = self.repository.get(claim_uuid)
            if claim.state not in (ClaimState.SUBMITTED, ClaimState.ACCEPTED):
                continue
            if any(not a["reversed"] for a in claim.adjudications):
                continue
            payer = payers.get(claim.payer_id) or self._get(Payer, claim.payer_id)
            payers[payer.payer_id] = payer
            days = payer.expected_response_days if older_than_days is None else older_than_days
            if (today - claim.submissions[-1]["submitted_on"]).days > days:
                found.append(claim)
        provider = self._information_receiver(
            provider_npi or (found[0].billing_npi if found else None))
        counter = self._inquiry_counter()
        control = counter.next_interchange
        batch = InquiryBatch(KIND_276, self.ids.batch_id(), control, today, provider.npi,
                             provider.name, provider.is_person)
        for claim in sorted(found, key=lambda c: (c.payer_id, c.claim_id)):
            if claim.billing_npi != provider.npi:
                batch.skipped.append({"claim_id": claim.claim_id, "reason": (
                    f"billed by {claim.billing_npi}; ask for it with --provider")})
                continue
            account = self._get(PatientAccount, claim.account_no)
            policy = account.policy(claim.policy_id)
            encounter = self._get(Encounter, claim.encounter_id)
            dates = [encounter.line(i)["service_date"] for i in claim.line_ids]
            batch.questions.append(StatusQuestion(
                trace=f"S{control:09d}{len(batch.questions) + 1:05d}", claim_id=claim.claim_id,
                payer_id=claim.payer_id, payer_name=payers[claim.payer_id].name,
                member_id=policy["member_id"], subscriber=_subscriber(policy, account),
                patient=None if policy["relationship"] == "18" else _person(account),
                charge_cents=claim.charge_cents, service_from=min(dates), service_to=max(dates),
                payer_claim_control_number=claim.payer_claim_control_number))
        return batch

    @command
    def send_eligibility_requests(self, batch: InquiryBatch, *, file_name: str = "") -> None:
        """Record a 270 as sent: each question's trace, for its 271 to come back to."""
        self._record_inquiries(batch, KIND_270, file_name)

    @command
    def send_status_requests(self, batch: InquiryBatch, *, file_name: str = "") -> None:
        """Record a 276 as sent: each claim's trace, for its 277 to come back to."""
        self._record_inquiries(batch, KIND_276, file_name)

    def _record_inquiries(self, batch: InquiryBatch, kind: str, file_name: str) -> None:
        require(batch.kind == kind, f"this is a {batch.kind} batch, not a {kind}")
        require(bool(batch.questions), "the batch asks nothing")
        counter = self._inquiry_counter()
        if counter.next_interchange != batch.interchange_control:
            raise RuleViolation(
                f"interchange control number {batch.interchange_control} was used meanwhile; "
                "plan the batch again")
        traces = []
        for question in batch.questions:
            traces.append(question.trace)
            if self._exists(InquiryTrace, kind, question.trace):
                raise RuleViolation(f"trace {question.trace} was already sent")
        counter.record_batch(kind, batch.batch_id, batch.interchange_control, traces, file_name,
                             batch.created_on)
        created = [InquiryTrace(
            kind=kind, trace=q.trace, batch_id=batch.batch_id, payer_id=q.payer_id,
            account_no=getattr(q, "account_no", ""), policy_id=getattr(q, "policy_id", ""),
            claim_id=getattr(q, "claim_id", ""),
            service_on=getattr(q, "service_on", None) or q.service_from,
            sent_on=batch.created_on) for q in batch.questions]
        self._save(counter, *created)

    def inquiry_trace(self, kind: str, trace: str) -> InquiryTrace | None:
        return self._get(InquiryTrace, kind, trace) if self._exists(
            InquiryTrace, kind, trace) else None

    # -- 271 ------------------------------------------------------------------------------------
    @command
    def import_eligibility_responses(
        self, document: EligibilityDocument, *, dry_run: bool = False,
        progress: Progress | None = None,
    ) -> InquiryImport:
        """Record every answer of a 271 on the policies it answers for, in one save."""
        return self._import_answers(
            document, "271", [f"payer-level rejection: {r}" for r in document.rejections],
            self._apply_benefits, dry_run=dry_run, progress=progress)

    def _import_answers(
        self, document: Any, kind: str, notes: list[str],
        apply: Callable[[Any, str, dict[UUID, BillingAggregate], InquiryImport],
                        dict[str, Any]],
        *, dry_run: bool, progress: Progress | None,
    ) -> InquiryImport:
        """Apply each answer of a 271 or 277 to what it answers for, then one save (or none)."""
        result = InquiryImport(file=document.name, kind=kind, dry_run=dry_run,
                               answers=len(document.answers))
        if self._exists(AcknowledgementFile, kind, document.content_sha256):
            result.status, result.message = ALREADY_POSTED, f"this {kind} was already imported"
            return result
        result.notes += notes
        loaded: dict[UUID, BillingAggregate] = {}
        outcomes: list[dict[str, Any]] = []
        source = f"{kind}:{document.raw_sha256}"
        for number, answer in enumerate(document.answers, 1):
            outcomes.append(apply(answer, f"{source}:{answer.segment}", loaded, result))
            if progress is not None and (number % 100 == 0 or number == len(document.answers)):
                progress(number, len(document.answers))
        return self._finish(document, kind, outcomes, loaded, result)

    def _finish(self, document: Any, kind: str, outcomes: list[dict[str, Any]],
                loaded: dict[UUID, BillingAggregate], result: InquiryImport) -> InquiryImport:
        file = AcknowledgementFile(
            kind=kind, content_sha256=document.content_sha256, raw_sha256=document.raw_sha256,
            file_name=document.name, sender=document.sender,
            interchange_control=document.interchange_control, received_on=self.today(),
            outcomes=outcomes)
        aggregates: list[BillingAggregate] = [*loaded.values(), file]
        if not self._exists(SourceFile, document.raw_sha256):
            aggregates.append(SourceFile.keep(document.raw, document.raw_sha256, document.name,
                                              kind, self.today()))
        result.events = sum(len(a.pending_events) for a in aggregates)
        if not result.dry_run:
            self._save(*aggregates)
        return result

    def _load(self, loaded: dict[UUID, BillingAggregate], cls: type[Any], *key: Any) -> Any:
        aggregate_id = cls.create_id(*key)
        if aggregate_id not in loaded:
            loaded[aggregate_id] = self._get(cls, *key)
        return loaded[aggregate_id]

    def _apply_benefits(self, answer: BenefitAnswer, source: str,
                        loaded: dict[UUID, BillingAggregate],
                        result: InquiryImport) -> dict[str, Any]:
        who = {"trace": answer.trace, "member_id": answer.member_id, "name": answer.name,
               "payer_id": answer.payer_id}
        if not answer.trace or not self._exists(InquiryTrace, KIND_270, answer.trace):
            reason = ("no TRN*2 trace number" if not answer.trace else
                      f"trace {answer.trace} is not one of our 270 requests")
            result.unmatched.append({**who, "reason": reason})
            return {**who, "change": "unmatched", "reason": reason}
        request: InquiryTrace = self._load(loaded, InquiryTrace, KIND_270, answer.trace)
        if request.answer is not None:
            result.unchanged.append({**who, "reason": "this trace was already answered"})
            return {**who, "change": "already answered"}
        account: PatientAccount = self._load(loaded, PatientAccount, request.account_no)
        policy = account.policy(request.policy_id)
        result.matched += 1
        if answer.member_id and answer.member_id != policy["member_id"]:
            result.notes.append(
                f"trace {answer.trace}: the payer answers for member {answer.member_id}, the "
                f"policy says {policy['member_id']}; check the member id")
        change: dict[str, Any] = {**who, "account_no": account.account_no,
                                  "policy_id": request.policy_id,
                                  "service_on": request.service_on}
        if answer.rejections:
            message = REJECTION_PREFIX + "; ".join(answer.rejections)
            account.record_eligibility(
                policy_id=request.policy_id, checked_on=self.today(),
                service_on=request.service_on, active=False, copay_cents=None,
                deductible_remaining_cents=None, coinsurance_percent=None,
                out_of_pocket_remaining_cents=None, plan_name=answer.plan_name,
                trace_number=answer.trace, source=source, message=message)
            result.rejected.append({**who, "account_no": account.account_no,
                                    "policy_id": request.policy_id, "reason": message})
            change.update(change="rejected", reason=message)
        elif answer.active is None:
            result.unchanged.append({**who, "reason": "the answer has no coverage status (EB01)"})
            change.update(change="no coverage status")
        else:
            account.record_eligibility(
                policy_id=request.policy_id, checked_on=self.today(),
                service_on=request.service_on, active=answer.active,
                copay_cents=answer.copay_cents,
                deductible_remaining_cents=answer.deductible_remaining_cents,
                coinsurance_percent=answer.coinsurance_percent,
                out_of_pocket_remaining_cents=answer.out_of_pocket_remaining_cents,
                plan_name=answer.plan_name, trace_number=answer.trace, source=source,
                message="")
            change.update(change="active" if answer.active else "inactive",
                          plan_name=answer.plan_name, copay_cents=answer.copay_cents,
                          coinsurance_percent=answer.coinsurance_percent,
                          deductible_remaining_cents=answer.deductible_remaining_cents,
                          out_of_pocket_remaining_cents=answer.out_of_pocket_remaining_cents)
        self._coverage_order_from(answer, account, request, result)
        result.changes.append(change)
        request.record_answer(self.today(), str(change["change"]), source)
        return change

    def _coverage_order_from(self, answer: BenefitAnswer, account: PatientAccount,
                             request: InquiryTrace, result: InquiryImport) -> None:
        """A payer naming another payer as primary (2120 NM1*PRP) puts that payer first."""
        for other in answer.other_payers:
            if other.get("role") != "PRP" or other.get("payer_id") in ("", request.payer_id):
                continue
            named = [p for p in account.policies.values() if p["payer_id"] == other["payer_id"]
                     and p["terminated_on"] is None and p["policy_id"] in account.coverage_order]
            if not named:
                result.notes.append(
                    f"trace {answer.trace}: {request.payer_id} says {other.get('name') or ''} "
                    f"({other['payer_id']}) is primary, but account {account.account_no} has no "
                    "policy with that payer; add its coverage")
                continue
            order = list(account.coverage_order)
            primary, ours = named[0]["policy_id"], request.policy_id
            if order.index(primary) < order.index(ours):
                continue
            order.remove(primary)
            order.insert(order.index(ours), primary)
            reason = (f"271 trace {answer.trace}: {request.payer_id} names {other['payer_id']} "
                      "as the primary payer")
            account.reorder_coverage(order, reason)
            result.reordered.append({"account_no": account.account_no, "order": order,
                                     "reason": reason})

    # -- 277 ------------------------------------------------------------------------------------
    @command
    def import_claim_statuses(
        self, document: StatusDocument, *, dry_run: bool = False,
        progress: Progress | None = None,
    ) -> InquiryImport:
        """Record every claim status of a 277 on our claims, in one save."""
        return self._import_answers(
            document, "277", [f"status above claim level: {x}" for x in document.level_statuses],
            self._apply_status, dry_run=dry_run, progress=progress)

    def _apply_status(self, answer: StatusAnswer, source: str,
                      loaded: dict[UUID, BillingAggregate],
                      result: InquiryImport) -> dict[str, Any]:
        who = {"trace": answer.trace, "claim_id": answer.claim_id,
               "statuses": ", ".join(answer.statuses)}
        request = None
        if answer.trace and self._exists(InquiryTrace, KIND_276, answer.trace):
            request = self._load(loaded, InquiryTrace, KIND_276, answer.trace)
        claim_id = request.claim_id if request is not None else answer.claim_id
        if not claim_id or not self._exists(Claim, claim_id):
            reason = (f"claim {claim_id} is not in the ledger" if claim_id else
                      f"trace {answer.trace} is not one of our 276 requests and no REF*EJ")
            result.unmatched.append({**who, "reason": reason})
            return {**who, "change": "unmatched", "reason": reason}
        claim: Claim = self._load(loaded, Claim, claim_id)
        who["claim_id"] = claim_id
        result.matched += 1
        if answer.trace and answer.trace in claim.status_traces:
            result.unchanged.append({**who, "reason": "this trace was already recorded"})
            return {**who, "change": "already recorded"}
        on = answer.status_on or self.today()
        category = answer.category
        status_code = answer.statuses[0].split(":")[1] if answer.statuses and ":" in \
            answer.statuses[0] else ""
        claim.report_status(
            reported_on=on, category=category, status=status_code,
            statuses=list(answer.statuses),
            payer_claim_control_number=answer.payer_claim_control_number,
            trace_number=answer.trace, source=source)
        change = "recorded"
        reasons = [f"277 STC {s}" for s in answer.statuses]
        open_states = (ClaimState.SUBMITTED, ClaimState.ACCEPTED)
        if category in STATUS_NOT_FOUND | STATUS_RETURNED and claim.state in open_states:
            claim.reject(on, "277", reasons, source)
            change = "not found: to resend" if category in STATUS_NOT_FOUND else "rejected"
            result.rejected.append({**who, "reason": "; ".join(reasons)})
        elif category in STATUS_WITH_PAYER and claim.state is ClaimState.SUBMITTED:
            claim.accept(on, "277", source, answer.payer_claim_control_number)
            change = "accepted"
        if request is not None and request.answer is None:
            request.record_answer(self.today(), change, source)
        entry = {**who, "change": change, "state": claim.state.value, "category": category}
        result.changes.append(entry)
        return entry
