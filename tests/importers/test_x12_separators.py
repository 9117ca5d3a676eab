"""X12 separators and layout: each interchange read as its ISA declares, content keyed alike."""

from __future__ import annotations

import re
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.money import AmountError, cents_from_text, cents_from_x12
from importers.remittance_import import VALIDATE_ENV_VAR, import_835, import_acknowledgement
from importers.x12 import acks, era
from importers.x12.acks import ParsedAck, parse_acknowledgement
from importers.x12.era import VALIDATION_POLICY, ParsedEra, parse_835
from importers.x12.segments import decode, read_separators, tokenize
from importers.x12.validate import (
    ELEMENT,
    SEGMENT,
    BackgroundValidation,
    ValidationIssue,
    validate,
)
from tests.builders import names, recorded_since
from tests.importers.test_acks import ack_277ca, ack_999
from tests.importers.test_era import EXAMPLES, WORKED_CLAIM, build_835


def read(parsed: ParsedEra) -> list[tuple[object, ...]]:
    """What an 835's payments say, without what names the file itself (its raw bytes' hash)."""
    return [(a.payer_id, a.trace_number, a.content_sha256, a.payment_cents, a.paid_on,
             a.provider_adjustments,
             [(c.remit.claim_id, c.remit.paid_cents, c.remit.services, c.remit.claim_adjustments)
              for c in a.claims]) for a in parsed.advices]


def findings(parsed: ParsedEra | ParsedAck) -> list[tuple[int, str, str, str]]:
    """pyx12's findings on a file, without the line numbers that its layout decides."""
    assert parsed.separators is not None
    return [(i.segment, i.element, i.code, i.message)
            for i in validate(parsed.segments).issues]


def relaid(raw: bytes, terminator: str) -> bytes:
    """An ack builder's file (``~`` and a line break after each segment) with `terminator`."""
    return raw.replace(b"~\n", terminator.encode("ascii"))


# (terminator, text after it): "\r" alone is the bug's case; the others must keep working.
TERMINATORS = (("\r", ""), ("\n", ""), ("\r\n", ""), ("~", "\r\n"), ("~", "\n"))


class TestSegmentTerminators:
    @pytest.mark.parametrize(("terminator", "between"), TERMINATORS)
    def test_an_835_reads_the_same_whatever_ends_its_segments(
        self, terminator: str, between: str,
    ) -> None:
        plain = parse_835(build_835())
        parsed = parse_835(build_835(terminator=terminator, between=between), "term.835")
        assert parsed.problems == []
        assert read(parsed) == read(plain)
        assert [s.elements for s in parsed.segments] == [s.elements for s in plain.segments]
        assert parsed.separators is not None
        assert validate(parsed.segments).status == "OK"

    def test_a_cr_terminated_835_numbers_its_lines_by_segment(self) -> None:
        claim = ["CLP*PCN20250115001*1*200*80*50*12*PAYERCLM0001*11*1",
                 "SVC*HC:99214:25*150*80**1", "CAS*CO*45*50*", "CAS*PR*2*20",
                 "SVC*HC:93000*50*0**1", "CAS*XX*45*20", "CAS*PR*1*30"]
        parsed = parse_835(build_835(claim, terminator="\r"))
        (problem,) = parsed.problems
        assert problem.segment == problem.line == 18
        assert "CAS01 'XX'" in str(problem)

    @pytest.mark.parametrize("terminator", ["\r", "\n", "\r\n", "~\r\n", "~\n"])
    def test_a_999_and_a_277ca_read_the_same_whatever_ends_their_segments(
        self, terminator: str,
    ) -> None:
        for raw in (ack_999(("0001", "A", ()), ("0002", "R", ("IK3*NM1*17*2010BA*8",))),
                    ack_277ca(("PCNALPHA", "A2:20", "ICN1"), ("PCNBRAVO", "A7:562:85", ""))):
            plain = parse_acknowledgement(raw)
            parsed = parse_acknowledgement(relaid(raw, terminator), "term.ack")
            assert parsed.problems == []
            assert (parsed.kind, parsed.sets, parsed.claims) == (
                plain.kind, plain.sets, plain.claims)
            assert parsed.content_sha256 == plain.content_sha256
            assert findings(parsed) == findings(plain)


def second_interchange(**options: Any) -> bytes:
    """An 835 interchange to follow `build_835()` in one file: its own control numbers and
    payment, and whatever separators `options` give it."""
    return build_835(interchange="000000102", trace="CHK00099999", **options)


