"""Eligibility over X12 (005010X279A1): the 270 we write, the 271 we read.

A 270 asks one payer (2000A) on behalf of one provider (2000B) about subscribers (2000C) and,
when the patient is a dependent on someone else's policy, the dependent (2000D). The trace
number we put in TRN*1 of the patient's loop comes back in the 271's TRN*2, which is how an
answer finds its question (`domain.services.inquiries`).

A 271 answers with EB segments: EB01 1-5 is active coverage, 6-8 inactive; A coinsurance (EB08,
a decimal share: 0.2 = 20 %), B copay (EB07), C deductible and G out of pocket, with EB06=29
for what remains. Where a payer sends several (per service type, network, coverage level) we
take the one a physician office visit is billed under: service type 98 before 30 before any
other, in network (EB12 Y) before unspecified before out of network, individual before family.
AAA segments are rejections, with the reason (AAA03) and what to do (AAA04).

4010 files (004010X092A1) are refused with "unsupported version", before tokenizing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.money import AmountError, cents_from_x12
from domain.services.inquiries import (
    BenefitAnswer,
    EligibilityDocument,
    EligibilityQuestion,
    InquiryBatch,
    Person,
)
from importers.x12.era import Problem, _sniff_version, legacy_normalized_text, x12_date
from importers.x12.segments import (
    Segment,
    Separators,
    X12SyntaxError,
    decode,
    iter_transactions,
    tokenize,
)
from importers.x12.writer import (
    Party,
    SegmentWriter,
    close_transaction,
    d8,
    envelope,
    identifier,
    text,
)

VERSION = "005010X279A1"

ACTIVE_CODES = frozenset("12345")
INACTIVE_CODES = frozenset("678")

# AAA03 reject reasons and AAA04 follow-up actions (X12 005010X279A1), shortened.
REJECT_REASONS = {
    "04": "authorized quantity exceeded", "15": "required application data missing",
    "41": "authorization/access restrictions", "42": "unable to respond at current time",
    "43": "invalid/missing provider identification", "44": "invalid/missing provider name",
    "45": "invalid/missing provider specialty", "46": "invalid/missing provider phone number",
    "47": "invalid/missing provider state", "48": "invalid/missing referring provider id",
    "49": "provider is not primary care physician", "50": "provider ineligible for inquiries",
    "51": "provider not on file", "52": "service dates not within provider plan enrollment",
    "53": "inquired benefit inconsistent with provider type",
    "54": "inappropriate product/service id qualifier",
    "55": "inappropriate product/service id", "56": "inappropriate date",
    "57": "invalid/missing dates of service", "58": "invalid/missing date of birth",
    "60": "date of birth follows dates of service",
    "61": "date of death precedes dates of service",
    "62": "date of service not within allowable inquiry period",
    "63": "date of service in future", "64": "invalid/missing patient id",
    "65": "invalid/missing patient name", "66": "invalid/missing patient gender code",
    "67": "patient not found", "68": "duplicate patient id number",
    "69": "inconsistent with patient's age", "70": "inconsistent with patient's gender",
    "71": "patient birth date does not match the payer's",
    "72": "invalid/missing subscriber/insured id",
    "73": "invalid/missing subscriber/insured name",
    "74": "invalid/missing subscriber/insured gender code",
    "75": "subscriber/insured not found", "76": "duplicate subscriber/insured id number",
    "77": "subscriber found, patient not found",
    "78": "subscriber/insured not in group/plan identified",
    "79": "invalid participant identification",
    "80": "no response received, transaction terminated",
    "97": "invalid or missing provider address", "T4": "payer name or identifier missing",
}
FOLLOW_UP = {
    "C": "please correct and resubmit", "N": "resubmission not allowed",
    "P": "please resubmit original transaction", "R": "resubmission allowed",
    "S": "do not resubmit; inquiry initiated to a third party",
    "W": "please wait 30 days and resubmit", "X": "please wait 10 days and resubmit",
    "Y": "do not resubmit; we will hand off to the next payer",
}


def reject_reason(seg: Segment) -> str:
    code, action = seg.get(3).strip(), seg.get(4).strip()
    reason = f"AAA {code} {REJECT_REASONS.get(code, 'rejected')}".strip()
    return reason + (f" ({action}: {FOLLOW_UP.get(action, '')})".replace(": )", ")")
                     if action else "")


# -- the 270 -----------------------------------------------------------------------------------
def provider_name_parts(name: str, is_person: bool) -> tuple[str, str, str]:
    """NM102 and NM103/NM104 of a provider kept as one name ("WELBY, MARCUS")."""
    if not is_person:
        return "2", text(name, 60), ""
    last, _, first = name.partition(",") if "," in name else name.partition(" ")
    return "1", text(last, 60), text(first, 35)


def _trn03(npi: str) -> str:
    """TRN03: "9" (a user-assigned id) and nine digits of the provider's NPI."""
    digits = "".join(ch for ch in npi if ch.isdigit())
    return "9" + digits[:9].ljust(9, "0")


