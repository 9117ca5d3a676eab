"""835 (005010X221A1) remittance parsing and balancing: X12 text to the ledger's remittance records.

`parse_835` reads one file into a `RemittanceDocument` (one `RemittanceAdvice` per transaction
set, i.e. per payment) plus the *problems* that refuse it and the *warnings* that do not. It
never touches the ledger. Amounts are exact integer cents (`cents_from_x12`); the three
balancing equations of DOMAIN.md §2 are checked on the parsed records by `balance_problems`,
each failure stated with its figures:

- line:        SVC02 - Σ CAS (2110) = SVC03
- claim:       CLP03 - Σ CAS (2100 and all its 2110) = CLP04
- transaction: Σ CLP04 - Σ PLB = BPR02

pyx12 validation (`importers.x12.validate`) runs beside this; `VALIDATION_POLICY` says which of
its findings refuse an 835: envelope errors, misplaced or unknown segments, and errors in the
elements we post from. Others (a missing payer contact PER, an unused TS3 element, a state code)
are real payers' habits and are kept as warnings.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from domain.money import (
    INT64_MAX,
    AmountError,
    Cents,
    cents_from_text,
    cents_from_x12,
    format_plain,
)
from domain.remittance import CasAdjustment, ClaimRemit, ServiceRemit
from domain.remittance_file import (
    ProviderAdjustment,
    RemittanceAdvice,
    RemittanceDocument,
    RemittanceFile,
    RemittedClaim,
)
from importers.x12.segments import (
    Segment,
    Separators,
    X12SyntaxError,
    decode,
    iter_transactions,
    read_isa,
    read_separators,
    tokenize,
)
from importers.x12.validate import ENVELOPE, SEGMENT, ValidationIssue

SUPPORTED_VERSION = "005010X221"       # GS08 of an 835, A1 and later errata
CLAIM_STATUSES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})
GROUP_CODES = frozenset({"CO", "PR", "OA", "PI"})

# pyx12's 835 map puts PLB in a FOOTER loop that may occur once and starts that loop again at
# each PLB, so a second PLB is "Loop FOOTER exceeded max count. Found 2, should have 1". The
# TR3 lets PLB repeat (max use >1) and payers send several: a finding about the map, not the
# file. Only this one (segment PLB, loop-count code 4, this loop) is waived.
_PYX12_PLB_FOOTER = re.compile(r"Loop FOOTER exceeded max count\.\s+Found \d+, should have 1")


@dataclass(frozen=True)
class ValidationPolicy:
    """Which validator findings refuse a file, given the elements the importer reads."""

    read: dict[str, frozenset[str] | None]   # segment id -> elements read (None: all)
    loose: frozenset[str] = frozenset()      # segments whose placement nothing depends on
    required: frozenset[str] | None = None   # whose absence refuses (None: those in `read`)

    def blocks(self, issue: ValidationIssue) -> bool:
        if issue.level == ENVELOPE:
            return True
        if (issue.segment_id, issue.code, issue.level) == ("PLB", "4", SEGMENT) and (
                _PYX12_PLB_FOOTER.fullmatch(issue.message)):
            return False
        if issue.code == "SEG1":        # trailing separators: nothing is lost
            return False
        read = issue.segment_id in self.read
        if issue.level == SEGMENT:
            if issue.code == "3":       # a mandatory segment is missing
                return issue.segment_id in (self.read if self.required is None else
                                            self.required)
            return issue.segment_id not in self.loose
        if not read:
            return False
        elements = self.read[issue.segment_id]
        return elements is None or issue.element.split("-")[0] in elements


VALIDATION_POLICY = ValidationPolicy(read={
    "BPR": frozenset({"BPR01", "BPR02", "BPR03", "BPR04"}),
    "TRN": None, "LX": None, "CLP": None, "CAS": None, "SVC": None, "PLB": None,
})


@dataclass(frozen=True)
class Problem:
    """Why a file is refused: where (segment number, line) and what."""

    segment: int
    message: str
    line: int = 0

    def __str__(self) -> str:
        if not self.segment:
            return self.message
        where = f"segment {self.segment}"
        if self.line > 1 and self.line != self.segment:
            where += f" (line {self.line})"
        return f"{where}: {self.message}"


@dataclass
class ParsedEra:
    """One 835 file, read."""

    name: str
    raw: bytes = field(repr=False)
    raw_sha256: str
    separators: Separators | None = None
    segments: list[Segment] = field(default_factory=list, repr=False)
    advices: list[RemittanceAdvice] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    version: str = ""
    # Per advice, its content hash as claimdesk computed it before (`legacy_normalized_text`).
    legacy_sha256: list[str] = field(default_factory=list)

    @property
    def document(self) -> RemittanceDocument:
        return RemittanceDocument(name=self.name, raw=self.raw, raw_sha256=self.raw_sha256,
                                  advices=tuple(self.advices))

    def document_for(self, ledger: Any) -> RemittanceDocument:
        """`document`, each payment keyed as `ledger` (a BillingLedger) holds it.

        A payment posted before the content hash changed is held under its legacy hash; the
        ledger only knows a payment by its key, so re-importing that file must name it by the
        same key to be found already posted (rather than held as different content under the
        same trace number).
        """
        advices = tuple(
            replace(advice, content_sha256=legacy) if legacy != advice.content_sha256
            and RemittanceFile.create_id(advice.payer_id, advice.trace_number, legacy)
            in ledger.repository else advice
            for advice, legacy in zip(self.advices, self.legacy_sha256, strict=True))
        return replace(self.document, advices=advices)

    @property
    def payment_cents(self) -> int:
        """Σ BPR02, read leniently so that a refused file's summary still shows it."""
        total = 0
        for seg in self.segments:
            if seg.id == "BPR":
                with contextlib.suppress(AmountError):
                    total += cents_from_text(seg.get(2).strip())
        return total

    @property
    def claim_count(self) -> int:
        return sum(1 for seg in self.segments if seg.id == "CLP")


