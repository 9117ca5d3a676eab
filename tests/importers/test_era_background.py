"""pyx12 in a second process while the 835 posts in memory: the same verdicts, nothing saved first.

Large files are validated by a child process (`importers.x12.validate.BackgroundValidation`)
on a machine with two cores; these tests ask for it (CLAIMDESK_VALIDATE=background) so the small
example files take that path too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.ledger import PATIENT
from importers import remittance_import
from importers.remittance_import import VALIDATE_ENV_VAR, import_835
from importers.x12.segments import decode, tokenize
from importers.x12.validate import BackgroundValidation, validate
from tests.builders import Visit
from tests.importers.test_era import build_835
from tests.importers.test_era_posting import MIN, money

Reports = list[tuple[int, Any]]


@pytest.fixture
def reports(monkeypatch: pytest.MonkeyPatch, ledger: BillingLedger) -> Reports:
    """Every file goes to the child process; records (events in the ledger, verdict) each
    time the importer takes the child's verdict."""
    monkeypatch.setenv(VALIDATE_ENV_VAR, "background")
    seen: Reports = []
    original = BackgroundValidation.report

    def report(self: BackgroundValidation, progress: Callable[[int, int], None] | None = None,
               ) -> Any:
        verdict = original(self, progress)
        seen.append((ledger.events_count(), verdict))
        return verdict

    monkeypatch.setattr(BackgroundValidation, "report", report)
    return seen


def test_the_child_gives_the_verdict_validate_gives() -> None:
    for raw in (MIN, build_835(se_count=30)):
        child = BackgroundValidation(raw, "x.835")
        try:
            report = child.report()
        finally:
            child.cancel()
        assert report == validate(tokenize(decode(raw))[1])
    assert not validate(tokenize(decode(build_835(se_count=30)))[1]).ok


def test_the_worked_example_posts_exactly_as_when_validated_first(
    ledger: BillingLedger, visit: Visit, claim_id: str, reports: Reports,
) -> None:
    before = ledger.events_count()
    result = import_835(ledger, MIN, "835_min.x12")
    assert (result.status, result.payment_cents, result.matched, result.message) == (
        "posted", 8000, 1, "")
    # The verdict was taken before anything was saved, and it found nothing wrong.
    assert len(reports) == 1 and reports[0][0] == before and reports[0][1].ok
    assert ledger.events_count() - before == result.events
    assert money(ledger, visit) == [(8000, 5000, {PATIENT: 2000}), (0, 2000, {PATIENT: 3000})]


def test_a_file_pyx12_rejects_is_refused_with_nothing_saved(
    ledger: BillingLedger, visit: Visit, claim_id: str, reports: Reports,
) -> None:
    before = ledger.events_count()
    result = import_835(ledger, build_835(se_count=30), "badcount.835")
    assert result.status == "refused" and ledger.events_count() == before
    assert result.message.startswith("refused, nothing posted: pyx12: segment 25 ST: SE count "
                                     "of 30 for SE02=0001 is wrong. I count 23")
    assert (result.payment_cents, result.claims, result.events) == (8000, 1, 0)
    assert len(reports) == 1 and not reports[0][1].ok
    # Refused the same way a second time, and nothing was posted in between.
    assert import_835(ledger, build_835(se_count=30), "badcount.835").message == result.message
    assert ledger.events_count() == before


def test_a_dry_run_of_a_file_pyx12_rejects_is_refused(
    ledger: BillingLedger, visit: Visit, claim_id: str, reports: Reports,
) -> None:
    result = import_835(ledger, build_835(se_count=30), "badcount.835", dry_run=True)
    assert (result.status, result.dry_run, result.postings) == ("refused", True, [])


def test_an_already_posted_file_is_still_judged_by_pyx12_first(
    ledger: BillingLedger, visit: Visit, claim_id: str, reports: Reports,
) -> None:
    assert import_835(ledger, MIN, "835_min.x12").status == "posted"
    again = import_835(ledger, MIN, "835_min.x12")
    assert again.status == "already-posted" and len(reports) == 2