def _person_segments(w: SegmentWriter, entity: str, person: Person, member_id: str,
                     group_number: str) -> None:
    if member_id:
        w.add("NM1", entity, "1", text(person.last_name, 60), text(person.first_name, 35),
              text(person.middle_name, 25), "", "", "MI", identifier(member_id, "member id"))
        if group_number:
            w.add("REF", "6P", identifier(group_number, "group number"))
    else:
        w.add("NM1", entity, "1", text(person.last_name, 60), text(person.first_name, 35),
              text(person.middle_name, 25))
    if person.birth_date is not None:
        sex = person.sex if person.sex in ("F", "M", "U") else ""
        w.add("DMG", "D8", d8(person.birth_date), sex)


def _transaction_270(control: str, batch: InquiryBatch, payer_id: str, payer_name: str,
                     questions: list[EligibilityQuestion]) -> list[str]:
    w = SegmentWriter()
    w.add("ST", "270", control, VERSION)
    created = _midday(batch)
    w.add("BHT", "0022", "13", identifier(batch.batch_id, "batch id"), d8(created),
          created.strftime("%H%M"))
    w.add("HL", "1", "", "20", "1")
    w.add("NM1", "PR", "2", text(payer_name, 60) or payer_id, "", "", "", "", "PI",
          identifier(payer_id, "payer id"))
    w.add("HL", "2", "1", "21", "1")
    kind, last, first = provider_name_parts(batch.provider_name, batch.provider_is_person)
    w.add("NM1", "1P", kind, last, first, "", "", "", "XX",
          identifier(batch.provider_npi, "provider NPI"))
    number = 2
    originator = _trn03(batch.provider_npi)
    for q in questions:
        number += 1
        subscriber_hl = number
        dependent = q.patient is not None
        w.add("HL", str(subscriber_hl), "2", "22", "1" if dependent else "0")
        if not dependent:
            w.add("TRN", "1", identifier(q.trace, "trace number"), originator)
        _person_segments(w, "IL", q.subscriber, q.member_id, q.group_number)
        if not dependent:
            w.add("DTP", "291", "D8", d8(q.service_on))
            w.add("EQ", "30")
            continue
        assert q.patient is not None
        number += 1
        w.add("HL", str(number), str(subscriber_hl), "23", "0")
        w.add("TRN", "1", identifier(q.trace, "trace number"), originator)
        _person_segments(w, "03", q.patient, "", "")
        w.add("DTP", "291", "D8", d8(q.service_on))
        w.add("EQ", "30")
    return close_transaction(w, control)


def _midday(batch: InquiryBatch) -> datetime:
    day = batch.created_on
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


def write_270(batch: InquiryBatch, *, sender: Party, receiver: Party, usage: str = "P") -> str:
    """One interchange, one transaction set per payer, every question of the batch."""
    by_payer: dict[str, list[EligibilityQuestion]] = {}
    names: dict[str, str] = {}
    for question in batch.questions:
        by_payer.setdefault(question.payer_id, []).append(question)
        names[question.payer_id] = question.payer_name
    transactions = [_transaction_270(f"{index:04d}", batch, payer_id, names[payer_id], questions)
                    for index, (payer_id, questions) in enumerate(by_payer.items(), 1)]
    return envelope(sender=sender, receiver=receiver,
                    interchange_control=batch.interchange_control,
                    group_control=batch.interchange_control, created_at=_midday(batch),
                    functional_code="HS", version=VERSION, transactions=transactions,
                    usage=usage)