def parse_835(raw: bytes, name: str = "<input>") -> ParsedEra:
    """Read an 835 file; `problems` is empty when it can be posted (validation aside)."""
    parsed = ParsedEra(name=name, raw=raw, raw_sha256=hashlib.sha256(raw).hexdigest())
    try:
        text = decode(raw, name)
    except X12SyntaxError as error:
        parsed.problems.append(Problem(0, str(error)))
        return parsed
    version = _sniff_version(text)
    if version and not version.startswith(("00501", "005010")):
        parsed.version = version
        parsed.problems.append(Problem(0, (
            f"unsupported version {version}: claimdesk reads 5010 835s "
            f"({SUPPORTED_VERSION}A1) only")))
        return parsed
    try:
        parsed.separators, parsed.segments = tokenize(text, name)
    except X12SyntaxError as error:
        parsed.problems.append(Problem(0, str(error)))
        return parsed
    try:
        sets = list(iter_transactions(parsed.segments))
    except X12SyntaxError as error:
        parsed.problems.append(Problem(0, str(error)))
        return parsed
    if not sets:
        parsed.problems.append(Problem(0, "the file holds no transaction set (ST..SE)"))
    for isa, gs, st_segments in sets:
        reader = _TransactionReader(parsed, isa, gs, st_segments)
        advice = reader.read()
        if advice is not None:
            parsed.advices.append(advice)
            parsed.legacy_sha256.append(reader.legacy_sha256)
            parsed.problems += [Problem(0, message) for message in balance_problems(advice)]
            parsed.warnings += _cross_checks(advice)
    return parsed


