"""Use cases for whole imported files: 835 payments, 999 and 277CA verdicts; one save per file.

An 835 posts claim by claim on aggregates shared in memory (a reversal and its correction in the
same file meet the same Claim object), and the whole file is saved in one transaction at the
end: a failure anywhere leaves the ledger as it was. Claims we cannot match, and claims whose
posting a rule refuses before anything changed, wait in the remittance's unapplied list with
every amount, so money is conserved; a refusal *after* something changed fails the file.
A CLP that repeats a posting still standing on its claim (the same payer claim control number
CLP07, DOMAIN §4's key; without CLP07 the same payer and identical CLP and SVC loops) waits
there too: payers resend adjudications under new trace numbers, and posting one twice would
pay the claim twice. A biller refunds the money or applies it.

Re-importing a file finds its RemittanceFile / AcknowledgementFile streams already there and
records nothing. A payer's trace number arriving again with other content is refused for review.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from domain.base import BillingAggregate
from domain.claim import Claim, ClaimState
from domain.encounter import Encounter
from domain.errors import BillingError, NotFoundError, RuleViolation
from domain.money import format_usd
from domain.remittance import ClaimRemit, UnmatchedRemitError
from domain.remittance_file import (
    AcknowledgementDocument,
    AcknowledgementFile,
    ClaimAcknowledgement,
    PaymentTrace,
    RemittanceAdvice,
    RemittanceDocument,
    RemittanceFile,
    RemittedClaim,
    SetAcknowledgement,
    SourceFile,
)
from domain.services.bulk import _InOrder
from domain.services.claims import ClaimCommands, PostingResult
from domain.services.core import Raced, command

Progress = Callable[[int, int], None]

# CLP02 statuses that adjudicate nothing: 23 not our claim (forwarded), 25 predetermination.
INFORMATIONAL_STATUSES = frozenset({"23", "25"})

POSTED, ALREADY_POSTED, REFUSED = "posted", "already-posted", "refused"

DUPLICATE_ACTION = "held for a biller to refund or apply"


@dataclass
class RemittanceImport:
    """What importing one 835 file did (or, in a dry run, would do)."""

    file: str
    status: str = POSTED
    payment_cents: int = 0          # Σ BPR02
    claims: int = 0
    matched: int = 0
    unmatched: int = 0
    posted_cents: int = 0           # Σ CLP04 of the claims posted to the ledger
    unapplied_cents: int = 0        # Σ CLP04 of the claims held in suspense
    provider_adjustment_cents: int = 0  # Σ PLB, posted to the payers' clearing accounts
    events: int = 0
    message: str = ""
    dry_run: bool = False
    remittance_ids: list[str] = field(default_factory=list)
    postings: list[PostingResult] = field(default_factory=list)
    unapplied: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["postings"] = [
            {**asdict(p), "outcome": str(p.outcome)} for p in self.postings]
        return doc


@dataclass
class AcknowledgementImport:
    """What importing one 999 or 277CA did to our claims."""

    file: str
    kind: str
    status: str = POSTED
    sets: int = 0
    claims: int = 0                 # claim verdicts read (277CA) or claims reached (999)
    accepted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    unchanged: list[dict[str, str]] = field(default_factory=list)  # known claims, no change
    unknown: list[str] = field(default_factory=list)  # claims / sets not in our ledger
    events: int = 0
    message: str = ""
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RemittanceCommands(ClaimCommands):
    # -- 835 ------------------------------------------------------------------------------------
    @command
    def import_remittance(
        self, document: RemittanceDocument, *, dry_run: bool = False,
        progress: Progress | None = None, confirm: Callable[[], bool] | None = None,
    ) -> RemittanceImport:
        """Post every payment of an 835 file in one save, or nothing.

        `confirm`, when given, is asked once the postings are built in memory and before
        anything is saved (the importer's pyx12 verdict, computed meanwhile in another
        process); False refuses the file with nothing saved.
        """
        result = RemittanceImport(
            file=document.name, dry_run=dry_run,
            payment_cents=sum(a.payment_cents for a in document.advices),
            claims=sum(len(a.claims) for a in document.advices))
        new, refusal = self._new_advices(document)
        if refusal:
            result.status, result.message = REFUSED, refusal
            return result
        if not new:
            result.status = ALREADY_POSTED
            result.message = "already posted: " + ", ".join(
                f"trace {a.trace_number}" for a in document.advices)
            self._summarize_posted(document, result)
            return result
        if len(new) < len(document.advices):
            result.notes.append(f"{len(document.advices) - len(new)} of the file's payments "
                                "were already posted and were skipped")
        loaded: dict[UUID, BillingAggregate] = {}
        self._prefetch(new, loaded)
        earlier = _EarlierPayments(document, self._stored_payments)
        created: list[BillingAggregate] = []
        total = sum(len(a.claims) for a in new)
        done = [0]

        def tick() -> None:
            done[0] += 1
            if progress is not None and (done[0] % 100 == 0 or done[0] == total):
                progress(done[0], total)

        try:
            for advice in new:
                remittance = self._post_advice(document, advice, loaded, result, tick,
                                               earlier)
                created += [remittance, PaymentTrace(
                    payer_id=advice.payer_id, trace_number=advice.trace_number,
                    content_sha256=advice.content_sha256, remittance_id=str(remittance.id))]
                result.remittance_ids.append(str(remittance.id))
        except (BillingError, UnmatchedRemitError) as error:
            if any(self._exists(RemittanceFile, a.payer_id, a.trace_number, a.content_sha256)
                   for a in new):
                # Another importer posted this file between our check and our reads of its
                # claims: start again, and the retry finds it already posted.
                raise Raced(f"{document.name} was posted by another importer") from error
            # Something refused after it had changed a claim: the whole file stays out.
            result.status, result.message = REFUSED, f"nothing posted: {error}"
            result.postings, result.unapplied = [], []
            return result
        if not self._exists(SourceFile, document.raw_sha256):
            created.append(SourceFile.keep(document.raw, document.raw_sha256, document.name,
                                           "835", self.today()))
        aggregates = [*loaded.values(), *created]
        result.events = sum(len(a.pending_events) for a in aggregates)
        if dry_run:
            saved = confirm is None or confirm()
        else:
            # One object for the whole file: eventsourcing's save checks each object it is
            # given against two runtime Protocols, which costs more than collecting the events.
            saved = self._save_when(confirm, cast(BillingAggregate, _InOrder(
                [event for aggregate in aggregates for event in aggregate.pending_events])))
        if not saved:
            result.status, result.message = REFUSED, "refused before saving: the file is invalid"
            result.postings, result.unapplied, result.events = [], [], 0
        return result

    def _prefetch(self, advices: list[RemittanceAdvice],
                  loaded: dict[UUID, BillingAggregate]) -> None:
        """Read the claims the file pays, then their encounters, a page of streams per query.

        Posting asks for them one at a time through `loaded`; a query per aggregate was a
        fifth of posting a large file. A claim not found here is asked for again (and found
        missing) when its turn comes.
        """
        claims = self._get_many(Claim, [(remitted.remit.claim_id,) for advice in advices
                                        for remitted in advice.claims])
        loaded.update(claims)
        loaded.update(self._get_many(Encounter, [(claim.encounter_id,)
                                                 for claim in claims.values()]))

    def _summarize_posted(self, document: RemittanceDocument, result: RemittanceImport) -> None:
        """An already-posted file's figures, as its first import recorded them."""
        keys = {(a.payer_id, a.trace_number, a.content_sha256) for a in document.advices}
        for key in sorted(keys):
            posted = self._get(RemittanceFile, *key)
            result.remittance_ids.append(str(posted.id))
            result.matched += sum(1 for c in posted.claims if c["matched"])
            result.unmatched += sum(1 for c in posted.claims if not c["matched"])
            result.posted_cents += posted.posted_cents
            result.unapplied_cents += posted.unapplied_cents
            result.provider_adjustment_cents += posted.provider_adjustment_cents

    def _new_advices(
        self, document: RemittanceDocument,
    ) -> tuple[list[RemittanceAdvice], str]:
        new: list[RemittanceAdvice] = []
        seen: dict[str, str] = {}
        for advice in document.advices:
            if seen.get(advice.key, advice.content_sha256) != advice.content_sha256:
                return [], (f"payer {advice.payer_id} trace number {advice.trace_number} appears "
                            "twice in the file with different content; held for review")
            if advice.key in seen or self._exists(
                    RemittanceFile, advice.payer_id, advice.trace_number, advice.content_sha256):
                seen[advice.key] = advice.content_sha256
                continue
            seen[advice.key] = advice.content_sha256
            if self._exists(PaymentTrace, advice.payer_id, advice.trace_number):
                trace = self._get(PaymentTrace, advice.payer_id, advice.trace_number)
                return [], (
                    f"payer {advice.payer_id} trace number {advice.trace_number} was already "
                    f"imported with different content (remittance {trace.remittance_id}); "
                    "this file is held for review and nothing was posted")
            new.append(advice)
        return new, ""

    def _post_advice(
        self, document: RemittanceDocument, advice: RemittanceAdvice,
        loaded: dict[UUID, BillingAggregate], result: RemittanceImport,
        tick: Callable[[], None], earlier: _EarlierPayments,
    ) -> RemittanceFile:
        summaries: list[dict[str, Any]] = []
        held: list[tuple[int, Any, str]] = []
        posted_cents = 0
        for index, remitted in enumerate(advice.claims, 1):
            remit = remitted.remit
            summary: dict[str, Any] = {
                "index": index, "claim_id": remit.claim_id, "status_code": remit.status_code,
                "paid_cents": remit.paid_cents, "source": remit.source,
                "crossover_carrier": remitted.crossover_carrier,
                # What a CLP sent again without CLP07 is compared with (_EarlierPayments).
                "fingerprint": remit.fingerprint()}
            posting, reason, duplicate = self._post_or_hold(
                remit, loaded, advice.payer_id, earlier)
            if posting is not None:
                summary.update(matched=True, outcome=str(posting.outcome), events=posting.events)
                result.postings.append(posting)
                result.matched += 1
                posted_cents += remit.paid_cents
                if remitted.crossover_carrier or remit.is_crossover:
                    result.notes.append(
                        f"claim {remit.claim_id}: forwarded by the payer to "
                        f"{remitted.crossover_carrier or 'the next payer'} (CLP02 "
                        f"{remit.status_code}); expect its ERA, do not rebill")
            else:
                summary.update(matched=False, outcome="unapplied", reason=reason)
                held.append((index, remitted, reason))
                result.unmatched += 1
                result.unapplied.append({"claim_id": remit.claim_id, "index": index,
                                         "paid_cents": remit.paid_cents, "reason": reason})
                if duplicate is not None:
                    summary["duplicate_of"] = result.unapplied[-1]["duplicate_of"] = duplicate
                    if remit.is_reversal:
                        result.notes.append(
                            f"claim {remit.claim_id}: reversal ({format_usd(remit.paid_cents)}) "
                            "of a duplicate remittance held in suspense with it, not posted")
                    else:
                        earlier.hold(remit)
                        result.notes.append(
                            f"claim {remit.claim_id}: duplicate remittance "
                            f"({format_usd(remit.paid_cents)}) held in suspense, not posted: it "
                            f"repeats the posting from {duplicate['file'] or duplicate['source']}"
                            f" on {duplicate['paid_on']}")
            summaries.append(summary)
            tick()
        remittance = RemittanceFile(
            payer_id=advice.payer_id, payer_name=advice.payer_name,
            trace_number=advice.trace_number, content_sha256=advice.content_sha256,
            raw_sha256=document.raw_sha256, file_name=document.name,
            control_number=advice.control_number,
            interchange_control=advice.interchange_control, payment_cents=advice.payment_cents,
            handling_code=advice.handling_code, credit_debit=advice.credit_debit,
            payment_method=advice.payment_method, paid_on=advice.paid_on,
            payee_id=advice.payee_id, payee_name=advice.payee_name, received_on=self.today(),
            claims=summaries, posted_cents=posted_cents)
        for number, adjustment in enumerate(advice.provider_adjustments, 1):
            remittance.post_provider_adjustment(
                adjustment, f"era:{document.raw_sha256}:{advice.control_number}:PLB{number}")
        for index, remitted, reason in held:
            remittance.hold_unapplied(index, remitted, reason)
        result.posted_cents += posted_cents
        result.unapplied_cents += remittance.unapplied_cents
        result.provider_adjustment_cents += remittance.provider_adjustment_cents
        return remittance

    def _post_or_hold(
        self, remit: ClaimRemit, loaded: dict[UUID, BillingAggregate], payer_id: str,
        earlier: _EarlierPayments,
    ) -> tuple[PostingResult | None, str, dict[str, str] | None]:
        """Post one claim, or say why it waits in suspense (having changed nothing), and
        which earlier posting it repeats when that is why."""
        if remit.status_code in INFORMATIONAL_STATUSES and remit.paid_cents == 0:
            # Nothing was adjudicated, so there is nothing to post; the summary keeps it.
            return None, f"CLP02 {remit.status_code}: not adjudicated by this payer", None
        try:
            claim = self._loaded(loaded, Claim, remit.claim_id)
        except NotFoundError:
            return None, f"claim {remit.claim_id} is not in the ledger", None
        if remit.status_code in INFORMATIONAL_STATUSES:
            return None, f"CLP02 {remit.status_code} carries a payment; a biller decides", None
        duplicate = self._duplicate_of(claim, remit, payer_id, earlier)
        if duplicate is not None:
            return None, *duplicate
        encounter_id = claim.encounter_id
        before = len(claim.pending_events), self._pending_of(loaded, encounter_id)
        try:
            return self._post_remittance(remit, loaded), "", None
        except (UnmatchedRemitError, BillingError) as error:
            if (len(claim.pending_events), self._pending_of(loaded, encounter_id)) != before:
                raise
            return None, str(error), None

    def _duplicate_of(
        self, claim: Claim, remit: ClaimRemit, payer_id: str, earlier: _EarlierPayments,
    ) -> tuple[str, dict[str, str]] | None:
        """The posting standing on `claim` that `remit` repeats: why it waits, and where from.

        DOMAIN §4 keys a posting by (CLP01, CLP07): the same payer claim control number on a
        posting not reversed is the same adjudication, whoever's trace number brings it. A
        reversed one is not (its correction may reuse the number), nor is another payer's
        (it has its own numbers). Without CLP07 on either side, the same payer's CLP with
        the same CLP02-05 and SVC loops is.

        Reversals are matched by `_reverse`, except one that takes back a duplicate held
        earlier in this file (the payer resent a CLP, then reversed it): reversing the posting
        the duplicate repeats would leave the claim unpaid and the money in suspense, so the
        reversal waits beside the duplicate and the two cancel out.
        """
        if remit.is_reversal:
            return self._reversal_of_held(claim, remit, earlier)
        number = remit.payer_claim_control_number
        adjudication: dict[str, Any]
        for adjudication in reversed(claim.adjudications):
            if adjudication["reversed"]:
                continue
            theirs = adjudication["payer_claim_control_number"]
            if number and theirs:
                if number != theirs:
                    continue
                payment = earlier.of(adjudication["adjudication_id"])
                what = f"payer claim number {number} already posted"
            else:
                if (adjudication["status_code"], adjudication["paid_cents"]) != (
                        remit.status_code, remit.paid_cents):
                    continue
                # Looked up only now: it may read every stored payment once.
                payment = earlier.of(adjudication["adjudication_id"])
                same = self._same_adjudication(claim, remit, payer_id, adjudication, payment)
                if not same:
                    continue
                what = ("no payer claim number" if not number else
                        f"payer claim number {number} (none on the earlier posting)") + (
                    f", the same adjudication ({same}) already posted")
            paid_on = str(adjudication["paid_on"])
            where = (f"from {payment[0].file_name} (trace {payment[0].trace_number})"
                     if payment is not None else adjudication["adjudication_id"])
            reason = (f"duplicate of the posting {where} on {paid_on}: claim {claim.claim_id}, "
                      f"{what}; {DUPLICATE_ACTION}")
            return reason, {
                "file": payment[0].file_name if payment is not None else "",
                "trace_number": payment[0].trace_number if payment is not None else "",
                "paid_on": paid_on, "payer_claim_control_number": theirs,
                "source": adjudication["adjudication_id"]}
        return None

    @staticmethod
    def _reversal_of_held(
        claim: Claim, reversal: ClaimRemit, earlier: _EarlierPayments,
    ) -> tuple[str, dict[str, str]] | None:
        """Why a reversal of a duplicate held earlier in this file waits beside it."""
        held = earlier.take_held(reversal)
        if held is None:
            return None
        payment = earlier.of(held.source)
        number = reversal.payer_claim_control_number
        where = (f"{payment[0].file_name} (trace {payment[0].trace_number}, "
                 f"CLP{payment[1]})" if payment is not None else held.source)
        return (f"reversal of the duplicate held in suspense from {where}: claim "
                f"{claim.claim_id}, payer claim number {number or '(none)'}; the two wait there "
                "together and cancel out, and the posting they repeat stands"), {
            "file": payment[0].file_name if payment is not None else "",
            "trace_number": payment[0].trace_number if payment is not None else "",
            "paid_on": str(held.paid_on), "payer_claim_control_number": number,
            "source": held.source}

    def _same_adjudication(
        self, claim: Claim, remit: ClaimRemit, payer_id: str, adjudication: dict[str, Any],
        payment: tuple[_Payment, int] | None,
    ) -> str:
        """What made a posting without CLP07, of the same CLP02 and CLP04, the same as `remit`;
        "" when it is not."""
        fingerprint = payment[0].fingerprint(payment[1]) if payment is not None else ""
        if payment is not None and payment[0].payer_id != payer_id:
            return ""
        if fingerprint:
            if fingerprint != remit.fingerprint():
                return ""
            return (f"CLP02 {remit.status_code}, charge, paid, patient responsibility and "
                    "service lines")
        # Posted by the ledger command or before files kept fingerprints: only the CLP figures
        # its Adjudicated event recorded can be compared.
        recorded = self._adjudicated_event(claim, adjudication["adjudication_id"])
        if recorded is None or (recorded.charge_cents, recorded.patient_responsibility_cents) != (
                remit.charge_cents, remit.patient_responsibility_cents):
            return ""
        return (f"CLP02 {remit.status_code}, charge, paid and patient responsibility; its "
                "service lines were not recorded")

    def _adjudicated_event(self, claim: Claim, adjudication_id: str) -> Any:
        """The Adjudicated event that recorded `adjudication_id` on `claim` (pending or saved)."""
        events: Any = [*claim.pending_events, *self.repository.event_store.get(claim.id)]
        return next((e for e in events if isinstance(e, Claim.Adjudicated)  # type: ignore[attr-defined]
                     and e.adjudication_id == adjudication_id), None)

    def _stored_payments(self) -> dict[tuple[str, str], _Payment]:
        """Every 835 payment imported so far, by raw file SHA-256 and ST02 (the key a posting's
        source names): one topic-filtered pass over the RemittanceFile streams' first events."""
        payments: dict[tuple[str, str], _Payment] = {}
        for imported in self._stored(RemittanceFile.Imported):  # type: ignore[attr-defined]
            fingerprints = {c["index"]: c.get("fingerprint", "") for c in imported.claims}
            payments[(imported.raw_sha256, imported.control_number)] = _Payment(
                imported.payer_id, imported.trace_number, imported.file_name,
                fingerprints.get)
        return payments

    def _stored(self, event_class: type) -> Iterator[Any]:
        """Every stored event of one class, in order (a topic-filtered read)."""
        for notification in self.iter_notifications(topics=[get_topic(event_class)]):
            yield self.mapper.to_domain_event(notification)

    @staticmethod
    def _pending_of(loaded: dict[UUID, BillingAggregate], encounter_id: str) -> int:
        aggregate = loaded.get(Encounter.create_id(encounter_id))
        return len(aggregate.pending_events) if aggregate is not None else 0

    @command
    def apply_unapplied(self, remittance_id: str, index: int, claim_id: str,
                        note: str = "") -> PostingResult:
        """A biller applies a claim held in suspense to the right claim of ours."""
        remittance = self._remittance(remittance_id)
        remit = remittance.unapplied_remit(index, claim_id)
        loaded: dict[UUID, BillingAggregate] = {}
        try:
            posting = self._post_remittance(remit, loaded)
        except UnmatchedRemitError as error:
            raise RuleViolation(str(error)) from None
        remittance.mark_applied(index, claim_id, self.today(), note)
        self._save(*loaded.values(), remittance)
        return posting

    def _remittance(self, remittance_id: str) -> RemittanceFile:
        try:
            aggregate: Any = self.repository.get(UUID(remittance_id))
        except (AggregateNotFoundError, ValueError):
            raise NotFoundError(f"no remittance {remittance_id}") from None
        if not isinstance(aggregate, RemittanceFile):
            raise NotFoundError(f"no remittance {remittance_id}")
        return aggregate

    def remittance(self, remittance_id: str) -> RemittanceFile:
        return self._remittance(remittance_id)

    def source_file(self, sha256: str) -> bytes:
        """The raw bytes of an imported file (the evidence behind its postings)."""
        return self._get(SourceFile, sha256).raw()

    # -- 999 and 277CA ------------------------------------------------------------------------
    @command
    def import_acknowledgements(
        self, document: AcknowledgementDocument, *, dry_run: bool = False,
    ) -> AcknowledgementImport:
        """Apply a 999's or 277CA's accept/reject verdicts to our claims, in one save."""
        result = AcknowledgementImport(
            file=document.name, kind=document.kind, dry_run=dry_run,
            sets=len(document.sets), claims=len(document.claims))
        if self._exists(AcknowledgementFile, document.kind, document.content_sha256):
            result.status = ALREADY_POSTED
            result.message = f"this {document.kind} was already imported"
            return result
        on = document.received_on or self.today()
        loaded: dict[UUID, BillingAggregate] = {}
        outcomes: list[dict[str, Any]] = []
        submissions: dict[str, list[dict[str, str]]] | None = None
        for ack in document.sets:
            if ack.functional_id != "HC":
                result.unchanged.append({"set": ack.transaction_control, "reason": (
                    f"acknowledges a {ack.functional_id} group, not our claims")})
                continue
            submissions = submissions if submissions is not None else self._submission_index()
            claims = self._claims_of_set(ack, submissions, loaded)
            if not claims:
                result.unknown.append(
                    f"group {ack.group_control} set {ack.transaction_control or '*'}")
                continue
            reasons = [f"999 IK5 {ack.code}", *ack.reasons]
            for claim, submission in claims:
                outcomes.append(self._apply_verdict(
                    claim, ack.verdict, "999", reasons, on, document, ack.segment, result,
                    submission=submission))
        for status in document.claims:
            outcomes += self._apply_claim_status(status, document, on, loaded, result)
        file = AcknowledgementFile(
            kind=document.kind, content_sha256=document.content_sha256,
            raw_sha256=document.raw_sha256, file_name=document.name, sender=document.sender,
            interchange_control=document.interchange_control, received_on=self.today(),
            outcomes=outcomes)
        aggregates: list[BillingAggregate] = [*loaded.values(), file]
        if not self._exists(SourceFile, document.raw_sha256):
            aggregates.append(SourceFile.keep(document.raw, document.raw_sha256, document.name,
                                              document.kind, self.today()))
        result.events = sum(len(a.pending_events) for a in aggregates)
        if not dry_run:
            self._save(*aggregates)
        return result

    def _apply_claim_status(
        self, status: ClaimAcknowledgement, document: AcknowledgementDocument, on: date,
        loaded: dict[UUID, BillingAggregate], result: AcknowledgementImport,
    ) -> list[dict[str, Any]]:
        reasons = [f"277CA STC {s}" for s in status.statuses]
        when = status.effective_on or on
        if not status.claim_id:
            # Batch level (2200B): only a rejection says something about every claim in it.
            if status.verdict != "rejected":
                return []
            # TRN02 echoes our BHT03, which the 837 writer makes the batch id + the set's ST02
            # (so one set's claims); a bare batch id speaks for the whole batch.
            index = self._submission_index()
            targets = [(self._loaded_by_id(loaded, UUID(s["claim"])), s)
                       for entries in index.values() for s in entries
                       if status.batch_id in (s["batch_id"],
                                              s["batch_id"] + s["transaction_control"])]
            if not targets:
                result.unknown.append(f"batch {status.batch_id}")
            return [self._apply_verdict(claim, "rejected", "277CA", reasons, when, document,
                                        status.segment, result, submission=s)
                    for claim, s in targets if claim is not None]
        try:
            claim = self._loaded(loaded, Claim, status.claim_id)
        except NotFoundError:
            result.unknown.append(status.claim_id)
            return [{"claim_id": status.claim_id, "verdict": status.verdict,
                     "change": "unknown claim", "statuses": list(status.statuses)}]
        return [self._apply_verdict(
            claim, status.verdict, "277CA", reasons, when, document, status.segment, result,
            payer_claim_control_number=status.payer_claim_control_number)]

    def _apply_verdict(
        self, claim: Claim, verdict: str, level: str, reasons: list[str], on: date,
        document: AcknowledgementDocument, segment: int, result: AcknowledgementImport, *,
        submission: dict[str, str] | None = None, payer_claim_control_number: str = "",
    ) -> dict[str, Any]:
        source = f"ack:{document.raw_sha256}:{document.kind}:{segment}"
        outcome: dict[str, Any] = {"claim_id": claim.claim_id, "verdict": verdict,
                                   "level": level, "reasons": reasons}

        def unchanged(why: str) -> dict[str, Any]:
            result.unchanged.append({"claim_id": claim.claim_id, "reason": why})
            return {**outcome, "change": why}

        if submission is not None and claim.submissions and (
                claim.submissions[-1]["transaction_control"] != submission["transaction_control"]
                or claim.submissions[-1]["batch_id"] != submission["batch_id"]):
            return unchanged("acknowledges an earlier submission; the claim was resent since")
        if verdict not in ("accepted", "rejected"):
            return unchanged(f"{verdict}: no change")
        if claim.state not in (ClaimState.SUBMITTED, ClaimState.ACCEPTED):
            return unchanged(f"claim is {claim.state.value}")
        if verdict == "accepted":
            if level == "999" and claim.state is ClaimState.ACCEPTED:
                return unchanged("already accepted")
            claim.accept(on, level, source, payer_claim_control_number)
            result.accepted.append(claim.claim_id)
        else:
            claim.reject(on, level, reasons, source)
            result.rejected.append(claim.claim_id)
        return {**outcome, "change": verdict}

    def _loaded_by_id(self, loaded: dict[UUID, BillingAggregate], claim_uuid: UUID) -> Claim | None:
        if claim_uuid not in loaded:
            try:
                loaded[claim_uuid] = self.repository.get(claim_uuid)
            except AggregateNotFoundError:
                return None
        claim = loaded[claim_uuid]
        return claim if isinstance(claim, Claim) else None

    def _submission_index(self) -> dict[str, list[dict[str, str]]]:
        """Every 837 submission recorded, by ST02: what a 999's AK2 points back to.

        Read from the stored Submitted events (one pass, topic-filtered); a read model
        would serve a large ledger better, but the answer must be exact and current here.
        """
        index: dict[str, list[dict[str, str]]] = {}
        for submitted in self._stored(Claim.Submitted):  # type: ignore[attr-defined]
            index.setdefault(_control(submitted.transaction_control), []).append({
                "claim": str(submitted.originator_id), "batch_id": submitted.batch_id,
                "interchange_control": submitted.interchange_control,
                "transaction_control": submitted.transaction_control})
        return index

    def _claims_of_set(
        self, ack: SetAcknowledgement, index: dict[str, list[dict[str, str]]],
        loaded: dict[UUID, BillingAggregate],
    ) -> list[tuple[Claim, dict[str, str]]]:
        if ack.transaction_control:
            candidates = index.get(_control(ack.transaction_control), [])
        else:
            candidates = [s for entries in index.values() for s in entries]
        # A set is ours only under our group: ST02 numbers restart in every interchange (ours
        # and other senders' alike), so a 999 for someone else's group 555 that names set 0001
        # must not reach our set 0001. AK102 echoes GS06, which our 837s number like ISA13;
        # both compare as numbers ("000000101" is 101).
        group = _control(ack.group_control)
        candidates = [s for s in candidates
                      if group and _control(s["interchange_control"]) == group]
        latest = {s["claim"]: s for s in candidates}   # a claim sent twice under one number
        found = []
        for claim_uuid, submission in latest.items():
            claim = self._loaded_by_id(loaded, UUID(claim_uuid))
            if claim is not None:
                found.append((claim, submission))
        return found