# -- reading 270/271 -----------------------------------------------------------------------------
@dataclass
class ParsedInquiry:
    """One 270, 271, 276 or 277 file, read."""

    name: str
    raw: bytes = field(repr=False)
    raw_sha256: str
    kind: str = ""
    version: str = ""
    separators: Separators | None = None
    segments: list[Segment] = field(default_factory=list, repr=False)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    content_sha256: str = ""
    items: list[Any] = field(default_factory=list)        # answers or questions
    level_notes: list[str] = field(default_factory=list)  # payer/receiver-level AAA or STC

    @property
    def sender(self) -> str:
        return self.segments[0].get(6).strip() if self.segments else ""

    @property
    def interchange_control(self) -> str:
        return self.segments[0].get(13).strip() if self.segments else ""


def read_sets(raw: bytes, name: str, set_id: str, version: str) -> tuple[
        ParsedInquiry, list[list[Segment]]]:
    """Tokenize a file and check each transaction set is the `set_id` of `version`."""
    parsed = ParsedInquiry(name=name, raw=raw, raw_sha256=hashlib.sha256(raw).hexdigest(),
                           kind=set_id)
    try:
        content = decode(raw, name)
    except X12SyntaxError as error:
        parsed.problems.append(Problem(0, str(error)))
        return parsed, []
    sniffed = _sniff_version(content)
    if sniffed and not sniffed.startswith(("00501", "005010")):
        parsed.version = sniffed
        parsed.problems.append(Problem(0, (
            f"unsupported version {sniffed}: claimdesk reads 5010 {set_id}s ({version}) only")))
        return parsed, []
    try:
        parsed.separators, parsed.segments = tokenize(content, name)
    except X12SyntaxError as error:
        parsed.problems.append(Problem(0, str(error)))
        return parsed, []
    sets: list[list[Segment]] = []
    bodies: list[str] = []
    try:
        transactions = list(iter_transactions(parsed.segments))
    except X12SyntaxError as error:
        parsed.problems.append(Problem(0, str(error)))
        return parsed, []
    for _isa, gs, st_segments in transactions:
        st = st_segments[0]
        found = st.get(3) or gs.get(8)
        parsed.version = parsed.version or found
        if st.get(1) != set_id:
            parsed.problems.append(Problem(st.index, (
                f"ST: transaction set {st.get(1)!r} is not a {set_id}"), st.line))
            continue
        if not found.startswith(version):
            parsed.problems.append(Problem(st.index, (
                f"ST: unsupported version {found or '(none)'}: claimdesk reads 5010 "
                f"{set_id}s ({version}) only"), st.line))
            continue
        sets.append(st_segments)
        # The key 271/277 files were recorded under: no fallback to it exists here yet.
        bodies.append(legacy_normalized_text(st_segments, parsed.separators))
    if not sets and not parsed.problems:
        parsed.problems.append(Problem(0, f"the file holds no {set_id} transaction set"))
    parsed.content_sha256 = hashlib.sha256("".join(bodies).encode()).hexdigest()
    return parsed, sets


def _repeats(value: str, separators: Separators) -> list[str]:
    if separators.repetition and separators.repetition in value:
        return [v for v in value.split(separators.repetition) if v]
    return [value] if value else []


@dataclass
class _Loop:
    level: str
    segment: int
    trace: str = ""
    member_id: str = ""
    name: str = ""
    rejections: list[str] = field(default_factory=list)
    benefits: list[dict[str, Any]] = field(default_factory=list)
    other_payers: list[dict[str, str]] = field(default_factory=list)
    parent: _Loop | None = None
    has_child: bool = False


def parse_271(raw: bytes, name: str = "<271>") -> ParsedInquiry:
    """Read a 271; `problems` is empty when its answers can be recorded."""
    parsed, sets = read_sets(raw, name, "271", VERSION)
    for st_segments in sets:
        _read_271_set(parsed, st_segments)
    return parsed


