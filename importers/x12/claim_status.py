"""Claim status over X12 (005010X212): the 276 we write, the 277 we read.

A 276 asks a payer (2000A), through our clearinghouse id (2000B), for a billing provider's
(2000C) claims, each under its subscriber (2000D) or dependent (2000E): TRN*1 our trace
number, REF*EJ our claim id (CLM01), REF*1K the payer's claim number when we have it, AMT*T3
the charge and DTP*472 the dates of service. The 277 echoes the trace in TRN*2 and answers
with STC: STC01 is ``category:status[:entity]`` (A4 not found, P1 pending, F1 finalized and
paid...), STC02 the date of the status, STC04/STC05 the charge and the payment.

Service-line STCs (2220) are kept in the notes; statuses at the receiver or provider level
(2200B/2200C) apply to no claim and are reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from domain.money import AmountError, cents_from_x12
from domain.services.inquiries import InquiryBatch, Person, StatusAnswer, StatusDocument
from importers.x12.eligibility import ParsedInquiry, provider_name_parts, read_sets
from importers.x12.era import Problem, x12_date
from importers.x12.segments import Segment
from importers.x12.writer import (
    Party,
    SegmentWriter,
    amount,
    close_transaction,
    d8,
    envelope,
    identifier,
    text,
)

VERSION = "005010X212"

# STC01-1 categories (X12 code source 507), shortened.
CATEGORIES = {
    "A0": "forwarded to another entity", "A1": "received", "A2": "accepted into adjudication",
    "A3": "returned as unprocessable", "A4": "not found", "A5": "split claim",
    "A6": "rejected for missing information", "A7": "rejected for invalid information",
    "A8": "rejected for relational field in error", "D0": "data search unsuccessful",
    "E0": "response not possible: error on submitted request data",
    "E1": "response not possible: system status", "E2": "information holder not responding",
    "E3": "correction required: relational fields in error",
    "E4": "trading partner agreement requirement not met", "F0": "finalized",
    "F1": "finalized: payment", "F2": "finalized: denial", "F3": "finalized: revised",
    "F3F": "finalized: forwarded", "F3N": "finalized: not forwarded",
    "F4": "finalized: adjudication complete, no payment forthcoming",
    "P0": "pending: adjudication", "P1": "pending: in process", "P2": "pending: payer review",
    "P3": "pending: provider requested information",
    "P4": "pending: patient requested information", "P5": "pending: payer administrative",
    "R0": "request for additional information: general", "RQ": "general request",
}


def describe(status: str) -> str:
    category = status.split(":", maxsplit=1)[0]
    return f"{status} {CATEGORIES.get(category, '')}".strip()


# -- the 276 -----------------------------------------------------------------------------------
def _patient_segments(w: SegmentWriter, entity: str, person: Person, member_id: str) -> None:
    if person.birth_date is not None:
        w.add("DMG", "D8", d8(person.birth_date),
              person.sex if person.sex in ("F", "M", "U") else "")
    if member_id:
        w.add("NM1", entity, "1", text(person.last_name, 60), text(person.first_name, 35),
              text(person.middle_name, 25), "", "", "MI", identifier(member_id, "member id"))
    else:
        w.add("NM1", entity, "1", text(person.last_name, 60), text(person.first_name, 35),
              text(person.middle_name, 25))


def _claim_segments(w: SegmentWriter, question: Any) -> None:
    w.add("TRN", "1", identifier(question.trace, "trace number"))
    if question.payer_claim_control_number:
        w.add("REF", "1K", identifier(question.payer_claim_control_number,
                                      "payer claim control number"))
    w.add("REF", "EJ", identifier(question.claim_id, "claim id"))
    w.add("AMT", "T3", amount(question.charge_cents))
    if question.service_from == question.service_to:
        w.add("DTP", "472", "D8", d8(question.service_from))
    else:
        w.add("DTP", "472", "RD8", f"{d8(question.service_from)}-{d8(question.service_to)}")


def _midday(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


def _transaction_276(control: str, batch: InquiryBatch, submitter: Party, payer_id: str,
                     payer_name: str, questions: list[Any]) -> list[str]:
    w = SegmentWriter()
    w.add("ST", "276", control, VERSION)
    created = _midday(batch.created_on)
    w.add("BHT", "0010", "13", identifier(batch.batch_id, "batch id"), d8(created),
          created.strftime("%H%M"))
    w.add("HL", "1", "", "20", "1")
    w.add("NM1", "PR", "2", text(payer_name, 60) or payer_id, "", "", "", "", "PI",
          identifier(payer_id, "payer id"))
    w.add("HL", "2", "1", "21", "1")
    w.add("NM1", "41", "2", text(submitter.name, 60) or submitter.id, "", "", "", "", "46",
          identifier(submitter.id, "submitter id"))
    w.add("HL", "3", "2", "19", "1")
    kind, last, first = provider_name_parts(batch.provider_name, batch.provider_is_person)
    w.add("NM1", "1P", kind, last, first, "", "", "", "XX",
          identifier(batch.provider_npi, "provider NPI"))
    number = 3
    for q in questions:
        number += 1
        subscriber_hl = number
        dependent = q.patient is not None
        w.add("HL", str(number), "3", "22", "1" if dependent else "0")
        if dependent:
            # The subscriber's demographics are not needed when the patient is a dependent.
            w.add("NM1", "IL", "1", text(q.subscriber.last_name, 60),
                  text(q.subscriber.first_name, 35), text(q.subscriber.middle_name, 25), "", "",
                  "MI", identifier(q.member_id, "member id"))
            number += 1
            w.add("HL", str(number), str(subscriber_hl), "23")
            _patient_segments(w, "QC", q.patient, "")
        else:
            _patient_segments(w, "IL", q.subscriber, q.member_id)
        _claim_segments(w, q)
    return close_transaction(w, control)


def write_276(batch: InquiryBatch, *, sender: Party, receiver: Party, usage: str = "P") -> str:
    """One interchange, one transaction set per payer."""
    by_payer: dict[str, list[Any]] = {}
    names: dict[str, str] = {}
    for question in batch.questions:
        by_payer.setdefault(question.payer_id, []).append(question)
        names[question.payer_id] = question.payer_name
    transactions = [_transaction_276(f"{index:04d}", batch, sender, payer_id, names[payer_id],
                                     questions)
                    for index, (payer_id, questions) in enumerate(by_payer.items(), 1)]
    return envelope(sender=sender, receiver=receiver,
                    interchange_control=batch.interchange_control,
                    group_control=batch.interchange_control,
                    created_at=_midday(batch.created_on), functional_code="HR", version=VERSION,
                    transactions=transactions, usage=usage)


# -- the 277 -----------------------------------------------------------------------------------
def _stc(seg: Segment, component: str) -> list[str]:
    return [":".join(c.strip() for c in seg.get(position).split(component)).rstrip(":")
            for position in (1, 10, 11) if seg.get(position).strip()]


def _cents(parsed: ParsedInquiry, seg: Segment, position: int) -> int | None:
    value = seg.get(position).strip()
    if not value:
        return None
    try:
        return int(cents_from_x12(value))
    except AmountError as error:
        parsed.problems.append(Problem(seg.index, f"{seg.id}{position:02d} {error}", seg.line))
        return None


def parse_277(raw: bytes, name: str = "<277>") -> ParsedInquiry:
    """Read a 277 (X212); `problems` is empty when its statuses can be recorded."""
    parsed, sets = read_sets(raw, name, "277", VERSION)
    for segments in sets:
        _read_277_set(parsed, segments)
    return parsed


def _read_277_set(parsed: ParsedInquiry, segments: list[Segment]) -> None:
    assert parsed.separators is not None
    component = parsed.separators.component
    payer_id = ""
    level = ""
    claim: dict[str, Any] | None = None
    in_line = False

    def close() -> None:
        nonlocal claim
        if claim is None:
            return
        if not claim["statuses"]:
            parsed.problems.append(Problem(claim["segment"], "TRN*2 claim answer without STC"))
        else:
            parsed.items.append(StatusAnswer(
                trace=claim["trace"], claim_id=claim["claim_id"], payer_id=payer_id,
                statuses=tuple(claim["statuses"]),
                payer_claim_control_number=claim["icn"], status_on=claim["on"],
                charge_cents=claim["charge"], paid_cents=claim["paid"],
                segment=claim["segment"]))
        claim = None

    for seg in segments[1:-1]:
        if seg.id == "HL":
            close()
            level, in_line = seg.get(3), False
        elif seg.id == "NM1" and level == "20" and not payer_id:
            payer_id = seg.get(9).strip()
        elif seg.id == "TRN" and level in ("22", "23"):
            close()
            in_line = False
            claim = {"trace": seg.get(2).strip(), "claim_id": "", "statuses": [], "icn": "",
                     "on": None, "charge": None, "paid": None, "segment": seg.index}
        elif seg.id == "STC" and claim is None:
            where = {"20": "payer", "21": "information receiver", "19": "provider"}.get(
                level, f"HL {level}")
            parsed.level_notes.append(f"{where} (segment {seg.index}): " + ", ".join(
                describe(s) for s in _stc(seg, component)))
        elif claim is None:
            continue
        elif seg.id == "STC" and in_line:
            parsed.warnings.append(f"segment {seg.index}: service line status " + ", ".join(
                describe(s) for s in _stc(seg, component)))
        elif seg.id == "STC":
            claim["statuses"] += _stc(seg, component)
            claim["on"] = claim["on"] or x12_date(seg.get(2))
            if claim["charge"] is None:
                claim["charge"] = _cents(parsed, seg, 4)
                claim["paid"] = _cents(parsed, seg, 5)
        elif seg.id == "REF" and seg.get(1) == "1K" and not in_line:
            claim["icn"] = seg.get(2).strip()
        elif seg.id == "REF" and seg.get(1) == "EJ" and not in_line:
            claim["claim_id"] = seg.get(2).strip()
        elif seg.id == "SVC":
            in_line = True
    close()


def status_document(parsed: ParsedInquiry) -> StatusDocument:
    return StatusDocument(
        name=parsed.name, raw=parsed.raw, raw_sha256=parsed.raw_sha256,
        content_sha256=parsed.content_sha256, sender=parsed.sender,
        interchange_control=parsed.interchange_control, answers=tuple(parsed.items),
        level_statuses=tuple(parsed.level_notes))


# -- reading a 276 (the sandbox payer's side) ----------------------------------------------------
@dataclass
class Inquiry276:
    """One claim asked about in a 276."""

    trace: str
    claim_id: str
    payer_id: str
    payer_name: str
    provider_npi: str
    provider_name: str
    submitter: tuple[str, str]                # id, name
    member_id: str
    subscriber: tuple[str, str]
    patient: tuple[str, str] | None
    payer_claim_control_number: str = ""
    charge_cents: int | None = None
    service_from: date | None = None
    service_to: date | None = None


def parse_276(raw: bytes, name: str = "<276>") -> tuple[ParsedInquiry, list[Inquiry276]]:
    parsed, sets = read_sets(raw, name, "276", VERSION)
    found: list[Inquiry276] = []
    for segments in sets:
        context: dict[str, Any] = {"payer": ("", ""), "provider": ("", ""),
                                   "submitter": ("", ""), "subscriber": ("", "", "")}
        level = ""
        current: Inquiry276 | None = None
        patient: tuple[str, str] | None = None
        for seg in segments[1:-1]:
            if seg.id == "HL":
                level = seg.get(3)
                current, patient = None, None
            elif seg.id == "NM1":
                who = (seg.get(3).strip(), seg.get(4).strip())
                if level == "20":
                    context["payer"] = (seg.get(9).strip(), who[0])
                elif level == "21":
                    context["submitter"] = (seg.get(9).strip(), who[0])
                elif level == "19":
                    context["provider"] = (seg.get(9).strip(), who[0])
                elif level == "22":
                    context["subscriber"] = (*who, seg.get(9).strip())
                elif level == "23":
                    patient = who
            elif seg.id == "TRN":
                last, first, member = context["subscriber"]
                current = Inquiry276(
                    trace=seg.get(2).strip(), claim_id="", payer_id=context["payer"][0],
                    payer_name=context["payer"][1], provider_npi=context["provider"][0],
                    provider_name=context["provider"][1], submitter=context["submitter"],
                    member_id=member, subscriber=(last, first), patient=patient)
                found.append(current)
            elif current is None:
                continue
            elif seg.id == "REF" and seg.get(1) == "EJ":
                current.claim_id = seg.get(2).strip()
            elif seg.id == "REF" and seg.get(1) == "1K":
                current.payer_claim_control_number = seg.get(2).strip()
            elif seg.id == "AMT" and seg.get(1) == "T3":
                current.charge_cents = _cents(parsed, seg, 2)
            elif seg.id == "DTP" and seg.get(1) == "472" and current.service_from is None:
                value = seg.get(3)
                current.service_from = x12_date(value[:8])
                current.service_to = x12_date(value[-8:])
    return parsed, found
