"""kill -9 the 835 importer at random points: nothing partial, verify passes, re-run posts once.

The import posts a whole file in one save (one transaction), so a process killed at any
instant leaves the ledger either exactly as before or with the whole file posted; SQLite's
WAL rolls a torn transaction back when the next process opens the file.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from domain import clock
from domain.application import BillingLedger
from domain.migration import copy_events
from domain.services.core import chain_break
from domain.storage import resolve_store
from tests.builders import open_visit, register_patient, set_up_practice

ROOT = Path(__file__).resolve().parents[2]
CLAIMDESK = [sys.executable, "-m", "tui.cli"]
LAST_NAMES = ["SMITH", "JONES", "BROWN", "TAYLOR", "WILSON", "DAVIES", "EVANS", "THOMAS"]


@dataclass(frozen=True)
class Kit:
    base: Path          # the ledger with every claim submitted
    era: Path           # the sandbox's 835 for them
    before: int         # events before the import
    after: int          # events after one clean import
    seconds: float      # how long a clean import takes


def claimdesk(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*CLAIMDESK, "--db", str(db), *args], capture_output=True,
                            text=True, cwd=ROOT, timeout=600, check=False)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def build_kit(workdir: Path, claims: int) -> Kit:
    # Built in memory and copied, so setting up hundreds of claims costs no fsyncs.
    memory = BillingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                "SQLITE_DBNAME": ":memory:"}, actor="biller", seed=3)
    set_up_practice(memory)
    service_date = clock.today() - timedelta(days=10)   # the CLI below runs on the real clock
    for n in range(claims):
        account = register_patient(memory, last_name=LAST_NAMES[n % len(LAST_NAMES)],
                                   first_name=f"PAT{n:04d}".replace("0", "O"),
                                   birth_date=date(1950 + n % 50, 1 + n % 12, 1 + n % 28))
        visit = open_visit(memory, account, service_date=service_date)
        claim_id = memory.create_claim(visit.encounter_id)
        assert memory.scrub_claim(claim_id) == []
    base = workdir / "base.sqlite3"
    copy_events(memory, BillingLedger(env=resolve_store(str(base)).event_store_env()))
    batch, era = workdir / "batch.837", workdir / "era.835"
    claimdesk(base, "claims", "submit", "--out", str(batch), "--json")
    claimdesk(base, "sandbox", "adjudicate", str(batch), "--out", str(era), "--seed", "1",
              "--denial-rate", "0.1")
    before = BillingLedger(env=resolve_store(str(base)).event_store_env()).events_count()
    reference = workdir / "reference.sqlite3"
    shutil.copy(base, reference)
    started = time.monotonic()
    summary = json.loads(claimdesk(reference, "import", "835", str(era), "--json").stdout)
    seconds = time.monotonic() - started
    files = summary if isinstance(summary, list) else summary.get("files", [summary])
    assert files[0]["status"] == "posted", files
    after = BillingLedger(env=resolve_store(str(reference)).event_store_env()).events_count()
    assert after > before
    return Kit(base, era, before, after, seconds)


def crash_trial(kit: Kit, workdir: Path, rng: random.Random, n: int) -> str:
    db = workdir / f"trial{n}.sqlite3"
    shutil.copy(kit.base, db)
    process = subprocess.Popen([*CLAIMDESK, "--db", str(db), "import", "835", str(kit.era),
                                "--json"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.05, kit.seconds * 1.1))
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    ledger = BillingLedger(env=resolve_store(str(db)).event_store_env())
    count = ledger.events_count()
    assert count in (kit.before, kit.after), f"partial import: {count} events"
    assert chain_break(ledger) is None
    from projections.queries import BillingQueries

    queries = BillingQueries.for_ledger(ledger)
    queries.catch_up()
    report = queries.verify()
    assert report["ok"], report
    queries.close()
    # Running the import again posts the file exactly once in all.
    again = json.loads(claimdesk(db, "import", "835", str(kit.era), "--json").stdout)
    files = again if isinstance(again, list) else again.get("files", [again])
    expected = "posted" if count == kit.before else "already-posted"
    assert files[0]["status"] == expected
    final = BillingLedger(env=resolve_store(str(db)).event_store_env()).events_count()
    assert final == kit.after
    return "before" if count == kit.before else "after"


def test_a_killed_import_leaves_nothing_partial(tmp_path: Path) -> None:
    kit = build_kit(tmp_path, claims=40)
    rng = random.Random(1)
    outcomes = [crash_trial(kit, tmp_path, rng, n) for n in range(3)]
    assert set(outcomes) <= {"before", "after"}


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_twenty_kills_at_random_points_while_posting_a_large_835(tmp_path: Path) -> None:
    kit = build_kit(tmp_path, claims=300)
    rng = random.Random(20)
    outcomes = [crash_trial(kit, tmp_path, rng, n) for n in range(20)]
    # Both sides of the commit were hit at least once, or the kills proved nothing.
    assert "before" in outcomes
