"""Every 835 of ../shared/corpus/x12 posts to the cent of INVENTORY.tsv or is refused by name.

Against an empty ledger every claim goes to suspense, so what posts is the payment itself:
BPR02, each CLP's charge and payment held unapplied, and the PLB amounts on the payer's
clearing account; money is conserved (posted + unapplied = BPR02 + ΣPLB). 4010 files are
refused for their version; the broken and unbalanced ones for the fault they have.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.money import cents_from_text
from domain.storage import resolve_store
from importers.remittance_import import import_835
from tests.builders import TODAY

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"

# What each 5010 (or envelope-less) 835 of the corpus does: "posted", or a phrase of its refusal.
EXPECTED = {
    "linuxforhealth-x12/835_005010X221A1/cob-contractural-adjustment.835":
        "SVC01 'HC>55669' is not qualifier:procedure code; it uses '>' but the ISA declares "
        "':' as the component separator",
    "linuxforhealth-x12/835_005010X221A1/managed-care.835": "posted",
    "linuxforhealth-x12/835_005010X221A1/medicare-part-a.835": "posted",
    "linuxforhealth-x12/835_005010X221A1/secondary-payment.835":
        "it uses '>' but the ISA declares ':' as the component separator",
    "linuxforhealth-x12/835_005010X221A1/tertiary-payment.835":
        'SVC01-02: Mandatory data element "Adjudicated Procedure Code" (SVC01-02) is missing',
    "linuxforhealth-x12/demo-file/demo.835": "posted",
    "pyx12/tests/835_mult_loops.txt": "posted",
    "edi-835-parser/emedny_sample.txt": "posted",
    "edi-835-parser/united_healthcare_legacy_sample.txt": "posted",
    "edi-835-parser/affect-therapeutics/nevada_medicaid.txt":
        "IEA id=100000301 does not match ISA id=100000300",
    "edi-835-parser/affect-therapeutics/sample_835.txt":
        "CAS01 'grp_code' is not a 5010 group code",
    "edi-835-parser/affect-therapeutics/sample_835_with_interests.txt":
        "segment 165 (line 165) has an invalid id 'resnCode>a'",
    "edi-835-parser/history/blue_cross_nc_sample.txt": "does not start with an ISA segment",
    "edi-835-parser/history/exhaustive_sample.txt": "does not start with an ISA segment",
    "edi-835-parser/CHS-CDS-AIML/test.835":
        "claim PATIENTACCOUNT01 (segment 8) does not balance: CLP03 2000.00 - ΣCAS 999.00 = "
        "1001.00, but CLP04 is 1500.50",
    "bryanbritten-edi-demo/835/multiple-claims-single-check.edi":
        "SE count of 182 for SE02=35681 is wrong. I count 183",
}


@dataclass(frozen=True)
class Row:
    file: str
    gs08: str
    claims: int
    clp03_cents: int
    clp04_cents: int
    bpr02_cents: int
    plb_cents: int


def _rows() -> list[Row]:
    with (CORPUS / "INVENTORY.tsv").open(newline="") as handle:
        return [Row(r["file"], r["gs08"], int(r["claims"]),
                    cents_from_text(r["clp03_charge_total"]),
                    cents_from_text(r["clp04_paid_total"]), cents_from_text(r["bpr02_total"]),
                    cents_from_text(r["plb_total"]))
                for r in csv.DictReader(handle, delimiter="\t") if r["kind"] == "835"]


ROWS = _rows()
ROWS_5010 = [r for r in ROWS if not r.gs08.startswith("004010")]
ROWS_4010 = [r for r in ROWS if r.gs08.startswith("004010")]


@pytest.fixture
def empty_ledger(tmp_path: Path) -> Iterator[BillingLedger]:
    with freeze_time(TODAY):
        ledger = BillingLedger(
            env=resolve_store(str(tmp_path / "ledger.sqlite3")).event_store_env(),
            actor="biller")
        yield ledger
        ledger.close()


def test_the_expectations_cover_every_835_of_the_corpus() -> None:
    assert {r.file for r in ROWS_5010} == set(EXPECTED)
    assert len(ROWS_4010) == 4


@pytest.mark.parametrize("row", ROWS_5010, ids=lambda r: r.file)
def test_each_5010_835_posts_to_the_inventory_cent_or_is_refused_by_name(
    empty_ledger: BillingLedger, row: Row,
) -> None:
    ledger = empty_ledger
    raw = (CORPUS / row.file).read_bytes()
    expected = EXPECTED[row.file]
    result = import_835(ledger, raw, row.file)
    if expected != "posted":
        assert result.status == "refused", result
        assert expected in result.message
        assert ledger.events_count() == 0
        return
    assert result.status == "posted", result.message
    assert (result.payment_cents, result.claims, result.unmatched) == (
        row.bpr02_cents, row.claims, row.claims)
    assert result.provider_adjustment_cents == row.plb_cents
    # Everything the payer sent is kept: each claim's charge and payment, in suspense.
    held = [u for rid in result.remittance_ids
            for u in ledger.remittance(rid).unapplied.values()]
    assert sum(u["paid_cents"] for u in held) == row.clp04_cents
    assert sum(u["charge_cents"] for u in held) == row.clp03_cents
    # Money is conserved: posted + unapplied = BPR02 + ΣPLB.
    assert result.posted_cents + result.unapplied_cents == (
        result.payment_cents + result.provider_adjustment_cents)
    assert result.events == ledger.events_count()
    # And a second import records nothing.
    again = import_835(ledger, raw, row.file)
    assert (again.status, again.events) == ("already-posted", 0)
    assert ledger.events_count() == result.events


@pytest.mark.parametrize("row", ROWS_4010, ids=lambda r: r.file)
def test_4010_835s_are_refused_as_an_unsupported_version(
    empty_ledger: BillingLedger, row: Row,
) -> None:
    result = import_835(empty_ledger, (CORPUS / row.file).read_bytes(), row.file)
    assert result.status == "refused"
    assert f"unsupported version {row.gs08}" in result.message
    assert empty_ledger.events_count() == 0
