"""A 10,000-claim 835 that pays claims of the generated ledger, made the way production makes one.

The generated claims of one payer wait in the ready state. `prepare_835` sends them the way a
biller does: `plan_batch` → 837P (`importers.x12.claim_837.write_837`) → `record_batch` (one
`Submitted` per claim), then lets the payer sandbox (`importers.sandbox`) adjudicate that 837
and write its 835. When the sandbox or the 837 writer is not there (or fails), the claims are
submitted with `mark_submitted` and the 835 is written here from the answers the generator
drew for them, with the same X12 helpers, so the benchmark still runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.generate import BILLING_NPI, END, PAYERS, PendingClaim
from domain.application import BillingLedger
from domain.claim import ClaimState
from domain.identity import acting_as
from importers.x12.writer import (
    Party,
    SegmentWriter,
    amount,
    close_transaction,
    d8,
    envelope,
    text,
)

PAID_ON = END + timedelta(days=30)


@dataclass
class EraFile:
    path: Path
    claims: int              # CLP loops in the file
    source: str              # how it was made
    seconds: float           # preparing it (not a benchmark figure)
    note: str = ""


def prepare_835(ledger: BillingLedger, pending: list[PendingClaim], claims: int, path: Path,
                *, seed: int = 8, reopen: Callable[[], BillingLedger] | None = None) -> EraFile:
    """Submit `claims` of the pending claims and write the payer's 835 for them to `path`.

    `reopen` gives a fresh ledger for the fallback (when `ledger` caches aggregates that a
    failed sandbox run may have left changed but unsaved)."""
    started = time.perf_counter()
    chosen = pending[:claims]
    if not chosen:
        raise ValueError("the generated ledger has no claims waiting for an answer")
    try:
        text_835, count = _through_sandbox(ledger, chosen, seed)
        source, note = "payer sandbox (importers/sandbox.py) on a real 837 batch", ""
    except Exception as error:
        note = f"sandbox path failed ({type(error).__name__}: {error}); own 835 writer used"
        fresh = reopen() if reopen is not None else ledger
        _submit_the_rest(fresh, chosen)
        if fresh is not ledger:
            fresh.close()
        text_835, count = own_835(chosen, seed)
        source = "bench/era.py writer (from the generator's payer answers)"
    path.write_text(text_835)
    return EraFile(path, count, source, time.perf_counter() - started, note)


def _through_sandbox(ledger: BillingLedger, chosen: list[PendingClaim],
                     seed: int) -> tuple[str, int]:
    from importers.sandbox import LedgerBook, adjudicate_file
    from importers.x12.claim_837 import write_837

    payer_id = chosen[0].payer_id
    with acting_as("biller"):
        plan = ledger.plan_batch(payer_id, claim_ids=[p.claim_id for p in chosen])
        text_837 = write_837(plan)
        ledger.record_batch(plan, file_name="bench.837")
    text_835, outs = adjudicate_file(text_837, LedgerBook(ledger), denial_rate=0.05,
                                     seed=seed, paid_on=PAID_ON, name="bench.837")
    return text_835, len(outs)


def _submit_the_rest(ledger: BillingLedger, chosen: list[PendingClaim]) -> None:
    ready = [p.claim_id for p in chosen if ledger.claim(p.claim_id).state is ClaimState.READY]
    if ready:
        with acting_as("biller"):
            ledger.mark_submitted(ready, batch_id="BBENCH835", submitted_on=END + timedelta(3))


def own_835(chosen: list[PendingClaim], seed: int) -> tuple[str, int]:
    """One interchange, one transaction set: the payer's answers as an 835 (5010 X221A1)."""
    payer_id = chosen[0].payer_id
    payer_name = next(p[1] for p in PAYERS if p[0] == payer_id)
    w = SegmentWriter()
    w.add("ST", "835", "0001")
    total = sum(p.remit.paid_cents for p in chosen)
    w.add("BPR", "I", amount(total), "C", "ACH", "CCP", "01", "999999999", "DA", "123456",
          "1512345678", "", "01", "999988880", "DA", "98765", d8(PAID_ON))
    w.add("TRN", "1", f"BENCH{seed:04d}{len(chosen):06d}", "1512345678")
    w.add("DTM", "405", d8(PAID_ON))
    w.add("N1", "PR", payer_name)
    w.add("N3", "1 PAYER PLAZA")
    w.add("N4", "HARTFORD", "CT", "06101")
    w.add("PER", "BL", "PROVIDER SERVICES", "TE", "8005551212")
    w.add("N1", "PE", "PRAIRIE FAMILY MEDICINE", "XX", BILLING_NPI)
    w.add("LX", "1")
    for pending in chosen:
        remit = pending.remit
        w.add("CLP", remit.claim_id, remit.status_code, amount(remit.charge_cents),
              amount(remit.paid_cents),
              amount(remit.patient_responsibility_cents)
              if remit.patient_responsibility_cents else "",
              "12", remit.payer_claim_control_number, "11", "1")
        w.add("NM1", "QC", "1", text(pending.patient_last), text(pending.patient_first), "",
              "", "", "MI", pending.member_id)
        for svc in remit.services:
            w.add("SVC", ["HC", svc.code, *svc.modifiers], amount(svc.charge_cents),
                  amount(svc.paid_cents), "", svc.units or "1")
            if svc.service_date is not None:
                w.add("DTM", "472", d8(svc.service_date))
            for group in dict.fromkeys(a.group for a in svc.adjustments):
                triplets: list[Any] = []
                for adjustment in svc.adjustments:
                    if adjustment.group == group:
                        triplets += [adjustment.carc, amount(adjustment.amount_cents), ""]
                w.add("CAS", group, *triplets)
            w.add("REF", "6R", svc.line_ref)
    transaction = close_transaction(w, "0001")
    created = datetime.combine(PAID_ON, datetime.min.time(), UTC).replace(hour=12)
    return envelope(
        sender=Party(payer_id, payer_name), receiver=Party("CLAIMDESK", "CLAIMDESK"),
        interchange_control=int(f"9{seed % 10}{len(chosen) % 10**7:07d}"),
        group_control=1, created_at=created, functional_code="HP", version="005010X221A1",
        transactions=[transaction], usage="T"), len(chosen)
