"""Hostile input for every importer: mutated real files, broken corpus files, hostile CSV.

Each file must end in a clean answer — posted, already posted, or a refusal whose message
names the file — never a traceback; and a refused file leaves the ledger exactly as it was.
The default suite runs a few hundred files; the slow suite runs more than 10,000.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.errors import BillingError
from importers import csv_import
from importers.remittance_import import import_835, import_acknowledgement
from importers.x12.claim_837_in import import_837

SHARED = Path(__file__).resolve().parents[3] / "shared"
CORPUS = sorted(p for p in (SHARED / "corpus" / "x12").rglob("*")
                if p.is_file() and p.suffix not in (".tsv", ".md"))
EXAMPLES = sorted((SHARED / "domain-examples").glob("*.x12"))

INSERTS = [b"~", b"*", b":", b"^", b"\n", b"\r\n", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
           b"ISA*", b"IEA*1*000000101~", b"SE*1*0001~", b"CLP*X*1*1*1~", b"CAS*CO*45*",
           b"9" * 30, b"-", b".", b"99999999999999999.99", b"0001", b"99991231", b"00010101",
           "\u00e9\u4e2d".encode(), b"*" * 200, b"PLB*1*20250101*WO*", b"SVC*HC:99214*"]

CSV_SEEDS = {
    "patients": b"account_no,last_name,first_name,birth_date,sex\nP1,DOE,JANE,1980-01-01,F\n",
    "chargemaster": b"code,price,description,effective_on\n99213,110.00,Visit,2024-01-01\n",
}
CSV_INSERTS = [b",", b'"', b"\n", b"\r", b"\x00", b"-1", b"1e999", b"99999999999999999999",
               b"0001-01-01", b"9999-12-31", b"=cmd|' /C calc'!A0", b"\xff", b"1,005.00",
               b"NaN", b"  ", b";"]


def mutate(data: bytes, rng: random.Random, inserts: list[bytes]) -> bytes:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(max(len(data), 1))
        kind = rng.random()
        if kind < 0.35:
            data = data[:at] + data[at + rng.randint(1, 30):]
        elif kind < 0.8:
            data = data[:at] + rng.choice(inserts) + data[at:]
        elif kind < 0.9:
            data = data[:at]
        else:
            data = data[:at] + data[at:at + 200] * rng.randint(2, 20) + data[at:]
    return data


def x12_files(count: int, seed: int) -> Iterator[tuple[str, bytes, str]]:
    """(name, bytes, kind of the file it came from)."""
    rng = random.Random(seed)
    seeds = [(p.name, p.read_bytes()) for p in [*EXAMPLES, *CORPUS]]
    kinds = {name: kind_of(data) for name, data in seeds}
    for name, data in seeds:   # every corpus file as it is, the broken ones included
        yield name, data, kinds[name]
    small = [(name, data) for name, data in seeds if len(data) < 20_000]
    for n in range(count):
        name, data = rng.choice(small)
        yield f"mutant{n}-{name}", mutate(data, rng, INSERTS), kinds[name]


def kind_of(data: bytes) -> str:
    for marker, kind in ((b"835", "835"), (b"999", "ack"), (b"277", "ack"), (b"837", "837")):
        for separator in (b"*", b"|", b"^", b":"):
            if b"ST" + separator + marker in data:
                return kind
    return "any"


IMPORTERS: dict[str, Callable[[BillingLedger, bytes, str], Any]] = {
    "835": import_835,
    "ack": import_acknowledgement,
    "837": import_837,
}


def answer(importer: Callable[[BillingLedger, bytes, str], Any], ledger: BillingLedger,
           data: bytes, name: str) -> str:
    """Run one import; return 'ok' or 'refused', asserting the ledger kept still on refusal."""
    before = ledger.events_count()
    try:
        outcome = importer(ledger, data, name)
    except BillingError as error:
        assert str(error).strip(), f"{name}: empty refusal"
        assert ledger.events_count() == before, f"{name}: refused but the ledger changed"
        return "refused"
    status = getattr(outcome, "status", None) or (
        outcome.get("status") if isinstance(outcome, dict) else None)
    if status == "refused":
        assert getattr(outcome, "message", ""), f"{name}: refused without a message"
        assert ledger.events_count() == before, f"{name}: refused but the ledger changed"
        return "refused"
    return "ok"


def run_fuzz(ledger: BillingLedger, count: int, seed: int) -> dict[str, int]:
    tally = {"ok": 0, "refused": 0}
    for name, data, kind in x12_files(count, seed):
        importers = IMPORTERS.values() if kind == "any" else [IMPORTERS[kind]]
        for importer in importers:
            tally[answer(importer, ledger, data, name)] += 1
    rng = random.Random(seed)
    for n in range(count // 4):
        kind = rng.choice(list(CSV_SEEDS))
        data = mutate(CSV_SEEDS[kind], rng, CSV_INSERTS)
        importer = getattr(csv_import, f"import_{kind}")
        tally[answer(lambda lg, d, nm, f=importer: f(lg, d, nm), ledger, data,
                     f"mutant{n}-{kind}.csv")] += 1
    return tally


@pytest.fixture
def fuzz_ledger(ledger: BillingLedger, practice: object) -> BillingLedger:
    return ledger


def test_a_few_hundred_hostile_files_are_answered_cleanly(fuzz_ledger: BillingLedger) -> None:
    tally = run_fuzz(fuzz_ledger, count=60, seed=1)
    assert tally["refused"] > tally["ok"]


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_ten_thousand_hostile_files_are_answered_cleanly(fuzz_ledger: BillingLedger) -> None:
    tally = run_fuzz(fuzz_ledger, count=8_000, seed=2)
    assert sum(tally.values()) >= 10_000