def _read_271_set(parsed: ParsedInquiry, segments: list[Segment]) -> None:
    assert parsed.separators is not None
    sep = parsed.separators
    payer = {"id": "", "name": ""}
    loops: dict[str, _Loop] = {}
    current: _Loop | None = None
    level = ""
    in_benefit = in_related = False
    answers: list[_Loop] = []

    for seg in segments[1:-1]:
        sid = seg.id
        if sid == "HL":
            level = seg.get(3)
            in_benefit = in_related = False
            if level in ("22", "23"):
                current = _Loop(level, seg.index, parent=loops.get(seg.get(2)))
                if current.parent is not None:
                    current.parent.has_child = True
                loops[seg.get(1)] = current
                answers.append(current)
            else:
                current = None
        elif sid == "NM1" and level == "20" and not payer["id"]:
            payer = {"id": seg.get(9).strip(), "name": seg.get(3).strip()}
        elif sid == "AAA" and current is None:
            where = "payer" if level == "20" else "information receiver"
            parsed.level_notes.append(f"{where} (segment {seg.index}): {reject_reason(seg)}")
        elif current is None:
            continue
        elif sid == "TRN" and seg.get(1) == "2":
            current.trace = seg.get(2).strip()
        elif sid == "NM1" and in_related:
            role = seg.get(1)
            current.other_payers.append({
                "role": role, "name": seg.get(3).strip(),
                "payer_id": seg.get(9).strip() if seg.get(8) in ("PI", "XV", "NI") else ""})
        elif sid == "NM1" and not in_benefit:
            current.name = " ".join(p for p in (seg.get(3).strip(), seg.get(4).strip()) if p)
            current.member_id = seg.get(9).strip() or (
                current.parent.member_id if current.parent else "")
        elif sid == "AAA":
            if in_benefit:
                parsed.warnings.append(f"segment {seg.index}: benefit inquiry not answered: "
                                       f"{reject_reason(seg)}")
            else:
                current.rejections.append(reject_reason(seg))
        elif sid == "EB":
            in_benefit, in_related = True, False
            current.benefits.append(_benefit(parsed, seg, sep))
        elif sid == "LS":
            in_related = True
        elif sid == "LE":
            in_related = False
    for loop in answers:
        if loop.has_child and not (loop.trace or loop.benefits or loop.rejections):
            continue    # a subscriber loop that only carries its dependents
        parsed.items.append(_answer(parsed, loop, payer))


def _benefit(parsed: ParsedInquiry, seg: Segment, sep: Separators) -> dict[str, Any]:
    amount: int | None = None
    if seg.get(7).strip():
        try:
            amount = int(cents_from_x12(seg.get(7).strip()))
        except AmountError as error:
            parsed.problems.append(Problem(seg.index, f"EB07 {error}", seg.line))
    percent: int | None = None
    if seg.get(8).strip():
        try:
            share = Decimal(seg.get(8).strip()) * 100
        except InvalidOperation:
            parsed.problems.append(Problem(seg.index, f"EB08 {seg.get(8)!r} is not a decimal",
                                           seg.line))
        else:
            if share == share.to_integral_value() and 0 <= share <= 100:
                percent = int(share)
            else:
                parsed.warnings.append(f"segment {seg.index}: EB08 {seg.get(8)} is not a whole "
                                       "percent between 0 and 100; not recorded")
    return {"code": seg.get(1).strip(), "level": seg.get(2).strip(),
            "services": _repeats(seg.get(3).strip(), sep), "plan": seg.get(5).strip(),
            "period": seg.get(6).strip(), "amount": amount, "percent": percent,
            "network": seg.get(12).strip(), "segment": seg.index}


def _rank(benefit: dict[str, Any]) -> tuple[int, int, int]:
    services = benefit["services"]
    service = 0 if "98" in services else 1 if ("30" in services or not services) else 2
    network = {"Y": 0, "": 1, "W": 1, "U": 1}.get(benefit["network"], 2)
    level = 0 if benefit["level"] in ("IND", "") else 1
    return network, service, level