class TestInterchangesWithTheirOwnSeparators:
    @pytest.mark.parametrize("options", [
        {"element": "|", "component": ">", "terminator": "\n"},   # all three differ
        {"component": ">"},                                        # only ISA16 differs
    ])
    def test_each_interchange_is_read_with_the_separators_its_isa_declares(
        self, options: dict[str, str],
    ) -> None:
        parsed = parse_835(build_835() + second_interchange(**options), "two.835")
        assert parsed.problems == []
        first, second = read(parsed)
        # The second payment reads as the same payment sent on its own with standard ones.
        assert second == read(parse_835(second_interchange()))[0]
        assert first == read(parse_835(build_835()))[0]
        modifiers = [c.remit.services[0].modifiers for a in parsed.advices for c in a.claims]
        assert modifiers == [("25",), ("25",)]
        assert findings(parsed) == []

    def test_pyx12_numbers_a_fault_in_a_later_interchange_as_in_the_file(self) -> None:
        raw = build_835() + second_interchange(element="|", component=">", se_count=99)
        parsed = parse_835(raw, "two.835")
        (issue,) = findings(parsed)
        se = next(s for s in reversed(parsed.segments) if s.id == "SE")
        assert issue == (se.index, "", "4",
                         "SE count of 99 for SE02=0001 is wrong. I count 23")

    @pytest.mark.parametrize("fork", [True, False])
    def test_the_background_validator_reads_each_interchange_alike(self, fork: bool) -> None:
        raw = build_835() + second_interchange(element="|", component=">", se_count=99)
        child = BackgroundValidation(raw, "two.835", fork=fork)
        try:
            report = child.report()
        finally:
            child.cancel()
        assert report is not None and report == validate(tokenize(decode(raw))[1])
        assert [i.segment for i in report.issues] == [len(tokenize(decode(raw))[1]) - 2]

    def test_a_277ca_interchange_reads_its_statuses_with_its_own_component_separator(
        self,
    ) -> None:
        first = ack_277ca(("PCNALPHA", "A2:20", "ICN1"))
        second = ack_277ca(("PCNBRAVO", "A7:562:85", ""), control="000000602")
        other = second.replace(b"*", b"|").replace(b":", b">")
        parsed = parse_acknowledgement(first + other, "two.277")
        assert parsed.problems == []
        statuses = {c.claim_id: c.statuses for c in parsed.claims if c.claim_id}
        assert statuses == {"PCNALPHA": ("A2:20",), "PCNBRAVO": ("A7:562:85",)}
        assert parsed.content_sha256 == parse_acknowledgement(first + second).content_sha256


def trimmed_isa(raw: bytes) -> bytes:
    """`raw` with its ISA's padding trimmed, as some translators send it."""
    return (raw.replace(b"*          *", b"**").replace(b"PAYERSENDER    ", b"PAYERSENDER")
            .replace(b"ACMERECEIVER   ", b"ACMERECEIVER"))


class TestVersionSniffing:
    def test_the_gs_is_the_segment_after_a_trimmed_isa_not_a_claim_id_ending_in_gs(
        self,
    ) -> None:
        claim = [c.replace("PCN20250115001", "PCN0042GS") for c in
                 ("CLP*PCN20250115001*1*80*80**12*PAYERCLM0001*11*1", "SVC*HC:99213*80*80**1")]
        raw = trimmed_isa(build_835(claim))
        assert raw.index(b"GS*") < 100 < raw.index(b"PCN0042GS*")   # the bug's layout
        parsed = parse_835(raw, "trimmed.835")
        assert parsed.problems == []
        assert parsed.version == "005010X221A1"
        assert [c.remit.claim_id for c in parsed.advices[0].claims] == ["PCN0042GS"]

    @pytest.mark.parametrize("layout", [
        {}, {"between": "\r\n"}, {"terminator": "\r"}, {"terminator": "\r\n"},
        {"element": "|", "component": ">"}])
    def test_a_4010_file_is_still_refused_for_its_version(self, layout: dict[str, str]) -> None:
        raw = trimmed_isa(build_835(**layout)).replace(b"005010X221A1", b"004010X091A1")
        parsed = parse_835(raw.replace(b"00501", b"00401"))
        assert [str(p) for p in parsed.problems] == [
            "unsupported version 004010X091A1: claimdesk reads 5010 835s (005010X221A1) only"]


# Two PLB segments (and a third): what pyx12's map counted as its FOOTER loop over again.
PLBS = ("PLB*1234567893*20251231*WO:PCN0001*5", "PLB*1234567893*20251231*L6*-.5",
        "PLB*1234567893*20251231*FB:OLD7*1.25")


