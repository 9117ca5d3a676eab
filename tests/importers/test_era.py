"""835 parsing and balancing: exact cents, payers' separators and layouts, refusals with figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from importers.x12.era import VALIDATION_POLICY, balance_problems, parse_835
from importers.x12.validate import ELEMENT, ENVELOPE, SEGMENT, ValidationIssue, validate

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "domain-examples"

WORKED_CLAIM = [
    "CLP*PCN20250115001*1*200*80*50*12*PAYERCLM0001*11*1",
    "NM1*QC*1*DOE*JOHN****MI*W123456789",
    "SVC*HC:99214:25*150*80**1", "DTM*472*20250110", "CAS*CO*45*50", "CAS*PR*2*20",
    "AMT*B6*100",
    "SVC*HC:93000*50*0**1", "DTM*472*20250110", "CAS*CO*45*20", "CAS*PR*1*30", "AMT*B6*30",
]


def build_835(
    claims: Sequence[str] = tuple(WORKED_CLAIM), *, payment: str = "80",
    trace: str = "CHK00012345", payer_id: str = "1512345678", plb: Sequence[str] = (),
    control: str = "0001", interchange: str = "000000101", paid_on: str = "20250130",
    element: str = "*", component: str = ":", terminator: str = "~", between: str = "",
    se_count: int | None = None, sets: int = 1,
) -> bytes:
    """A valid 5010 835 around `claims` (segments written with * and :), one payment per set.

    `element`, `component`, `terminator` and `between` (text after each terminator) rewrite
    it as a payer with other habits would send it.
    """
    def body(number: int) -> list[str]:
        segments = [
            f"ST*835*{int(control) + number:04d}",
            f"BPR*I*{payment}*C*CHK************{paid_on}",
            f"TRN*1*{trace}{'' if number == 0 else number}*{payer_id}",
            "DTM*405*20250129", "N1*PR*ACME HEALTH PLAN", "N3*1 PAYER WAY",
            "N4*HARTFORD*CT*06101", "PER*BL*EDI SUPPORT*TE*8005551212",
            "N1*PE*ACME MEDICAL GROUP*XX*1234567893", "LX*1", *claims, *plb]
        count = len(segments) + 1 if se_count is None else se_count
        return [*segments, f"SE*{count}*{int(control) + number:04d}"]

    transactions = [segment for number in range(sets) for segment in body(number)]
    segments = [
        f"ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*ACMERECEIVER   *250301*0900*^*"
        f"00501*{interchange}*0*T*:",
        f"GS*HP*PAYERSENDER*ACMERECEIVER*20250301*0900*{int(interchange)}*X*005010X221A1",
        *transactions, f"GE*{sets}*{int(interchange)}", f"IEA*1*{interchange}"]
    text = "".join(s.replace(":", component).replace("*", element) + terminator + between
                   for s in segments)
    return text.encode("ascii")


class TestReading:
    def test_the_worked_example_reads_to_exact_cents(self) -> None:
        parsed = parse_835((EXAMPLES / "835_min.x12").read_bytes(), "835_min.x12")
        assert parsed.problems == []
        (advice,) = parsed.advices
        assert (advice.payment_cents, advice.trace_number, advice.payer_id) == (
            8000, "CHK00012345", "1512345678")
        assert advice.paid_on == date(2025, 1, 30)
        (claim,) = advice.claims
        remit = claim.remit
        assert (remit.claim_id, remit.status_code, remit.charge_cents, remit.paid_cents,
                remit.patient_responsibility_cents, remit.payer_claim_control_number) == (
            "PCN20250115001", "1", 20000, 8000, 5000, "PAYERCLM0001")
        first, second = remit.services
        assert (first.code, first.modifiers, first.charge_cents, first.paid_cents) == (
            "99214", ("25",), 15000, 8000)
        assert [(a.group, a.carc, a.amount_cents) for a in first.adjustments] == [
            ("CO", "45", 5000), ("PR", "2", 2000)]
        assert second.service_date == date(2025, 1, 10)
        assert remit.paid_on == date(2025, 1, 30)
        assert remit.source == f"era:{parsed.raw_sha256}:0001:CLP1"
        assert claim.patient_name == "DOE, JOHN" and claim.member_id == "W123456789"

    def test_the_reversal_file_reads_negative_amounts_then_the_correction(self) -> None:
        parsed = parse_835((EXAMPLES / "835_reversal.x12").read_bytes())
        assert parsed.problems == []
        reversal, correction = (c.remit for c in parsed.advices[0].claims)
        assert reversal.is_reversal and reversal.paid_cents == -8000
        assert [a.amount_cents for s in reversal.services for a in s.adjustments] == [
            -5000, -2000, -2000, -3000]
        assert (correction.paid_cents, correction.payer_claim_control_number) == (
            8800, "PAYERCLM0002")
        assert parsed.advices[0].payment_cents == 800

    @pytest.mark.parametrize(("element", "component", "terminator", "between"), [
        ("*", ":", "~", "\n"), ("|", "^", "\n", ""), ("*", ">", "~", "\r\n    "),
    ])
    def test_any_separators_the_isa_declares_and_layout_between_segments(
        self, element: str, component: str, terminator: str, between: str,
    ) -> None:
        raw = build_835(element=element, component=component, terminator=terminator,
                        between=between)
        plain = parse_835(build_835())
        parsed = parse_835(b"\xef\xbb\xbf" + raw)   # and a byte-order mark
        assert parsed.problems == []
        assert [c.remit.services for c in parsed.advices[0].claims] == [
            c.remit.services for c in plain.advices[0].claims]
        assert parsed.advices[0].claims[0].remit.services[0].modifiers == ("25",)
        # The content hash ignores separators and layout: a re-sent file is the same payment.
        assert parsed.advices[0].content_sha256 == plain.advices[0].content_sha256
        assert parsed.separators is not None
        assert validate(parsed.segments).status == "OK"

    def test_line_control_number_original_code_and_remark_codes(self) -> None:
        claim = ["CLP*C1*1*100*60**12*ICN1", "SVC*HC:99213*100*60**1*HC:99214",
                 "DTM*472*20250110", "CAS*CO*45*40", "REF*6R*VABC.L1", "LQ*HE*N130"]
        parsed = parse_835(build_835(claim, payment="60"))
        assert parsed.problems == []
        svc = parsed.advices[0].claims[0].remit.services[0]
        assert (svc.line_ref, svc.original_code, svc.rarcs) == ("VABC.L1", "99214", ("N130",))

    def test_plb_entries_read_with_reason_reference_and_sign(self) -> None:
        parsed = parse_835(build_835(payment="75.5", plb=[
            "PLB*1234567893*20251231*WO:PCN0001*5*L6*-.5"]))
        assert parsed.problems == []
        wo, interest = parsed.advices[0].provider_adjustments
        assert (wo.reason, wo.reference, wo.amount_cents) == ("WO", "PCN0001", 500)
        assert (interest.reason, interest.amount_cents) == ("L6", -50)

    def test_several_transaction_sets_are_several_payments(self) -> None:
        parsed = parse_835(build_835(sets=2))
        assert parsed.problems == []
        assert [a.trace_number for a in parsed.advices] == ["CHK00012345", "CHK000123451"]
        assert parsed.payment_cents == 16000 and parsed.claim_count == 2


class TestRefusals:
    def test_a_4010_file_is_refused_as_an_unsupported_version(self) -> None:
        raw = build_835().replace(b"005010X221A1", b"004010X091A1").replace(b"00501", b"00401")
        parsed = parse_835(raw)
        assert [str(p) for p in parsed.problems] == [
            "unsupported version 004010X091A1: claimdesk reads 5010 835s (005010X221A1) only"]

    def test_sub_cent_amounts_are_refused_not_rounded(self) -> None:
        claim = [c.replace("CAS*CO*45*50", "CAS*CO*45*50.005") for c in WORKED_CLAIM]
        parsed = parse_835(build_835(claim))
        assert any("CAS03" in str(p) and "sub-cent" in str(p) for p in parsed.problems)

    def test_a_line_that_does_not_balance_is_refused_with_its_figures(self) -> None:
        claim = [c.replace("CAS*CO*45*50", "CAS*CO*45*49") for c in WORKED_CLAIM]
        messages = [str(p) for p in parse_835(build_835(claim)).problems]
        assert ("claim PCN20250115001 (segment 13) service 1 (99214) does not balance: SVC02 "
                "150.00 - ΣCAS 69.00 = 81.00, but SVC03 is 80.00") in messages
        assert ("claim PCN20250115001 (segment 13) does not balance: CLP03 200.00 - ΣCAS "
                "119.00 = 81.00, but CLP04 is 80.00") in messages

    def test_a_payment_that_is_not_the_claims_less_plb_is_refused_with_its_figures(
        self,
    ) -> None:
        messages = [str(p) for p in parse_835(build_835(payment="79.99")).problems]
        assert messages == [
            "transaction set 0001 (trace CHK00012345) does not balance: ΣCLP04 80.00 - ΣPLB "
            "0.00 = 80.00, but BPR02 is 79.99"]

    def test_totals_past_what_the_ledger_can_hold_are_refused(self) -> None:
        huge = "9999999999999999.99"   # 18 digits: the largest X12 amount, fits in int64
        claims = [f"CLP*PCN{n}*1*{huge}*{huge}**12*PAYER{n}*11*1" for n in range(10)]
        messages = [str(p) for p in parse_835(build_835(claims, payment="0",
                                                        plb=[f"PLB*1234567893*20251231*WO:X*"
                                                             f"{huge}"] * 10)).problems]
        assert any(m.startswith("transaction set 0001 (trace CHK00012345): ΣCLP04 ")
                   and m.endswith("is more than the ledger can hold") for m in messages)
        assert any("ΣPLB" in m and "more than the ledger can hold" in m for m in messages)

    def test_a_component_separator_other_than_the_declared_one_is_named(self) -> None:
        claim = [c.replace("HC:99214:25", "HC>99214>25") for c in WORKED_CLAIM]
        (problem, *_) = parse_835(build_835(claim)).problems
        assert "SVC01 'HC>99214>25'" in str(problem)
        assert "the ISA declares ':' as the component separator" in str(problem)

    def test_a_truncated_file_is_refused(self) -> None:
        raw = build_835()
        parsed = parse_835(raw[: raw.index(b"GE*")], "cut.835")
        assert "does not end with an IEA segment" in str(parsed.problems[0])

    def test_an_unknown_group_code_is_refused(self) -> None:
        claim = [c.replace("CAS*CO*45*20", "CAS*CR*45*20") for c in WORKED_CLAIM]
        assert any("CAS01 'CR' is not a 5010 group code" in str(p)
                   for p in parse_835(build_835(claim)).problems)

    def test_balance_problems_is_empty_for_the_worked_example(self) -> None:
        parsed = parse_835((EXAMPLES / "835_reversal.x12").read_bytes())
        assert balance_problems(parsed.advices[0]) == []


class TestValidation:
    def test_pyx12_accepts_the_worked_examples(self) -> None:
        for name in ("835_min.x12", "835_reversal.x12"):
            parsed = parse_835((EXAMPLES / name).read_bytes())
            assert parsed.separators is not None
            report = validate(parsed.segments)
            assert (report.status, report.issues) == ("OK", ())

    def test_a_wrong_se_count_is_a_failure_with_segment_number_and_message(self) -> None:
        parsed = parse_835(build_835(se_count=99))
        assert parsed.separators is not None
        report = validate(parsed.segments)
        assert report.status == "Failure"
        (issue,) = report.issues
        assert issue.level == ENVELOPE and issue.segment == len(parsed.segments) - 2
        assert str(issue) == (f"segment {issue.segment} ST: SE count of 99 for SE02=0001 is "
                              "wrong. I count 23")
        assert VALIDATION_POLICY.blocks(issue)

    def test_a_trimmed_isa_is_padded_for_pyx12(self) -> None:
        raw = build_835().replace(b"*          *", b"* *").replace(b"PAYERSENDER    ",
                                                                    b"PAYERSENDER")
        parsed = parse_835(raw)
        assert parsed.problems == [] and parsed.separators is not None
        assert validate(parsed.segments).status == "OK"

    @pytest.mark.parametrize(("issue", "blocks"), [
        (ValidationIssue(11, "PER", "", "3", "missing PER", SEGMENT), False),
        (ValidationIssue(4, "BPR", "BPR16", "8", "invalid date", ELEMENT), False),
        (ValidationIssue(4, "BPR", "BPR02", "6", "invalid character", ELEMENT), True),
        (ValidationIssue(20, "SVC", "SVC01-02", "1", "code missing", ELEMENT), True),
        (ValidationIssue(21, "SVC", "", "1", "not found", SEGMENT), True),
        (ValidationIssue(16, "N4", "N402", "7", "state code", ELEMENT), False),
        (ValidationIssue(56, "PLB", "", "SEG1", "trailing separators", SEGMENT), False),
        (ValidationIssue(67, "ISA", "", "001", "IEA does not match", ENVELOPE), True),
    ])
    def test_the_policy_refuses_what_posting_depends_on(
        self, issue: ValidationIssue, blocks: bool,
    ) -> None:
        assert VALIDATION_POLICY.blocks(issue) is blocks
