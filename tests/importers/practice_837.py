"""A tiny practice built through ledger commands, for the 837P writer and sandbox tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from domain.application import BillingLedger

BILLING_NPI = "1234567893"
RENDERING_NPI = "1558598797"
PRIMARY = "12345"
SECONDARY = "67890"


def open_ledger(db: Path, actor: str = "biller", seed: int | None = 1) -> BillingLedger:
    return BillingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                              "SQLITE_DBNAME": str(db)}, actor=actor, seed=seed)


@dataclass
class Practice:
    ledger: BillingLedger
    accounts: dict[str, str] = field(default_factory=dict)
    encounters: dict[str, str] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)


def build_practice(db: Path, *, seed: int = 1) -> Practice:
    """Two payers with fee schedules; John (his own subscriber, two lines, primary only) and
    Amy (a child on her mother's policy, seen by a rendering doctor, primary then secondary)."""
    ledger = open_ledger(db, seed=seed)
    practice = Practice(ledger)
    ledger.enroll_provider(BILLING_NPI, "ACME MEDICAL GROUP", "123456789", "207Q00000X",
                           is_billing=True, is_person=False,
                           address={"line1": "100 MAIN ST", "city": "SPRINGFIELD",
                                    "state": "IL", "zip": "627011234"})
    ledger.enroll_provider(RENDERING_NPI, "WELBY, MARCUS", "987654321", "207R00000X")
    ledger.register_payer(PRIMARY, "ACME HEALTH PLAN")
    ledger.add_plan(PRIMARY, "ACMEPPO", "Acme PPO")
    ledger.sign_contract("K1", PRIMARY, ["ACMEPPO"], BILLING_NPI, date(2024, 1, 1),
                         fees=[("99214", "", 10000), ("93000", "", 3000), ("99213", "", 7000),
                               ("90460", "", 2000)])
    ledger.register_payer(SECONDARY, "SECOND MUTUAL", filing_indicator="BL")
    ledger.add_plan(SECONDARY, "SMBASIC", "Second Mutual Basic")
    ledger.sign_contract("K2", SECONDARY, ["SMBASIC"], BILLING_NPI, date(2024, 1, 1),
                         fees=[("99213", "", 9000), ("90460", "", 2500)])
    ledger.set_prices([("99214", 15000, "Office visit est"), ("93000", 5000, "ECG"),
                       ("99213", 11000, "Office visit low"), ("90460", 3000, "Imm admin")],
                      date(2024, 1, 1))
    john = ledger.register_patient("Doe", "John", date(1980, 1, 1), "M", address={
        "line1": "200 OAK AVE", "city": "SPRINGFIELD", "state": "IL", "zip": "62704"})
    ledger.add_coverage(john, PRIMARY, "ACMEPPO", "W123456789", group_number="GRP12345",
                        effective_on=date(2024, 1, 1))
    amy = ledger.register_patient("Roe", "Amy", date(2015, 6, 1), "F", address={
        "line1": "9 ELM ST", "city": "SPRINGFIELD", "state": "IL", "zip": "62704"})
    mother = {"last_name": "ROE", "first_name": "JANE", "birth_date": "1985-02-03", "sex": "F",
              "address": {"line1": "9 ELM ST", "city": "SPRINGFIELD", "state": "IL",
                          "zip": "62704"}}
    ledger.add_coverage(amy, PRIMARY, "ACMEPPO", "W555000111", group_number="GRP12345",
                        relationship="19", subscriber=mother, effective_on=date(2024, 1, 1))
    ledger.add_coverage(amy, SECONDARY, "SMBASIC", "SM777", relationship="19",
                        subscriber=mother, effective_on=date(2024, 1, 1))
    practice.accounts = {"john": john, "amy": amy}
    e1 = ledger.open_encounter(john, date(2025, 1, 10), billing_npi=BILLING_NPI,
                               diagnoses=["I10", "R07.89"])
    ledger.enter_charge(e1, "99214", modifiers=["25"], pointers=[1, 2])
    ledger.enter_charge(e1, "93000", pointers=[2, 1])
    e2 = ledger.open_encounter(amy, date(2025, 1, 12), billing_npi=BILLING_NPI,
                               rendering_npi=RENDERING_NPI, diagnoses=["Z00.129"],
                               prior_authorization="AUTH42")
    ledger.enter_charge(e2, "99213", pointers=[1])
    ledger.enter_charge(e2, "90460", units=2, pointers=[1])
    practice.encounters = {"john": e1, "amy": e2}
    for who, encounter in practice.encounters.items():
        claim = ledger.create_claim(encounter)
        assert ledger.scrub_claim(claim) == [], who
        practice.claims[who] = claim
    return practice


def to_remits(outs: list, paid_on: date, tag: str) -> list:
    """The sandbox's decisions as the ClaimRemits an 835 importer would build from its 835."""
    from domain.remittance import CasAdjustment, ClaimRemit, ServiceRemit

    remits = []
    for n, out in enumerate(outs, start=1):
        services = tuple(
            ServiceRemit(line.code, tuple(line.modifiers), line.charge_cents, line.paid_cents,
                         tuple(CasAdjustment(a.group, a.carc, a.amount_cents)
                               for a in line.adjustments),
                         rarcs=line.rarcs, line_ref=line.line_ref,
                         service_date=line.service_date, units=line.units, index=i)
            for i, line in enumerate(out.lines, start=1))
        remits.append(ClaimRemit(
            claim_id=out.claim.claim_id, status_code=out.status, charge_cents=out.charge_cents,
            paid_cents=out.paid_cents,
            patient_responsibility_cents=out.patient_responsibility_cents,
            payer_claim_control_number=out.payer_claim_control_number, paid_on=paid_on,
            source=f"era:{tag}:CLP{n}",
            claim_adjustments=tuple(CasAdjustment(a.group, a.carc, a.amount_cents)
                                    for a in out.claim_adjustments),
            services=services))
    return remits


def segments_of(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]