class TestSeveralPlbSegments:
    @pytest.mark.parametrize("count", [2, 3])
    def test_pyx12_counting_each_plb_as_its_footer_loop_does_not_refuse_the_file(
        self, count: int,
    ) -> None:
        plbs = PLBS[:count]
        payment = {2: "75.5", 3: "74.25"}[count]
        parsed = parse_835(build_835(plb=plbs, payment=payment))
        assert parsed.problems == []
        assert [(p.reason, p.amount_cents) for p in parsed.advices[0].provider_adjustments] == [
            ("WO", 500), ("L6", -50), ("FB", 125)][:count]
        assert parsed.separators is not None
        issues = validate(parsed.segments).issues
        assert [(i.segment_id, i.code, i.message) for i in issues] == [
            ("PLB", "4", f"Loop FOOTER exceeded max count.  Found {n}, should have 1")
            for n in range(2, count + 1)]
        assert not any(VALIDATION_POLICY.blocks(issue) for issue in issues)

    @pytest.mark.parametrize("issue", [
        # The same words about another loop, or about PLB as a segment, still refuse.
        ValidationIssue(20, "PLB", "", "5", "Segment PLB exceeded max count.  Found 2, should "
                        "have 1", SEGMENT),
        ValidationIssue(20, "PLB", "", "4", "Loop 1000A exceeded max count.  Found 2, should "
                        "have 1", SEGMENT),
        ValidationIssue(13, "CLP", "", "4", "Loop FOOTER exceeded max count.  Found 2, should "
                        "have 1", SEGMENT),
        ValidationIssue(20, "PLB", "", "7", "Segment PLB not in proper sequence", SEGMENT),
        ValidationIssue(20, "PLB", "PLB04", "6", "invalid character", ELEMENT),
    ])
    def test_nothing_else_about_plb_or_loops_is_waived(self, issue: ValidationIssue) -> None:
        assert VALIDATION_POLICY.blocks(issue)

    @pytest.mark.parametrize("where", ["inline", "background"])
    def test_every_plb_is_posted_and_balances_the_payment(
        self, ledger: BillingLedger, claim_id: str, monkeypatch: pytest.MonkeyPatch,
        where: str,
    ) -> None:
        monkeypatch.setenv(VALIDATE_ENV_VAR, where)
        # BPR02 75.50 = ΣCLP04 80.00 - (WO 5.00 + L6 -0.50)
        result = import_835(ledger, build_835(plb=PLBS[:2], payment="75.5"), "two_plb.835")
        assert (result.status, result.message) == ("posted", "")
        assert result.provider_adjustment_cents == 450
        remittance = ledger.remittance(result.remittance_ids[0])
        assert [(p["reason"], p["reference"], p["amount_cents"])
                for p in remittance.provider_adjustments] == [
            ("WO", "PCN0001", 500), ("L6", "", -50)]
        assert names(recorded_since(ledger, 0)).count("ProviderAdjustmentPosted") == 2

    def test_a_payment_that_counts_only_one_plb_is_refused_with_both(
        self, ledger: BillingLedger, claim_id: str,
    ) -> None:
        result = import_835(ledger, build_835(plb=PLBS[:2], payment="75"), "one_counted.835")
        assert result.status == "refused"
        assert ("ΣCLP04 80.00 - ΣPLB 4.50 = 75.50, but BPR02 is 75.00") in result.message


def swapped(raw: bytes) -> bytes:
    """`raw` with ':' and '^' swapped throughout: component '^' (ISA16), repetition ':'
    (ISA11), the same content."""
    return raw.translate(bytes.maketrans(b":^", b"^:"))