def _pick(benefits: Iterable[dict[str, Any]], *, code: str, field_name: str,
          period: str | None = None) -> Any:
    candidates = [b for b in benefits if b["code"] == code and b[field_name] is not None
                  and (period is None or b["period"] == period)]
    return min(candidates, key=_rank)[field_name] if candidates else None


def _answer(parsed: ParsedInquiry, loop: _Loop, payer: dict[str, str]) -> BenefitAnswer:
    statuses = [b for b in loop.benefits if b["code"] in ACTIVE_CODES | INACTIVE_CODES]
    active: bool | None = None
    if statuses:
        active = any(b["code"] in ACTIVE_CODES for b in statuses)
    plans = [b["plan"] for b in statuses if b["plan"]] or [
        b["plan"] for b in loop.benefits if b["plan"]]
    return BenefitAnswer(
        trace=loop.trace, payer_id=payer["id"], payer_name=payer["name"],
        member_id=loop.member_id, name=loop.name, active=active,
        plan_name=plans[0] if plans else "",
        copay_cents=_pick(loop.benefits, code="B", field_name="amount"),
        coinsurance_percent=_pick(loop.benefits, code="A", field_name="percent"),
        deductible_remaining_cents=_pick(loop.benefits, code="C", field_name="amount",
                                         period="29"),
        out_of_pocket_remaining_cents=_pick(loop.benefits, code="G", field_name="amount",
                                            period="29"),
        rejections=tuple(loop.rejections), other_payers=tuple(loop.other_payers),
        segment=loop.segment)


def eligibility_document(parsed: ParsedInquiry) -> EligibilityDocument:
    return EligibilityDocument(
        name=parsed.name, raw=parsed.raw, raw_sha256=parsed.raw_sha256,
        content_sha256=parsed.content_sha256, sender=parsed.sender,
        interchange_control=parsed.interchange_control, answers=tuple(parsed.items),
        rejections=tuple(parsed.level_notes))


# -- reading a 270 (the sandbox payer's side) ----------------------------------------------------
@dataclass
class Inquiry270:
    """One patient asked about in a 270."""

    trace: str
    payer_id: str
    payer_name: str
    provider_npi: str
    provider_name: str
    member_id: str
    subscriber: tuple[str, str]              # last, first
    patient: tuple[str, str] | None          # when a dependent
    birth_date: Any = None
    service_on: Any = None
    originator: str = ""


def parse_270(raw: bytes, name: str = "<270>") -> tuple[ParsedInquiry, list[Inquiry270]]:
    parsed, sets = read_sets(raw, name, "270", VERSION)
    found: list[Inquiry270] = []
    for segments in sets:
        payer = ("", "")
        provider = ("", "")
        current: Inquiry270 | None = None
        subscriber: dict[str, Any] = {}
        level = ""
        for seg in segments[1:-1]:
            if seg.id == "HL":
                level = seg.get(3)
                if current is not None and current.trace:
                    found.append(current)
                current = None
                if level in ("22", "23"):
                    current = Inquiry270("", payer[0], payer[1], provider[0], provider[1],
                                         subscriber.get("member", ""),
                                         subscriber.get("name", ("", "")),
                                         None if level == "22" else ("", ""))
            elif seg.id == "NM1" and level == "20":
                payer = (seg.get(9).strip(), seg.get(3).strip())
            elif seg.id == "NM1" and level == "21":
                provider = (seg.get(9).strip(), seg.get(3).strip())
            elif current is None:
                continue
            elif seg.id == "TRN":
                current.trace, current.originator = seg.get(2).strip(), seg.get(3).strip()
            elif seg.id == "NM1" and level == "22":
                subscriber = {"member": seg.get(9).strip(),
                              "name": (seg.get(3).strip(), seg.get(4).strip())}
                current.member_id, current.subscriber = subscriber["member"], subscriber["name"]
            elif seg.id == "NM1":
                current.patient = (seg.get(3).strip(), seg.get(4).strip())
            elif seg.id == "DMG":
                current.birth_date = x12_date(seg.get(2))
            elif seg.id == "DTP" and seg.get(1) == "291":
                current.service_on = x12_date(seg.get(3)[:8])
        if current is not None and current.trace:
            found.append(current)
    return parsed, found
