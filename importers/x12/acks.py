"""999 and 277CA acknowledgements: X12 text to the ledger's accept/reject records.

A 999 (005010X231A1) answers for the transaction sets of one of our 837 groups: AK1 echoes
our GS01/GS06, each AK2 our ST01/ST02, and IK5 says accepted (A, E) or rejected (R, M, W, X),
with IK3/IK4/CTX telling where; AK9 gives the group's verdict. A 277CA (005010X214) answers per
claim: in the patient loop (HL level PT) TRN*2 echoes our CLM01 and STC01-1 is the category
(A1 received, A2 accepted, A3/A6/A7/A8 rejected, A4 not found); at the receiver level (HL 21)
TRN*2 echoes our batch (BHT03). DOMAIN.md §6.

`parse_acknowledgement` never touches the ledger; `import_acknowledgements` on the ledger does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from domain.remittance_file import (
    AcknowledgementDocument,
    AcknowledgementFile,
    ClaimAcknowledgement,
    SetAcknowledgement,
)
from importers.x12.era import Problem, ValidationPolicy, normalized_texts, x12_date
from importers.x12.segments import (
    Segment,
    Separators,
    X12SyntaxError,
    decode,
    iter_transactions,
    tokenize,
)

KIND_999, KIND_277CA = "999", "277CA"
VERSIONS = {KIND_999: "005010X231", KIND_277CA: "005010X214"}

# Errors in the context segments (CTX, IK3/IK4 detail) only change the reasons we print.
VALIDATION_POLICIES = {
    KIND_999: ValidationPolicy(read={"AK1": None, "AK2": None, "IK5": None, "AK9": None},
                               loose=frozenset({"CTX", "IK3", "IK4"})),
    # A status missing at the billing-provider level says nothing about a claim; a claim
    # without its TRN or STC is the parser's own refusal.
    KIND_277CA: ValidationPolicy(read={"HL": None, "TRN": None, "STC": None},
                                 required=frozenset()),
}

# X12 code lists (999 IK5/AK5, IK3 and IK4 codes), shortened.
SET_ERRORS = {
    "1": "transaction set not supported", "2": "transaction set trailer missing",
    "3": "ST02 and SE02 do not match", "4": "segment count (SE01) does not match",
    "5": "one or more segments in error", "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "18": "transaction set not in functional group",
    "19": "invalid implementation convention reference",
    "23": "transaction set control number not unique within the group",
    "I5": "implementation: one or more segments in error",
    "I6": "implementation convention not supported",
}
SEGMENT_ERRORS = {
    "1": "unrecognized segment id", "2": "unexpected segment", "3": "required segment missing",
    "4": "loop occurs over maximum times", "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set", "7": "segment not in proper sequence",
    "8": "segment has data element errors", "I4": "'not used' segment present",
    "I6": "implementation dependent segment missing", "I7": "loop occurs under minimum times",
    "I8": "segment below minimum use", "I9": "dependent 'not used' segment present",
}
ELEMENT_ERRORS = {
    "1": "required data element missing", "2": "conditional required data element missing",
    "3": "too many data elements", "4": "data element too short",
    "5": "data element too long", "6": "invalid character in data element",
    "7": "invalid code value", "8": "invalid date", "9": "invalid time",
    "10": "exclusion condition violated", "12": "too many repetitions",
    "13": "too many components", "I10": "'not used' data element present",
    "I11": "too few repetitions", "I12": "pattern match failure",
    "I13": "dependent 'not used' data element present",
    "I6": "code value not used in implementation", "I9": "dependent data element missing",
}


@dataclass
class ParsedAck:
    """One 999 or 277CA file, read."""

    name: str
    raw: bytes = field(repr=False)
    raw_sha256: str
    kind: str = ""
    separators: Separators | None = None
    segments: list[Segment] = field(default_factory=list, repr=False)
    sets: list[SetAcknowledgement] = field(default_factory=list)
    claims: list[ClaimAcknowledgement] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    content_sha256: str = ""
    legacy_content_sha256: str = ""   # as claimdesk computed it before (era.normalized_texts)

    @property
    def document(self) -> AcknowledgementDocument:
        isa = self.segments[0] if self.segments else None
        gs = next((s for s in self.segments if s.id == "GS"), None)
        return AcknowledgementDocument(
            kind=self.kind, name=self.name, raw=self.raw, raw_sha256=self.raw_sha256,
            content_sha256=self.content_sha256,
            sender=isa.get(6).strip() if isa else "",
            interchange_control=isa.get(13).strip() if isa else "",
            received_on=x12_date(gs.get(4)) if gs else None,
            sets=tuple(self.sets), claims=tuple(self.claims))

    def document_for(self, ledger: Any) -> AcknowledgementDocument:
        """`document`, keyed as `ledger` (a BillingLedger) holds it: a file imported before
        the content hash changed is known by its legacy hash only, and must be found imported."""
        legacy = self.legacy_content_sha256
        if legacy and legacy != self.content_sha256 and (
                AcknowledgementFile.create_id(self.kind, legacy) in ledger.repository):
            return replace(self.document, content_sha256=legacy)
        return self.document

    @property
    def policy(self) -> ValidationPolicy:
        return VALIDATION_POLICIES[self.kind]


def parse_acknowledgement(raw: bytes, name: str = "<input>",
                          expect: str | None = None) -> ParsedAck:
    """Read a 999 or 277CA (`expect` one of them to refuse the other)."""
    parsed = ParsedAck(name=name, raw=raw, raw_sha256=hashlib.sha256(raw).hexdigest())
    try:
        parsed.separators, parsed.segments = tokenize(decode(raw, name), name)
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
        return parsed
    bodies, legacy_bodies = [], []
    for _isa, gs, st_segments in sets:
        kind = _kind_of(parsed, gs, st_segments[0])
        if not kind:
            continue
        if expect and kind != expect:
            parsed.problems.append(Problem(st_segments[0].index, (
                f"this is a {kind}, not a {expect}"), st_segments[0].line))
            continue
        if parsed.kind and kind != parsed.kind:
            parsed.problems.append(Problem(st_segments[0].index,
                                           f"a {kind} set in a {parsed.kind} file"))
            continue
        parsed.kind = kind
        body, legacy = normalized_texts(st_segments, st_segments[0].separators)
        bodies.append(body)
        legacy_bodies.append(legacy)
        if kind == KIND_999:
            _read_999(parsed, st_segments)
        else:
            _read_277ca(parsed, st_segments)
    parsed.content_sha256 = hashlib.sha256("".join(bodies).encode("utf-8")).hexdigest()
    parsed.legacy_content_sha256 = hashlib.sha256(
        "".join(legacy_bodies).encode("utf-8")).hexdigest() if legacy_bodies != bodies else (
        parsed.content_sha256)
    return parsed


def _kind_of(parsed: ParsedAck, gs: Segment, st: Segment) -> str:
    version = st.get(3) or gs.get(8)
    if st.get(1) == "999":
        kind = KIND_999
    elif st.get(1) == "277" and version.startswith(VERSIONS[KIND_277CA]):
        kind = KIND_277CA
    elif st.get(1) == "277":
        parsed.problems.append(Problem(st.index, (
            f"ST: a 277 {version or ''} claim status response is not a 277CA "
            f"({VERSIONS[KIND_277CA]}) acknowledgement"), st.line))
        return ""
    else:
        parsed.problems.append(Problem(st.index, (
            f"ST: transaction set {st.get(1)!r} is not a 999 or 277CA"), st.line))
        return ""
    if not version.startswith(VERSIONS[kind]):
        parsed.problems.append(Problem(st.index, (
            f"ST: unsupported version {version or '(none)'}: claimdesk reads 5010 {kind}s "
            f"({VERSIONS[kind]}) only"), st.line))
        return ""
    return kind


def _code(table: dict[str, str], code: str) -> str:
    return f"{code} {table[code]}" if code in table else code


def _read_999(parsed: ParsedAck, segments: list[Segment]) -> None:
    group: dict[str, Any] = {}
    current: dict[str, Any] | None = None
    group_sets = 0
    for seg in segments[1:-1]:
        if seg.id == "AK1":
            group = {"functional_id": seg.get(1).strip(), "control": seg.get(2).strip()}
            group_sets = 0
        elif seg.id == "AK2":
            current = {"control": seg.get(2).strip(), "reasons": [], "segment": seg.index}
        elif seg.id == "IK3" and current is not None:
            loop = f" in loop {seg.get(3)}" if seg.get(3) else ""
            current["reasons"].append(
                f"IK3 {seg.get(1)} (segment {seg.get(2)} of the set{loop}): "
                f"{_code(SEGMENT_ERRORS, seg.get(4))}")
        elif seg.id == "IK4" and current is not None:
            value = f" value {seg.get(4)!r}" if seg.get(4) else ""
            current["reasons"].append(
                f"IK4 element {seg.get(1)} (DE {seg.get(2)}){value}: "
                f"{_code(ELEMENT_ERRORS, seg.get(3))}")
        elif seg.id == "CTX" and current is not None:
            current["reasons"].append(f"CTX {seg.get(1)}")
        elif seg.id == "IK5":
            if current is None or not group:
                parsed.problems.append(Problem(seg.index, "IK5 outside an AK1/AK2 loop",
                                               seg.line))
                continue
            codes = [_code(SET_ERRORS, seg.get(i)) for i in range(2, 7) if seg.get(i)]
            parsed.sets.append(SetAcknowledgement(
                functional_id=group["functional_id"], group_control=group["control"],
                transaction_control=current["control"], code=seg.get(1),
                reasons=tuple(codes + current["reasons"]), segment=current["segment"]))
            group_sets += 1
            current = None
        elif seg.id == "AK9":
            if not group:
                parsed.problems.append(Problem(seg.index, "AK9 without AK1", seg.line))
                continue
            if group_sets == 0:
                # No AK2 detail: the group's verdict speaks for every set in it.
                parsed.sets.append(SetAcknowledgement(
                    functional_id=group["functional_id"], group_control=group["control"],
                    transaction_control="", code=seg.get(1),
                    reasons=tuple(f"AK9 {seg.get(i)}" for i in range(5, 10) if seg.get(i)),
                    segment=seg.index))


def _read_277ca(parsed: ParsedAck, segments: list[Segment]) -> None:
    component = segments[0].separators.component   # its interchange's own
    batch_of: dict[str, str] = {}         # HL01 -> the receiver-level batch id above it
    loop: dict[str, Any] | None = None

    def close() -> None:
        if loop is None:
            return
        if loop["level"] not in ("21", "PT"):
            return
        if not loop["statuses"]:
            parsed.warnings.append(f"segment {loop['segment']}: HL {loop['level']} without "
                                   "STC; no status to apply")
            return
        if loop["level"] == "PT" and not loop["trn"]:
            parsed.problems.append(Problem(loop["segment"], "HL PT: no TRN*2 (our claim id)"))
            return
        parsed.claims.append(ClaimAcknowledgement(
            claim_id=loop["trn"] if loop["level"] == "PT" else "",
            batch_id=loop["trn"] if loop["level"] == "21" else loop["batch"],
            statuses=tuple(loop["statuses"]), payer_claim_control_number=loop["icn"],
            effective_on=loop["date"], segment=loop["segment"]))

    for seg in segments[1:-1]:
        if seg.id == "HL":
            close()
            number, parent, level = seg.get(1), seg.get(2), seg.get(3)
            batch_of[number] = batch_of.get(parent, "")
            loop = {"level": level, "number": number, "trn": "", "statuses": [], "icn": "",
                    "date": None, "segment": seg.index, "batch": batch_of[number]}
        elif loop is None:
            continue
        elif seg.id == "TRN" and seg.get(1) == "2":
            loop["trn"] = seg.get(2).strip()
            if loop["level"] == "21":
                batch_of[loop["number"]] = loop["trn"]
        elif seg.id == "STC":
            for position in (1, 10, 11):
                composite = seg.get(position)
                if composite:
                    loop["statuses"].append(":".join(
                        c.strip() for c in composite.split(component)))
            loop["date"] = loop["date"] or x12_date(seg.get(2))
        elif seg.id == "REF" and seg.get(1) == "1K":
            loop["icn"] = seg.get(2).strip()
    close()