def _sniff_version(text: str) -> str:
    """GS08 (else ISA12) read without tokenizing: a 4010 file is refused for its version even
    when its separators would not tokenize."""
    try:
        separators, start = read_separators(text)
        _, end = read_isa(text, start)
    except X12SyntaxError:
        return ""
    isa = text[start:end].split(separators.element)
    # The GS is the segment right after the ISA, whatever the ISA's length: translators trim
    # its padding, and "GS*" can also end a claim id further on. Punctuation before it (a
    # doubled terminator, a "~" opening each line of a "\n"-terminated file) is layout here.
    stop = text.find(separators.segment, end)
    after = text[end:stop] if stop >= 0 else ""
    at = after.find(f"GS{separators.element}")
    if at >= 0 and not any(c.isalnum() for c in after[:at]):
        gs = after[at:].split(separators.element)
        if len(gs) > 8 and gs[8].strip():
            return gs[8].strip()
    return isa[12].strip() if len(isa) > 12 else ""


def normalized_text(segments: Sequence[Segment], separators: Separators) -> str:
    """ST..SE as ``*``/``:``/``^``/``~`` text: what a transaction set's content hash is over,
    whatever separators, line breaks or indentation the sender used."""
    return normalized_texts(segments, separators)[0]


def normalized_texts(segments: Sequence[Segment], separators: Separators) -> tuple[str, str]:
    """`normalized_text`, and `legacy_normalized_text` (built only where it can differ).

    The separators are mapped all at once, so that a component ``^`` and a repetition ``:``
    swap rather than both become one; trailing empty elements and components say nothing and
    are dropped (``CAS*CO*45*10***`` is ``CAS*CO*45*10``). Standard ``*``/``:``/``^``/``~``
    files without trailing separators read, and so hash, exactly as before.
    """
    component, repetition = separators.component, separators.repetition
    table = None if (component, repetition) in ((":", "^"), (":", "")) else str.maketrans(
        {component: ":", **({repetition: "^"} if repetition else {})})
    # Most segments are joined with "*" and mapped as one string; one goes element by element
    # when an element (or a repetition) ends in an empty component, or when the component or
    # repetition separator is "*" itself (the join would mix it up with them).
    whole = "*" not in (component, repetition)
    ends = (f"{component}*", f"{component}{repetition}") if repetition else (f"{component}*",)
    dropped = False

    def without_empty_components(value: str) -> str:
        if component not in value:
            return value
        if repetition and repetition in value:
            return repetition.join(r.rstrip(component) for r in value.split(repetition))
        return value.rstrip(component)

    out: list[str] = []
    for seg in segments:
        values = seg.elements
        line = "*".join(values)
        if not whole or (component in line and (
                line.endswith(component) or any(end in line for end in ends))):
            kept = tuple(without_empty_components(v) for v in values)
            dropped = dropped or kept != values
            values = kept
            line = "*".join(v.translate(table) for v in values) if table is not None else (
                "*".join(values))
        elif table is not None:
            line = line.translate(table)
        last = len(values) - 1   # the last non-empty element (the id at least)
        while last > 0 and not values[last]:
            last -= 1
        if last < len(values) - 1:
            # Each trailing empty element is one "*" at the end, whatever the data holds.
            dropped = True
            line = line[:len(line) - (len(values) - 1 - last)]
        out.append(line + "~")
    text = "".join(out)
    # The old mapping differs only where it merged separators (a repetition ":") or where
    # something was dropped; anywhere else it is this very text, not worth building again.
    legacy = legacy_normalized_text(segments, separators) if dropped or repetition == ":" else text
    return text, legacy


def legacy_normalized_text(segments: Sequence[Segment], separators: Separators) -> str:
    """The text content hashes were over until trailing empties were dropped and separators
    mapped at once: the key of every 835, 999 and 277CA imported before, which a ledger still
    holds them under (see `ParsedEra.document_for`), and still that of 271 and 277 responses.
    It keeps trailing separators and, where the repetition separator is ``:``, turns both it
    and the component separator into ``^``."""
    def element(value: str) -> str:
        if separators.component != ":":
            value = value.replace(separators.component, ":")
        if separators.repetition and separators.repetition != "^":
            value = value.replace(separators.repetition, "^")
        return value

    return "".join("*".join(element(e) for e in seg.elements) + "~" for seg in segments)


