"""How the practice's reference data folds: payers and plans, contracts and fees, providers."""

from __future__ import annotations

from projections.rows import Fact, Fold, Row, iso, keyed, on

# -- practice reference data ----------------------------------------------------------------

@on("Payer.Registered")
def _payer(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    fold.stream(fact, "payer", d["payer_id"])
    fold.put("payers", d["payer_id"], {
        "payer_id": d["payer_id"], "name": d["name"], "filing_indicator": d["filing_indicator"],
        "expected_response_days": d["expected_response_days"]})


@on("Payer.PlanAdded")
def _payer_plan(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d = fact.data
    fold.put("payer_plans", (stream["key"], d["plan_id"]), {
        "payer_id": stream["key"], "plan_id": d["plan_id"], "name": d["name"],
        "product": d["product"]})


@on("Contract.Signed")
def _contract(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    fold.stream(fact, "contract", d["contract_id"])
    fold.put("contracts", d["contract_id"], {
        "contract_id": d["contract_id"], "payer_id": d["payer_id"],
        "plan_ids": list(d["plan_ids"]), "billing_npi": d["billing_npi"],
        "effective_on": iso(d["effective_on"]), "ends_on": iso(d["ends_on"]),
        "timely_filing_days": d["timely_filing_days"],
        "corrected_claim_days": d["corrected_claim_days"], "appeal_days": d["appeal_days"],
        "method": d["method"], "fees": [], "position": fact.position})


@on("Contract.FeeSet")
def _fee(fold: Fold, fact: Fact, stream: Row | None) -> None:
    found = keyed(fold, "contracts", stream)
    if found is None:
        return
    d = fact.data
    found[1]["fees"] = [*found[1]["fees"], [d["code"], d["modifier"], iso(d["effective_on"]),
                                            iso(d["ends_on"]), d["allowed_cents"]]]
    fold.put("contracts", *found)


@on("Provider.Enrolled")
def _provider(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    fold.put("providers", d["npi"], {
        "npi": d["npi"], "name": d["name"], "tin": d["tin"], "taxonomy": d["taxonomy"],
        "is_billing": int(bool(d["is_billing"])), "is_person": int(bool(d["is_person"]))})