def test_without_a_verdict_from_the_child_the_file_is_validated_here(
    ledger: BillingLedger, visit: Visit, claim_id: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(VALIDATE_ENV_VAR, "background")
    monkeypatch.setattr(BackgroundValidation, "report", lambda self, progress=None: None)
    before = ledger.events_count()
    refused = import_835(ledger, build_835(se_count=30), "badcount.835")
    assert refused.status == "refused" and "SE count of 30" in refused.message
    assert ledger.events_count() == before
    assert import_835(ledger, MIN, "835_min.x12").status == "posted"


def test_a_large_file_on_a_machine_with_two_cores_gets_a_second_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(VALIDATE_ENV_VAR, raising=False)
    started: list[str] = []
    monkeypatch.setattr(remittance_import, "BackgroundValidation",
                        lambda raw, name: started.append(name))
    monkeypatch.setattr(remittance_import, "_two_cores", lambda: True)
    remittance_import._background(b"x" * remittance_import.BACKGROUND_MIN_BYTES, "big.835")
    remittance_import._background(b"x" * 1000, "small.835")
    monkeypatch.setattr(remittance_import, "_two_cores", lambda: False)
    remittance_import._background(b"x" * remittance_import.BACKGROUND_MIN_BYTES, "one.835")
    assert started == ["big.835"]


def test_one_core_validates_in_one_process_and_the_load_does_not_decide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(remittance_import.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(remittance_import.os, "getloadavg", lambda: (4.0, 4.0, 4.0))
    assert remittance_import._two_cores()
    monkeypatch.setattr(remittance_import.os, "cpu_count", lambda: 1)
    monkeypatch.setattr(remittance_import.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert not remittance_import._two_cores()


def test_a_forked_child_and_a_new_interpreter_give_the_verdict_validate_gives() -> None:
    for raw in (MIN, build_835(se_count=30), b"not an x12 file"):
        answers = []
        for fork in (True, False):
            child = BackgroundValidation(raw, "x.835", fork=fork)
            try:
                answers.append(child.report())
            finally:
                child.cancel()
        assert answers[0] == answers[1]
        if raw.startswith(b"ISA"):
            assert answers[0] == validate(tokenize(decode(raw))[1])
        else:
            assert answers[0] is None   # refused by the tokenizer, never asked of pyx12


def test_a_cancelled_forked_child_is_reaped() -> None:
    child = BackgroundValidation(build_835(se_count=30), "x.835", fork=True)
    child.cancel()
    with pytest.raises(ChildProcessError):   # already waited for: no zombie left behind
        os.waitpid(child._pid, 0)


def test_one_process_only_when_asked(
    ledger: BillingLedger, visit: Visit, claim_id: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(remittance_import, "BACKGROUND_MIN_BYTES", 0)
    monkeypatch.setattr(remittance_import, "_two_cores", lambda: True)
    monkeypatch.setenv(VALIDATE_ENV_VAR, "inline")

    def no_child(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a child process was started")

    monkeypatch.setattr(remittance_import, "BackgroundValidation", no_child)
    assert import_835(ledger, MIN, "835_min.x12").status == "posted"


def test_nothing_the_forked_child_prints_reaches_the_importers_output(
        capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`claimdesk import 835 --json` writes one document: a warning printed by anything the
    child runs (or a flush of stdout's buffer inherited from the importer) must not join it."""
    from importers.x12 import validate as validate_module

    real = validate_module._answer

    def noisy(raw: bytes, name: str, out: Any) -> int:
        print("child-noise-out")
        os.write(2, b"child-noise-err\n")
        return real(raw, name, out)

    monkeypatch.setattr(validate_module, "_answer", noisy)
    print("importer-buffered", end="")   # still in stdout's buffer when the fork happens
    child = BackgroundValidation(MIN, "x.835", fork=True)
    try:
        assert child.report() == validate(tokenize(decode(MIN))[1])
    finally:
        child.cancel()
    out, err = capfd.readouterr()
    assert "child-noise" not in out + err
    assert out.count("importer-buffered") == 1
