"""`_get_many`: several aggregates read a page of streams per query, each as `_get` reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.application import BillingLedger
from domain.claim import Claim
from domain.encounter import Encounter
from domain.services import core
from tests.builders import Practice, open_visit, register_patient, submitted_claim


def test_each_aggregate_is_what_get_reads_and_missing_keys_are_left_out(
    ledger: BillingLedger, practice: Practice,
) -> None:
    visits = [open_visit(ledger, register_patient(ledger)) for _ in range(3)]
    claims = [submitted_claim(ledger, v.encounter_id) for v in visits]
    many = ledger._get_many(Claim, [(c,) for c in [*claims, "NOSUCHCLAIM", claims[0]]])
    assert list(many) == [Claim.create_id(c) for c in claims]
    for claim_id in claims:
        one = ledger._get(Claim, claim_id)
        got = many[one.id]
        assert (type(got), got.version, got.chain_head()) == (Claim, one.version, one.chain_head())
        assert vars(got) == vars(one)
    encounters = ledger._get_many(Encounter, [(v.encounter_id,) for v in visits])
    assert [e.encounter_id for e in encounters.values()] == [v.encounter_id for v in visits]
    # A stream of another kind under the key is not this kind.
    assert ledger._get_many(Encounter, [(claims[0],)]) == {}


def test_many_pages_of_streams(ledger: BillingLedger, practice: Practice,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    visits = [open_visit(ledger, register_patient(ledger)) for _ in range(5)]
    monkeypatch.setattr(core, "STREAMS_PER_QUERY", 2)
    found = ledger._get_many(Encounter, [(v.encounter_id,) for v in visits])
    assert [e.encounter_id for e in found.values()] == [v.encounter_id for v in visits]


def test_a_store_with_text_stream_ids_is_read_in_one_query_too(tmp_path: Path) -> None:
    """ORIGINATOR_ID_TYPE=text: the recorder stores a UUID as its hex, and so is it asked."""
    from freezegun import freeze_time

    from domain.storage import resolve_store
    from tests.builders import TODAY, set_up_practice

    env = {**resolve_store(str(tmp_path / "text-ids.sqlite3")).event_store_env(),
           "ORIGINATOR_ID_TYPE": "text"}
    with freeze_time(TODAY):
        ledger = BillingLedger(env=env, actor="biller", seed=3)
        set_up_practice(ledger)
        visit = open_visit(ledger, register_patient(ledger))
        stored = core._select_streams(ledger.recorder, [Encounter.create_id(visit.encounter_id)])
        assert stored and {s.originator_version for s in stored} == set(
            range(1, len(stored) + 1))
        ledger.close()
