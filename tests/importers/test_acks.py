"""999 and 277CA acknowledgements: accepted, rejected and unknown claims; idempotent, atomic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.claim import Claim, ClaimState
from importers.remittance_import import import_acknowledgement
from importers.x12.acks import parse_acknowledgement
from tests.builders import Practice, open_visit, register_patient

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"


def envelope(kind: str, body: Sequence[str], control: str = "000000501") -> bytes:
    version = {"999": "005010X231A1", "277": "005010X214"}[kind]
    functional = {"999": "FA", "277": "HN"}[kind]
    segments = [f"ST*{kind}*0001*{version}", *body]
    segments.append(f"SE*{len(segments) + 1}*0001")
    text = [
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*SUBMITTERID    *250116*0800*^*"
        f"00501*{control}*0*T*:",
        f"GS*{functional}*CLEARINGHOUSE*SUBMITTERID*20250116*0800*{int(control)}*X*{version}",
        *segments, f"GE*1*{int(control)}", f"IEA*1*{control}"]
    return "".join(f"{s}~\n" for s in text).encode("ascii")


def ack_999(*sets: tuple[str, str, Sequence[str]], group: str = "101",
            control: str = "000000501") -> bytes:
    """A 999 for our group `group`: each set is (ST02, IK501, IK3/IK4/CTX segments)."""
    body = [f"AK1*HC*{group}*005010X222A1"]
    for st02, code, detail in sets:
        body += [f"AK2*837*{st02}*005010X222A1", *detail, f"IK5*{code}"]
    accepted = sum(1 for _, code, _ in sets if code in "AE")
    verdict = "A" if accepted == len(sets) else ("R" if accepted == 0 else "P")
    body.append(f"AK9*{verdict}*{len(sets)}*{len(sets)}*{accepted}")
    return envelope("999", body, control)


def ack_277ca(*claims: tuple[str, str, str], batch: str = "BATCH1",
              batch_status: str = "A1:20", control: str = "000000601") -> bytes:
    """A 277CA: each claim is (CLM01, STC01, payer claim number)."""
    body = ["BHT*0085*08*ACK1*20250117*0800*TH", "HL*1**20*1",
            "NM1*PR*2*ACME HEALTH PLAN*****PI*12345", "TRN*1*ACK1", "DTP*050*D8*20250117",
            "DTP*009*D8*20250117",
            "HL*2*1*21*1", "NM1*41*2*ACME BILLING*****46*SUB12345", f"TRN*2*{batch}",
            f"STC*{batch_status}*20250117*WQ*200", "QTY*90*1", "AMT*YU*200",
            "HL*3*2*19*1", "NM1*85*2*ACME MEDICAL GROUP*****XX*1234567893",
            "TRN*1*PROV1"]
    for number, (claim_id, status, icn) in enumerate(claims, start=4):
        body += [f"HL*{number}*3*PT", "NM1*QC*1*DOE*JOHN****MI*W123456789",
                 f"TRN*2*{claim_id}", f"STC*{status}*20250117*WQ*200"]
        if icn:
            body.append(f"REF*1K*{icn}")
        body.append("DTP*472*D8*20250110")
    return envelope("277", body, control)


@pytest.fixture
def submitted(ledger: BillingLedger, practice: Practice) -> list[str]:
    """Three claims sent in batch BATCH1 (GS06 101), as transaction sets 0001, 0001, 0002."""
    claims = []
    for name in ("ALPHA", "BRAVO", "CHARLIE"):
        visit = open_visit(ledger, register_patient(ledger, last_name=name))
        claim_id = ledger.create_claim(visit.encounter_id, claim_id=f"PCN{name}")
        assert ledger.scrub_claim(claim_id) == []
        claims.append(claim_id)
    ledger.mark_submitted(claims, batch_id="BATCH1", interchange_control="000000101",
                          transaction_controls={claims[0]: "0001", claims[1]: "0001",
                                                claims[2]: "0002"})
    return claims


def states(ledger: BillingLedger, claims: Sequence[str]) -> list[ClaimState]:
    return [ledger.claim(c).state for c in claims]


class Test999:
    def test_an_accepted_set_accepts_its_claims_and_a_rejected_set_rejects_its_claims(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        raw = ack_999(("0001", "A", ()), ("0002", "R", (
            "IK3*NM1*17*2010BA*8", "CTX*CLM01:PCNCHARLIE", "IK4*9*67*1")))
        before = ledger.events_count()
        result = import_acknowledgement(ledger, raw, "batch1.999")
        assert (result.status, result.kind, result.sets) == ("posted", "999", 2)
        assert (sorted(result.accepted), result.rejected, result.unknown) == (
            sorted(submitted[:2]), [submitted[2]], [])
        assert states(ledger, submitted) == [ClaimState.ACCEPTED, ClaimState.ACCEPTED,
                                             ClaimState.REJECTED]
        rejection = ledger.claim(submitted[2]).rejection
        assert rejection is not None and rejection["level"] == "999"
        assert rejection["reasons"] == [
            "999 IK5 R", "IK3 NM1 (segment 17 of the set in loop 2010BA): 8 segment has data "
            "element errors", "CTX CLM01:PCNCHARLIE",
            "IK4 element 9 (DE 67): 1 required data element missing"]
        # 3 claim events, the acknowledgement and its evidence.
        assert ledger.events_count() - before == result.events == 5

    def test_a_group_rejected_without_set_detail_rejects_every_claim_of_the_batch(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        raw = envelope("999", ["AK1*HC*101*005010X222A1", "AK9*R*2*2*0*4"])
        result = import_acknowledgement(ledger, raw, "group.999")
        assert sorted(result.rejected) == sorted(submitted)
        assert states(ledger, submitted) == [ClaimState.REJECTED] * 3

    def test_sets_we_never_sent_are_reported_not_crashed_on(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        result = import_acknowledgement(ledger, ack_999(("0099", "A", ()), group="999"),
                                        "other.999")
        assert (result.status, result.unknown, result.accepted) == (
            "posted", ["group 999 set 0099"], [])
        assert states(ledger, submitted) == [ClaimState.SUBMITTED] * 3

    def test_the_same_999_again_records_nothing(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        raw = ack_999(("0001", "A", ()))
        import_acknowledgement(ledger, raw, "a.999")
        before = ledger.events_count()
        again = import_acknowledgement(ledger, raw, "a-again.999")
        assert (again.status, again.events, ledger.events_count()) == (
            "already-posted", 0, before)

    def test_an_old_acknowledgement_does_not_touch_a_claim_sent_again_since(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        import_acknowledgement(ledger, ack_999(("0002", "R", ())), "reject.999")
        claim_id = submitted[2]
        assert ledger.resend_rejected(claim_id, "fixed the member id") == []
        ledger.mark_submitted([claim_id], batch_id="BATCH2", interchange_control="000000102",
                              transaction_controls={claim_id: "0003"})
        late = import_acknowledgement(
            ledger, ack_999(("0002", "A", ()), control="000000502"), "late.999")
        assert late.accepted == [] and ledger.claim(claim_id).state == ClaimState.SUBMITTED
        assert "earlier submission" in late.unchanged[0]["reason"]

    def test_a_crash_while_applying_the_verdicts_records_nothing(
        self, ledger: BillingLedger, submitted: list[str], monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        original = Claim.reject
        calls = [0]

        def crash_on_second(self: Claim, *args: Any, **kwargs: Any) -> None:
            calls[0] += 1
            if calls[0] == 2:
                raise RuntimeError("crash")
            original(self, *args, **kwargs)
        monkeypatch.setattr(Claim, "reject", crash_on_second)
        before = ledger.events_count()
        with pytest.raises(RuntimeError):
            import_acknowledgement(ledger, ack_999(("0001", "R", ())), "r.999")
        assert ledger.events_count() == before
        assert states(ledger, submitted) == [ClaimState.SUBMITTED] * 3


class Test277CA:
    def test_claim_level_statuses_accept_reject_and_report_unknown_claims(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        raw = ack_277ca(("PCNALPHA", "A2:20", "ICN0001"), ("PCNBRAVO", "A7:562:85", ""),
                        ("PCNCHARLIE", "A1:19", ""), ("NOTOURS", "A2:20", ""))
        result = import_acknowledgement(ledger, raw, "batch1.277", kind="277CA")
        assert (result.status, result.accepted, result.rejected, result.unknown) == (
            "posted", ["PCNALPHA"], ["PCNBRAVO"], ["NOTOURS"])
        assert states(ledger, submitted) == [ClaimState.ACCEPTED, ClaimState.REJECTED,
                                             ClaimState.SUBMITTED]
        assert ledger.claim("PCNALPHA").payer_claim_control_number == "ICN0001"
        rejection = ledger.claim("PCNBRAVO").rejection
        assert rejection is not None
        assert (rejection["level"], rejection["reasons"], str(rejection["rejected_on"])) == (
            "277CA", ["277CA STC A7:562:85"], "2025-01-17")

    def test_a_rejected_batch_rejects_every_claim_in_it(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        result = import_acknowledgement(ledger, ack_277ca(batch_status="A3:24"), "b.277")
        assert sorted(result.rejected) == sorted(submitted)

    def test_a_claim_already_adjudicated_is_left_alone(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        ledger.close_claim("PCNALPHA", "test")
        result = import_acknowledgement(ledger, ack_277ca(("PCNALPHA", "A7:21", "")), "c.277")
        assert result.rejected == [] and result.unchanged == [
            {"claim_id": "PCNALPHA", "reason": "claim is closed"}]

    def test_a_277_claim_status_response_is_not_taken_for_a_277ca(
        self, ledger: BillingLedger,
    ) -> None:
        raw = (CORPUS / "linuxforhealth-x12/277_005010X212/claim-level-status.277").read_bytes()
        result = import_acknowledgement(ledger, raw, "status.277", kind="277CA")
        assert result.status == "refused" and "not a 277CA" in result.message
        assert ledger.events_count() == 0


class TestCorpus:
    @pytest.mark.parametrize(("file", "status", "expected"), [
        ("imsweb-x12-parser/837_5010/x12_999_rejected.txt", "posted", "group 28 set 0028"),
        ("staedi/simple999.edi", "posted", "group 17456 set 0001"),
        ("bryanbritten-edi-demo/999/example-01.edi", "posted", "group 17456 set 0002"),
        ("imsweb-x12-parser/277_5010/x12_277CA_accepted.txt", "posted", "5781"),
        ("imsweb-x12-parser/277_5010/x12_277CA_rejected.txt", "posted", "3920394930203"),
        ("imsweb-x12-parser/837_5010/x12_999_accepted.txt", "refused",
         "IEA id=000000001 does not match ISA id=000000286"),
        ("staedi/invalid999.edi", "refused", "SE count of 16 for SE02=2870001 is wrong"),
    ])
    def test_corpus_acknowledgements_against_a_ledger_without_those_claims(
        self, ledger: BillingLedger, file: str, status: str, expected: str,
    ) -> None:
        result = import_acknowledgement(ledger, (CORPUS / file).read_bytes(), file)
        assert result.status == status, result.message
        if status == "posted":
            assert expected in result.unknown
            assert result.accepted == result.rejected == []
        else:
            assert expected in result.message and ledger.events_count() == 0

    def test_a_999_for_834s_changes_no_claim(self, ledger: BillingLedger) -> None:
        file = CORPUS / "pyx12/tests/834_lui_id_5010.999.txt"
        result = import_acknowledgement(ledger, file.read_bytes(), file.name)
        assert result.status == "posted" and result.sets == 4 and result.unknown == []
        assert "acknowledges a BE group" in result.unchanged[0]["reason"]

    def test_parsing_reads_stc_composites_with_the_declared_separator(self) -> None:
        file = CORPUS / "imsweb-x12-parser/277_5010/x12_277CA_rejected.txt"
        parsed = parse_acknowledgement(file.read_bytes(), file.name)
        assert [(c.claim_id, c.statuses, c.verdict) for c in parsed.claims] == [
            ("", ("A1:20",), "received"), ("3920394930203", ("A7:562:85",), "rejected")]
