"""`_get_many`: several aggregates read a page of streams per query, each as `_get` reads it."""

from __future__ import annotations

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