def balance_problems(advice: RemittanceAdvice) -> list[str]:
    """The three balancing equations, each failure with its figures (empty: balanced)."""
    problems: list[str] = []
    money = _money
    for remitted in advice.claims:
        remit = remitted.remit
        where = f"claim {remit.claim_id} (segment {remitted.segment})"
        line_cas = 0
        for svc in remit.services:
            cas = sum(a.amount_cents for a in svc.adjustments)
            line_cas += cas
            if svc.charge_cents - cas != svc.paid_cents:
                problems.append(
                    f"{where} service {svc.index} ({svc.code}) does not balance: SVC02 "
                    f"{money(svc.charge_cents)} - ΣCAS {money(cas)} = "
                    f"{money(svc.charge_cents - cas)}, but SVC03 is {money(svc.paid_cents)}")
        cas = line_cas + sum(a.amount_cents for a in remit.claim_adjustments)
        if remit.charge_cents - cas != remit.paid_cents:
            problems.append(
                f"{where} does not balance: CLP03 {money(remit.charge_cents)} - ΣCAS "
                f"{money(cas)} = {money(remit.charge_cents - cas)}, but CLP04 is "
                f"{money(remit.paid_cents)}")
    paid = sum(c.remit.paid_cents for c in advice.claims)
    plb = sum(p.amount_cents for p in advice.provider_adjustments)
    charged = sum(c.remit.charge_cents for c in advice.claims)
    for what, total in (("ΣCLP03", charged), ("ΣCLP04", paid), ("ΣPLB", plb)):
        # Each amount fits in int64 (cents_from_x12), but the read models sum them in
        # int64 columns too: a total past that is not a payment, it is a broken file.
        if abs(total) > INT64_MAX:
            problems.append(
                f"transaction set {advice.control_number} (trace {advice.trace_number}): "
                f"{what} {money(total)} is more than the ledger can hold")
    if paid - plb != advice.payment_cents:
        problems.append(
            f"transaction set {advice.control_number} (trace {advice.trace_number}) does not "
            f"balance: ΣCLP04 {money(paid)} - ΣPLB {money(plb)} = {money(paid - plb)}, but "
            f"BPR02 is {money(advice.payment_cents)}")
    return problems


def _money(cents: int) -> str:
    return format_plain(Cents(cents))


def _cross_checks(advice: RemittanceAdvice) -> list[str]:
    """Informational checks that do not stop posting (DOMAIN.md §2: CLP05 is cross-checked)."""
    warnings = []
    for remitted in advice.claims:
        remit = remitted.remit
        pr = sum(a.amount_cents for a in remit.claim_adjustments if a.group == "PR") + sum(
            a.amount_cents for s in remit.services for a in s.adjustments if a.group == "PR")
        if remit.patient_responsibility_cents != pr and not remit.is_reversal:
            warnings.append(
                f"claim {remit.claim_id} (segment {remitted.segment}): CLP05 "
                f"{_money(remit.patient_responsibility_cents)} differs from the PR "
                f"adjustments {_money(pr)}; the PR adjustments are posted")
    return warnings