def _control(number: str) -> str:
    """Control numbers compare as numbers when they are ("000000101" is "101")."""
    stripped = number.strip()
    return str(int(stripped)) if stripped.isdigit() else stripped


@dataclass(frozen=True)
class _Payment:
    """An 835 payment (one transaction set) that postings came from, as a duplicate names it."""

    payer_id: str
    trace_number: str
    file_name: str
    fingerprints: Callable[[int], str | None]   # CLP position -> ClaimRemit.fingerprint()

    def fingerprint(self, index: int) -> str:
        return self.fingerprints(index) or ""


class _EarlierPayments:
    """The payments earlier postings came from, by the raw file's SHA-256 and ST02.

    A posting's source (``era:<raw sha256>:<ST02>:CLP<n>``) names its payment: the file being
    imported is looked in first (a CLP repeated in the same file), the stored RemittanceFiles
    are read once, and only when a posting from another file is a candidate duplicate.
    """

    def __init__(self, document: RemittanceDocument,
                 read_stored: Callable[[], dict[tuple[str, str], _Payment]]) -> None:
        self._payments = {
            (document.raw_sha256, advice.control_number): _Payment(
                advice.payer_id, advice.trace_number, document.name,
                _fingerprints(advice.claims))
            for advice in document.advices}
        self._read_stored: Callable[[], dict[tuple[str, str], _Payment]] | None = read_stored
        # The duplicates this import held, by (CLP01, CLP07), for a reversal after them.
        self._held: dict[tuple[str, str], list[ClaimRemit]] = {}

    def hold(self, duplicate: ClaimRemit) -> None:
        key = (duplicate.claim_id, duplicate.payer_claim_control_number)
        self._held.setdefault(key, []).append(duplicate)

    def take_held(self, reversal: ClaimRemit) -> ClaimRemit | None:
        """The held duplicate `reversal` takes back (same CLP01, CLP07, negated CLP04), once."""
        held = self._held.get((reversal.claim_id, reversal.payer_claim_control_number), [])
        duplicate = next((d for d in held if d.paid_cents == -reversal.paid_cents), None)
        if duplicate is not None:
            held.remove(duplicate)
        return duplicate

    def of(self, source: str) -> tuple[_Payment, int] | None:
        """The payment and CLP position of the posting whose source this is, when imported."""
        prefix, _, rest = source.partition(":")
        digest, _, rest = rest.partition(":")
        control, _, clp = rest.rpartition(":")
        if prefix != "era" or not control or not clp.startswith("CLP") or not clp[3:].isdigit():
            return None
        key = (digest, control)
        if key not in self._payments and self._read_stored is not None:
            stored, self._read_stored = self._read_stored(), None
            self._payments = {**stored, **self._payments}
        payment = self._payments.get(key)
        return (payment, int(clp[3:])) if payment is not None else None


def _fingerprints(claims: tuple[RemittedClaim, ...]) -> Callable[[int], str | None]:
    """The fingerprint of the CLP at a position of a payment being imported, worked out only
    when asked (most files repeat nothing)."""
    def at(index: int) -> str | None:
        return claims[index - 1].remit.fingerprint() if 0 < index <= len(claims) else None
    return at
