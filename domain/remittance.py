"""What a payer said about one claim (an 835 CLP loop), in our terms, ready to post.

Importers build these from X12; the demo and tests build them directly. Amounts are
integer cents as the payer wrote them, signs included (a CLP02=22 reversal is negative).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from domain.errors import BillingError
from domain.money import Cents


@dataclass(frozen=True)
class CasAdjustment:
    group: str          # CO, PR, OA, PI
    carc: str
    amount_cents: int
    quantity: str = ""


@dataclass(frozen=True)
class ServiceRemit:
    """One SVC loop."""

    code: str
    modifiers: tuple[str, ...]
    charge_cents: int
    paid_cents: int
    adjustments: tuple[CasAdjustment, ...] = ()
    rarcs: tuple[str, ...] = ()
    line_ref: str = ""              # REF*6R: our line id, when the payer echoes it
    original_code: str = ""         # SVC06 when the payer changed the code
    service_date: date | None = None
    units: str = ""
    index: int = 0                  # position in the CLP loop, for the posting's source


@dataclass(frozen=True)
class ClaimRemit:
    """One CLP loop."""

    claim_id: str                   # CLP01, our CLM01
    status_code: str                # CLP02
    charge_cents: int               # CLP03
    paid_cents: Cents               # CLP04
    patient_responsibility_cents: int  # CLP05, cross-checked only
    payer_claim_control_number: str  # CLP07
    paid_on: date
    source: str                     # "era:<sha256>:<TRN02>:CLP<n>"
    claim_adjustments: tuple[CasAdjustment, ...] = ()
    services: tuple[ServiceRemit, ...] = ()
    claim_rarcs: tuple[str, ...] = field(default=())

    @property
    def is_reversal(self) -> bool:
        return self.status_code == "22"

    @property
    def is_crossover(self) -> bool:
        return self.status_code in ("19", "20", "21")

    def fingerprint(self) -> str:
        """The payer's decision alone, equal when the same adjudication is sent again.

        It is what tells a repeated CLP without CLP07 from a new one (CLP02-05, claim-level
        CAS, every SVC loop), so it leaves out where the CLP was read (source, SVC positions),
        the claim it names (a biller may apply it to another), CLP07 and the payment date.
        """
        def cas(adjustments: tuple[CasAdjustment, ...]) -> list[tuple[str, str, int, str]]:
            return [(a.group, a.carc, a.amount_cents, a.quantity) for a in adjustments]

        services = sorted(
            (s.code, s.modifiers, s.charge_cents, s.paid_cents, cas(s.adjustments), s.rarcs,
             s.line_ref, s.original_code, str(s.service_date or ""), s.units)
            for s in self.services)
        content = [self.status_code, self.charge_cents, self.paid_cents,
                   self.patient_responsibility_cents, cas(self.claim_adjustments),
                   self.claim_rarcs, services]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:16]


class UnmatchedRemitError(BillingError):
    """The remittance does not fit a claim of ours: it belongs in the unapplied queue."""

    title = "Not our claim"