class _TransactionReader:
    """Reads one ST..SE into a RemittanceAdvice, adding problems to the file as it goes."""

    def __init__(self, parsed: ParsedEra, isa: Segment, gs: Segment,
                 segments: list[Segment]) -> None:
        self.parsed = parsed
        self.sep = isa.separators   # its interchange's, which may not be the file's first
        self.isa, self.gs, self.segments = isa, gs, segments
        self.st02 = segments[0].get(2)
        self.ok = True
        self.legacy_sha256 = ""
        self.claims: list[RemittedClaim] = []
        self.plb: list[ProviderAdjustment] = []
        self.claim: dict[str, Any] | None = None
        self.service: dict[str, Any] | None = None

    # -- problems and element readers ----------------------------------------------------------
    def problem(self, seg: Segment, message: str) -> None:
        self.ok = False
        self.parsed.problems.append(Problem(seg.index, f"{seg.id}: {message}", seg.line))

    def amount(self, seg: Segment, position: int, *, required: bool = True) -> int:
        text = seg.get(position).strip()
        if not text:
            if required:
                self.problem(seg, f"{seg.id}{position:02d} (an amount) is missing")
            return 0
        try:
            return int(cents_from_x12(text))
        except AmountError as error:
            self.problem(seg, f"{seg.id}{position:02d} {error}")
            return 0

    def date(self, seg: Segment, position: int) -> date | None:
        return x12_date(seg.get(position))

    def composite(self, seg: Segment, position: int) -> list[str]:
        return [c.strip() for c in seg.get(position).split(self.sep.component)]

    # -- the transaction set ---------------------------------------------------------------------
    def read(self) -> RemittanceAdvice | None:
        st = self.segments[0]
        if st.get(1) != "835":
            self.problem(st, f"ST01 is {st.get(1)!r}: this is not an 835")
            return None
        version = self.gs.get(8) or st.get(3)
        self.parsed.version = self.parsed.version or version
        if not version.startswith(SUPPORTED_VERSION):
            self.problem(st, f"unsupported version {version or '(none)'}: claimdesk reads 5010 "
                             f"835s ({SUPPORTED_VERSION}A1) only")
            return None
        if self.gs.get(1) != "HP":
            self.problem(self.gs, f"GS01 is {self.gs.get(1)!r}; an 835 group is HP")
        header: dict[str, Any] = {}
        for seg in self.segments[1:-1]:
            self.segment(seg, header)
        self.end_claim()
        for needed in ("BPR", "TRN"):
            if needed not in header:
                self.problem(st, f"transaction set {self.st02} has no {needed} segment")
        if not self.ok:
            return None
        paid_on = header["BPR"]["paid_on"] or header.get("production_date") or x12_date(
            self.gs.get(4))
        if header["BPR"]["paid_on"] is None:
            self.parsed.warnings.append(
                f"transaction set {self.st02}: BPR16 (payment date) is "
                f"{'missing' if not header['BPR']['raw_date'] else 'not a date'}; using "
                f"{'DTM*405' if header.get('production_date') else 'GS04'} {paid_on}")
        if paid_on is None:
            self.problem(st, "no payment date in BPR16, DTM*405 or GS04")
            return None
        trn = header["TRN"]
        payer = header.get("payer", {})
        payer_id = trn["payer_id"] or payer.get("id") or payer.get("name", "")
        body, legacy = normalized_texts(self.segments, self.sep)
        content_sha256 = hashlib.sha256(body.encode("utf-8")).hexdigest()
        self.legacy_sha256 = content_sha256 if legacy is body else hashlib.sha256(
            legacy.encode("utf-8")).hexdigest()
        return RemittanceAdvice(
            payer_id=payer_id, payer_name=payer.get("name", ""),
            trace_number=trn["trace"],
            content_sha256=content_sha256,
            control_number=self.st02, interchange_control=self.isa.get(13).strip(),
            payment_cents=header["BPR"]["amount"], handling_code=header["BPR"]["handling"],
            credit_debit=header["BPR"]["credit_debit"], payment_method=header["BPR"]["method"],
            paid_on=paid_on, payee_id=header.get("payee", {}).get("id", ""),
            payee_name=header.get("payee", {}).get("name", ""),
            claims=tuple(replace(c, remit=replace(c.remit, paid_on=paid_on))
                         for c in self.claims),
            provider_adjustments=tuple(self.plb))

    def segment(self, seg: Segment, header: dict[str, Any]) -> None:
        handler = getattr(self, f"seg_{seg.id}", None)
        if handler is not None:
            handler(seg, header)

    def seg_BPR(self, seg: Segment, header: dict[str, Any]) -> None:
        if "BPR" in header:
            self.problem(seg, "a second BPR in one transaction set")
            return
        header["BPR"] = {"handling": seg.get(1), "amount": self.amount(seg, 2),
                         "credit_debit": seg.get(3), "method": seg.get(4),
                         "raw_date": seg.get(16), "paid_on": self.date(seg, 16)}

    def seg_TRN(self, seg: Segment, header: dict[str, Any]) -> None:
        if "TRN" in header:
            return
        if not seg.get(2).strip():
            self.problem(seg, "TRN02 (the check or EFT trace number) is missing")
        header["TRN"] = {"trace": seg.get(2).strip(), "payer_id": seg.get(3).strip()}

    def seg_N1(self, seg: Segment, header: dict[str, Any]) -> None:
        if self.claim is not None:
            return
        party = {"PR": "payer", "PE": "payee"}.get(seg.get(1))
        if party and party not in header:
            header[party] = {"name": seg.get(2).strip(), "id": seg.get(4).strip()}

    def seg_LX(self, seg: Segment, header: dict[str, Any]) -> None:
        self.end_claim()

    def seg_CLP(self, seg: Segment, header: dict[str, Any]) -> None:
        self.end_claim()
        status = seg.get(2)
        if not seg.get(1).strip():
            self.problem(seg, "CLP01 (our claim id) is missing")
        if status not in CLAIM_STATUSES:
            self.problem(seg, f"CLP02 {status!r} is not a 5010 claim status")
        self.claim = {
            "segment": seg, "claim_id": seg.get(1).strip(), "status": status,
            "charge": self.amount(seg, 3), "paid": self.amount(seg, 4),
            "pr": self.amount(seg, 5, required=False), "icn": seg.get(7).strip(),
            "cas": [], "rarcs": [], "services": [], "patient": "", "member": "",
            "crossover": ""}

    def seg_NM1(self, seg: Segment, header: dict[str, Any]) -> None:
        if self.claim is None or self.service is not None:
            return
        if seg.get(1) == "QC":
            self.claim["patient"] = ", ".join(p for p in (seg.get(3), seg.get(4)) if p)
            self.claim["member"] = seg.get(9)
        elif seg.get(1) == "TT":
            self.claim["crossover"] = seg.get(3) or seg.get(9)

    def seg_MOA(self, seg: Segment, header: dict[str, Any]) -> None:
        if self.claim is not None:
            self.claim["rarcs"] += [seg.get(i) for i in range(3, 8) if seg.get(i)]

    def seg_MIA(self, seg: Segment, header: dict[str, Any]) -> None:
        if self.claim is not None:
            self.claim["rarcs"] += [seg.get(i) for i in (5, 20, 21, 22, 23) if seg.get(i)]

    def seg_CAS(self, seg: Segment, header: dict[str, Any]) -> None:
        target = self.service if self.service is not None else self.claim
        if target is None:
            self.problem(seg, "CAS outside a claim")
            return
        group = seg.get(1)
        if group not in GROUP_CODES:
            self.problem(seg, f"CAS01 {group!r} is not a 5010 group code (CO, PR, OA, PI)")
            return
        found = False
        for reason_at in range(2, 20, 3):
            carc = seg.get(reason_at).strip()
            if not carc:
                if seg.get(reason_at + 1).strip():
                    self.problem(seg, f"CAS{reason_at + 1:02d} has an amount but no reason")
                continue
            found = True
            target["cas"].append(CasAdjustment(
                group, carc, self.amount(seg, reason_at + 1), seg.get(reason_at + 2).strip()))
        if not found:
            self.problem(seg, "CAS has no reason code")

    def seg_SVC(self, seg: Segment, header: dict[str, Any]) -> None:
        if self.claim is None:
            self.problem(seg, "SVC outside a claim")
            return
        self.end_service()
        procedure = self.composite(seg, 1)
        if len(procedure) < 2 or len(procedure[0]) != 2 or not procedure[1]:
            hint = ""
            for other in ">:^!|\\":
                if other != self.sep.component and other in seg.get(1):
                    hint = (f"; it uses {other!r} but the ISA declares "
                            f"{self.sep.component!r} as the component separator")
                    break
            self.problem(seg, f"SVC01 {seg.get(1)!r} is not qualifier{self.sep.component}"
                              f"procedure code{hint}")
            procedure = [*procedure, ""][:2]
        original = self.composite(seg, 6) if seg.get(6) else []
        self.service = {
            "segment": seg, "code": procedure[1], "modifiers": tuple(m for m in procedure[2:6]
                                                                      if m),
            "charge": self.amount(seg, 2), "paid": self.amount(seg, 3),
            "units": seg.get(5) or seg.get(7),
            "original": original[1] if len(original) > 1 else "", "cas": [], "rarcs": [],
            "ref": "", "date": None, "index": len(self.claim["services"]) + 1}

    def seg_DTM(self, seg: Segment, header: dict[str, Any]) -> None:
        if self.service is not None and seg.get(1) in ("472", "150"):
            when = self.date(seg, 2)
            if when is None:
                self.problem(seg, f"DTM02 {seg.get(2)!r} is not a date (CCYYMMDD)")
            self.service["date"] = when
        elif self.claim is None and seg.get(1) == "405":
            header["production_date"] = self.date(seg, 2)

    def seg_REF(self, seg: Segment, header: dict[str, Any]) -> None:
        if self.service is not None and seg.get(1) == "6R":
            self.service["ref"] = seg.get(2).strip()

    def seg_LQ(self, seg: Segment, header: dict[str, Any]) -> None:
        if self.service is not None and seg.get(1) == "HE" and seg.get(2):
            self.service["rarcs"].append(seg.get(2).strip())

    def seg_PLB(self, seg: Segment, header: dict[str, Any]) -> None:
        self.end_claim()
        fiscal = self.date(seg, 2)
        for reason_at in range(3, 15, 2):
            if not seg.get(reason_at).strip() and not seg.get(reason_at + 1).strip():
                continue
            reason = self.composite(seg, reason_at)
            if not reason[0] or len(reason[0]) > 2 or not reason[0].isalnum():
                self.problem(seg, f"PLB{reason_at:02d} {seg.get(reason_at)!r} is not a "
                                  f"reason{self.sep.component}reference")
                continue
            self.plb.append(ProviderAdjustment(
                provider_id=seg.get(1).strip(), fiscal_period_date=fiscal, reason=reason[0],
                reference=reason[1] if len(reason) > 1 else "",
                amount_cents=self.amount(seg, reason_at + 1), segment=seg.index))

    # -- closing loops ---------------------------------------------------------------------------
    def end_service(self) -> None:
        if self.service is None or self.claim is None:
            return
        s = self.service
        self.claim["services"].append(ServiceRemit(
            code=s["code"], modifiers=s["modifiers"], charge_cents=s["charge"],
            paid_cents=s["paid"], adjustments=tuple(s["cas"]), rarcs=tuple(s["rarcs"]),
            line_ref=s["ref"], original_code=s["original"], service_date=s["date"],
            units=s["units"], index=s["index"]))
        self.service = None

    def end_claim(self) -> None:
        self.end_service()
        if self.claim is None:
            return
        c = self.claim
        number = len(self.claims) + 1
        remit = ClaimRemit(
            claim_id=c["claim_id"], status_code=c["status"], charge_cents=c["charge"],
            paid_cents=c["paid"], patient_responsibility_cents=c["pr"],
            payer_claim_control_number=c["icn"], paid_on=date.min,
            source=f"era:{self.parsed.raw_sha256}:{self.st02}:CLP{number}",
            claim_adjustments=tuple(c["cas"]), services=tuple(c["services"]),
            claim_rarcs=tuple(c["rarcs"]))
        self.claims.append(RemittedClaim(
            remit=remit, segment=c["segment"].index, patient_name=c["patient"],
            member_id=c["member"], crossover_carrier=c["crossover"]))
        self.claim = None


def x12_date(text: str) -> date | None:
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