def as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash content as claimdesk did before trailing empties were dropped and separators
    mapped at once: what a file imported then is keyed by in a ledger."""
    def legacy(segments: Any, separators: Any) -> tuple[str, str]:
        text = era.legacy_normalized_text(segments, separators)
        return text, text

    monkeypatch.setattr(era, "normalized_texts", legacy)
    monkeypatch.setattr(acks, "normalized_texts", legacy)


TRAILING = [c.replace("CAS*CO*45*50", "CAS*CO*45*50***").replace("HC:93000", "HC:93000::")
            .replace("NM1*QC*1*DOE*JOHN****MI*W123456789", "NM1*QC*1*DOE*JOHN****MI*W123456789*")
            for c in WORKED_CLAIM]


class TestContentHash:
    def test_a_standard_file_hashes_exactly_as_before(self) -> None:
        # The values the code before this change gave: the keys of files already imported.
        assert [a.content_sha256 for a in parse_835((EXAMPLES / "835_min.x12").read_bytes())
                .advices] == ["ddfb6542275e8ea410e990b8bb93475a17145eea84db9e4aa9f5f6166030ccc5"]
        assert [a.content_sha256 for a in parse_835(
            (EXAMPLES / "835_reversal.x12").read_bytes()).advices] == [
            "e082c7ddbddf55d1ab2899fd452e5b20e368b83b8f661f316231228571284990"]
        assert parse_acknowledgement(ack_999(("0001", "A", ()))).content_sha256 == (
            "bba3f89c6223fe0a8a78257adb812d7128e6c5c4f28a9585b52390aff60ecf33")
        assert parse_acknowledgement(ack_277ca(("PCN1", "A2:20", "ICN1"))).content_sha256 == (
            "71b761e3ce094e69bde3f0ef3fa3cc1482053153f6aa07a943ff34aa17365649")

    def test_component_caret_and_repetition_colon_hash_as_the_standard_ones(self) -> None:
        plain, other = parse_835(build_835()), parse_835(swapped(build_835()))
        assert other.separators is not None and (
            other.separators.component, other.separators.repetition) == ("^", ":")
        assert other.problems == []
        assert read(other) == read(plain)
        for raw in (ack_999(("0001", "R", ("IK3*NM1*17*2010BA*8", "CTX*CLM01:PCNA"))),
                    ack_277ca(("PCNALPHA", "A7:562:85", "ICN1"))):
            assert parse_acknowledgement(swapped(raw)).content_sha256 == (
                parse_acknowledgement(raw).content_sha256)

    def test_trailing_empty_elements_and_components_are_the_same_content(self) -> None:
        plain = parse_835(build_835())
        trailing = parse_835(build_835(TRAILING))
        assert trailing.problems == []
        assert trailing.advices[0].content_sha256 == plain.advices[0].content_sha256
        # ...but the hash they were imported under before differs, and is kept to look for;
        # for a standard file it is the one hash.
        assert trailing.legacy_sha256 != [plain.advices[0].content_sha256]
        assert plain.legacy_sha256 == [plain.advices[0].content_sha256]
        raw = ack_277ca(("PCNALPHA", "A7:562:85", "ICN1"))
        assert parse_acknowledgement(raw.replace(b"*WQ*200~", b"*WQ*200**~").replace(
            b"A7:562:85", b"A7:562:85:")).content_sha256 == (
            parse_acknowledgement(raw).content_sha256)

    @pytest.mark.parametrize(("before", "after"), [
        ("SVC*HC:99214:25*150*80**1", "SVC*HC:99214:25*150*80*1"),   # an empty element inside
        ("SVC*HC:99214:25*150*80**1", "SVC*HC::99214:25*150*80**1"),   # a component inside
        ("CAS*CO*45*50", "CAS*CO*45*5"),
    ])
    def test_other_differences_still_differ(self, before: str, after: str) -> None:
        def text(raw: bytes) -> str:
            separators, segments = tokenize(decode(raw))
            return era.normalized_text(segments, separators)

        changed = [c.replace(before, after) for c in WORKED_CLAIM]
        assert changed != WORKED_CLAIM
        assert text(build_835(changed)) != text(build_835())

    def test_an_835_posted_under_the_old_hash_is_already_posted_when_imported_again(
        self, ledger: BillingLedger, claim_id: str, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        raw = build_835(TRAILING)
        with monkeypatch.context() as before:
            as_before(before)
            assert import_835(ledger, raw, "old.835").status == "posted"
        events = ledger.events_count()
        result = import_835(ledger, raw, "old.835")
        assert (result.status, result.events) == ("already-posted", 0)
        assert ledger.events_count() == events
        # The same payment with standard separators and no trailing ones is a new key: it was
        # not the file posted, and the trace number holds it for review as before.
        assert import_835(ledger, build_835(), "new.835").status == "refused"
        assert ledger.events_count() == events

    @pytest.mark.parametrize("kind", ["999", "277CA"])
    def test_an_acknowledgement_imported_under_the_old_hash_is_known_when_imported_again(
        self, ledger: BillingLedger, monkeypatch: pytest.MonkeyPatch, kind: str,
    ) -> None:
        raw = swapped(ack_999(("0001", "A", ()), ("0002", "R", ("CTX*CLM01:PCNA",)))
                      if kind == "999" else ack_277ca(("PCNALPHA", "A7:562:85", "")))
        with monkeypatch.context() as before:
            as_before(before)
            assert import_acknowledgement(ledger, raw, "old.ack").status == "posted"
        events = ledger.events_count()
        result = import_acknowledgement(ledger, raw, "old.ack")
        assert (result.status, result.events) == ("already-posted", 0)
        assert ledger.events_count() == events

    def test_a_277ca_resent_with_other_separators_changes_nothing(
        self, ledger: BillingLedger,
    ) -> None:
        raw = ack_277ca(("PCNALPHA", "A7:562:85", "ICN1"), ("PCNBRAVO", "A2:20", ""))
        assert import_acknowledgement(ledger, raw, "ok.277").status == "posted"
        events = ledger.events_count()
        result = import_acknowledgement(ledger, swapped(raw), "swapped.277")
        assert (result.status, result.events) == ("already-posted", 0)
        assert ledger.events_count() == events


class TestAmountDecimals:
    @pytest.mark.parametrize(("text", "cents"), [
        ("78.5", 7850), ("78.50", 7850), ("78", 7800), (".5", 50), ("-.05", -5), ("-0", 0)])
    def test_x12_amounts_with_up_to_two_decimals_are_read(self, text: str, cents: int) -> None:
        assert cents_from_x12(text) == cents

    @pytest.mark.parametrize("text", ["78.580", "78.500", "0.000", "-1.2000", "78.581"])
    def test_more_than_two_decimals_are_refused_zeros_included(self, text: str) -> None:
        with pytest.raises(AmountError, match=re.escape(repr(text))):
            cents_from_x12(text)
        # Typed input keeps its leniency: trailing zeros lose nothing there.
        assert text == "78.581" or cents_from_text(text) == cents_from_text(text[:-1])

    @pytest.mark.parametrize(("before", "after", "problem"), [
        ("CAS*CO*45*50", "CAS*CO*45*50.000", "segment 17: CAS: CAS03 not a valid amount: "
         "'50.000' (more than 2 decimals)"),
        ("SVC*HC:99214:25*150", "SVC*HC:99214:25*150.000", "segment 15: SVC: SVC02 not a "
         "valid amount: '150.000' (more than 2 decimals)"),
        ("CLP*PCN20250115001*1*200*80", "CLP*PCN20250115001*1*200*80.000", "segment 13: CLP: "
         "CLP04 not a valid amount: '80.000' (more than 2 decimals)"),
    ])
    def test_an_835_amount_with_three_decimals_is_refused_naming_segment_and_element(
        self, before: str, after: str, problem: str,
    ) -> None:
        claim = [c.replace(before, after) for c in WORKED_CLAIM]
        assert claim != WORKED_CLAIM
        assert [str(p) for p in parse_835(build_835(claim)).problems] == [problem]

    def test_bpr02_and_plb_amounts_with_three_decimals_are_refused_too(self) -> None:
        problems = [str(p) for p in parse_835(build_835(
            payment="75.500", plb=["PLB*1234567893*20251231*WO:PCN0001*4.500"])).problems]
        assert problems == [
            "segment 4: BPR: BPR02 not a valid amount: '75.500' (more than 2 decimals)",
            "segment 25: PLB: PLB04 not a valid amount: '4.500' (more than 2 decimals)"]

    def test_the_refused_file_posts_nothing(
        self, ledger: BillingLedger, claim_id: str,
    ) -> None:
        claim = [c.replace("CAS*CO*45*50", "CAS*CO*45*50.000") for c in WORKED_CLAIM]
        events = ledger.events_count()
        result = import_835(ledger, build_835(claim), "amt_3dec.835")
        assert result.status == "refused" and "CAS03 not a valid amount: '50.000'" in (
            result.message)
        assert ledger.events_count() == events
        assert import_835(ledger, build_835(), "ok.835").status == "posted"


class TestMangledIsa:
    def test_an_isa11_of_more_than_one_character_declares_no_repetition_separator(
        self, ledger: BillingLedger,
    ) -> None:
        # Found by the slow fuzz run: a trimmed, mangled ISA left "\n^" as ISA11, and the
        # content hash's translation table refused a two-character key (a ValueError).
        raw = ack_999(("0001", "A", ()))
        isa_end = raw.index(b"~")
        fields = raw[:isa_end].split(b"*")
        fields[11] = b"\n^"
        mangled = b"*".join(fields) + raw[isa_end:]
        assert read_separators(mangled.decode())[0].repetition == ""
        parse_acknowledgement(mangled, "mangled.999", expect="999")   # no ValueError
        outcome = import_acknowledgement(ledger, mangled, "mangled.999", kind="999")
        assert outcome.status in ("posted", "refused")
