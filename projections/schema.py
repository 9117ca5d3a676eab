"""The read-model tables: columns, keys and indexes, in SQL both SQLite and PostgreSQL accept.

Dates are ISO ``YYYY-MM-DD`` text and instants ISO UTC text with microseconds, so they
compare as strings the same way in both engines; money is BIGINT cents; nested values
(coverage, claims of a line, open denials) are JSON text. Every table is named with the
``rm_`` prefix so the read models sit next to the event table without clashing.
"""

from __future__ import annotations

from dataclasses import dataclass

# Bump when a table or the fold changes: a store on an older version rebuilds itself.
SCHEMA_VERSION = "9"
PREFIX = "rm_"

TEXT, INT, JSON, BLOB = "text", "int", "json", "blob"
# SQLite: INTEGER (64-bit there) makes a one-column integer key the rowid itself.
SQL_TYPES = {TEXT: "TEXT", INT: "INTEGER", JSON: "TEXT", BLOB: "BLOB"}
POSTGRES_TYPES = {TEXT: "TEXT", INT: "BIGINT", JSON: "TEXT", BLOB: "BYTEA"}


@dataclass(frozen=True)
class Table:
    """One read-model table. `mode` says how the fold writes it.

    ``dim``: rows keyed and updated in place (upsert); ``append``: one new row per fact,
    never updated; ``set``: rows added once, a repeat is ignored.
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    mode: str = "dim"
    indexes: tuple[tuple[str, ...], ...] = ()
    # (name, columns, condition): an index of the rows a query asks for by that condition.
    partial_indexes: tuple[tuple[str, tuple[str, ...], str], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return _COLUMN_NAMES[self.name]

    @property
    def json_columns(self) -> frozenset[str]:
        return _JSON_COLUMNS[self.name]


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    """'a b:int c:json' -> (('a','text'), ('b','int'), ('c','json'))."""
    out = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        out.append((name, kind or TEXT))
    return tuple(out)


TABLES: tuple[Table, ...] = (
    Table("streams", _cols("stream_id kind key account_no encounter_id claim_id"),
          ("stream_id",)),
    Table("postings", _cols(
        "position:int seq:int recorded_at effective_on actor event_type encounter_id "
        "account_no guarantor_account_no line_id claim_id plan_id party category "
        "amount_cents:int bucket_delta:int balance_delta:int kind adjustment_group carc rarcs "
        "reason source entry_id reverses_entry_id"),
          ("position", "seq"), "append",
          # Covering: an account's balances, as of any date, read from the index alone.
          (("account_no", "line_id", "party", "effective_on", "recorded_at", "bucket_delta"),
           ("guarantor_account_no",), ("line_id",), ("entry_id",), ("effective_on",))),
    # What an account's history is searched, ordered and summed by; the rest of a row
    # (its stream, aggregate, actor, line and details) is read off the event it stands for.
    Table("events", _cols(
        "position:int event_type account_no encounter_id claim_id effective_on recorded_at "
        "amount_cents:int money:int"),
          ("position",), "append",
          (("account_no", "position"),),
          # The billed basis of aging asks for claims' submissions only: an index of every
          # history row by claim took a quarter of a rebuild's index building.
          (("submitted", ("claim_id", "effective_on", "recorded_at"),
            "event_type = 'Submitted'"),)),
    Table("accounts", _cols(
        "account_no last_name first_name middle_name name birth_date sex address:json phone "
        "reason_for_visit registered_on guarantor_account_no guarantor_relationship "
        "dependents:json policies:json coverage_order:json eligibility:json discounts:json "
        "recorded_at"),
          ("account_no",), "dim", (("guarantor_account_no",), ("name",))),
    Table("encounters", _cols(
        "encounter_id account_no guarantor_account_no service_date place_of_service "
        "billing_npi rendering_npi referring_npi prior_authorization diagnoses:json "
        "coverage:json self_pay:int recorded_at position:int"),
          ("encounter_id",), "dim", (("account_no",),)),
    Table("lines", _cols(
        "line_id encounter_id account_no code modifiers:json units_milli:int "
        "unit_price_cents:int charge_cents:int description service_date place_of_service "
        "pointers:json reversed:int claims:json recorded_at position:int payers:json "
        "unclaimed:int"),
          ("line_id",), "dim", (("encounter_id",), ("account_no",), ("unclaimed",))),
    Table("claim_lines", _cols("claim_id line_id"), ("claim_id", "line_id"), "set",
          (("line_id",),)),
    Table("claims", _cols(
        "claim_id encounter_id account_no payer_id plan_id policy_id coverage_order "
        "line_ids:json charge_cents:int billing_npi service_date created_on state state_on "
        "frequency claim_version:int problems:json filing_override:json submissions:int "
        "first_submitted_on last_submitted_on batch_id first_response first_response_on "
        "accepted_on payer_claim_control_number rejection:json adjudications:json outcome "
        "paid_cents:int first_adjudicated_on first_outcome submissions_at_first_adjudication:int "
        "ever_denied:int denied_cents:int open_denials:json denial_recorded_at "
        "denial_first_action_at voided_on closed_on recorded_at position:int"),
          ("claim_id",), "dim", (("account_no",), ("state",))),
    Table("statements", _cols(
        "statement_id account_no issued_on dunning_level:int balance_cents:int due_on "
        "line_count:int recorded_at"),
          ("statement_id",), "dim", (("account_no",),)),
    Table("statement_lines", _cols(
        "statement_id line_id issued_on recorded_at patient_cents:int"),
          ("statement_id", "line_id"), "set", (("line_id",),)),
    Table("payment_plans", _cols(
        "plan_id account_no total_cents:int installment_cents:int frequency_days:int "
        "starts_on status missed:int last_missed_on defaulted_on completed_on position:int"),
          ("plan_id",), "dim", (("account_no",),)),
    Table("referrals", _cols(
        "referral_id account_no agency referred_on referred_cents:int approved_by "
        "recovered_cents:int fee_cents:int recalled_cents:int status recalled_on "
        "position:int"),
          ("referral_id",), "dim", (("account_no",),)),
    Table("refunds", _cols(
        "account_no request_id amount_cents:int payee requested_on requested_by reason "
        "status decided_by decided_on"),
          ("account_no", "request_id")),
    Table("payers", _cols("payer_id name filing_indicator expected_response_days:int"),
          ("payer_id",)),
    Table("payer_plans", _cols("payer_id plan_id name product"), ("payer_id", "plan_id")),
    Table("contracts", _cols(
        "contract_id payer_id plan_ids:json billing_npi effective_on ends_on "
        "timely_filing_days:int corrected_claim_days:int appeal_days:int method fees:json "
        "position:int"),
          ("contract_id",)),
    Table("providers", _cols("npi name tin taxonomy is_billing:int is_person:int"), ("npi",)),
    # working the A/R (issue 10): folded by projections.fold_follow_up
    Table("work_items", _cols(
        "item kind key account_no claim_id assigned_to assigned_at assigned_by rule opened_at "
        "activities:int first_worked_at last_worked_at last_worked_by last_worked_on "
        "last_outcome next_action_on appeal_id appeal_status letters:int"),
          ("item",), "dim", (("assigned_to",),)),
    Table("work_events", _cols(
        "position:int item actor worker recorded_at worked_on event_type channel outcome "
        "promise_on promise_cents:int next_action_on detail"),
          ("position", "item"), "append", (("item",),)),
    Table("work_appeals", _cols(
        "appeal_id claim_id level filed_on filed_at filed_by denied_on deadline deadline_basis "
        "denied_cents:int letter_sha256 letter_on outcome decided_on decided_by"),
          ("appeal_id",), "dim", (("claim_id",),)),
    Table("work_letters", _cols(
        "letter_id item account_no letter_kind issued_on recorded_at actor sha256 "
        "dunning_level:int balance_cents:int statement_id"),
          ("letter_id",), "dim", (("account_no",),)),
)

TABLE = {t.name: t for t in TABLES}
_COLUMN_NAMES = {t.name: tuple(c for c, _ in t.columns) for t in TABLES}
_JSON_COLUMNS = {t.name: frozenset(c for c, k in t.columns if k == JSON) for t in TABLES}


def create_statements(prefix: str = PREFIX, *, indexes: bool = True,
                      dialect: str = "sqlite") -> list[str]:
    """CREATE TABLE (and optionally CREATE INDEX) statements for every read model."""
    types = POSTGRES_TYPES if dialect == "postgres" else SQL_TYPES
    statements = [
        f"CREATE TABLE IF NOT EXISTS {prefix}meta (key TEXT PRIMARY KEY, value TEXT)",
        f"CREATE TABLE IF NOT EXISTS {prefix}tracking "
        "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    ]
    for table in TABLES:
        cols = ", ".join(f"{c} {types[t]}" for c, t in table.columns)
        # SQLite: a table keyed by text or by two columns is stored in its key's B-tree
        # (WITHOUT ROWID), so an upsert or a lookup by key touches one tree, not two.
        clustered = dialect == "sqlite" and (
            len(table.key) > 1 or dict(table.columns)[table.key[0]] != INT)
        statements.append(f"CREATE TABLE IF NOT EXISTS {prefix}{table.name} "
                          f"({cols}, PRIMARY KEY ({', '.join(table.key)}))"
                          + (" WITHOUT ROWID" if clustered else ""))
    if indexes:
        statements += index_statements(prefix)
    return statements


# Indexes earlier versions made that no query uses any more: dropped when a store is opened
# (the rows are the same, so no rebuild). rm_postings(encounter_id) cost 7% of an 835's
# read-model writes (one B-tree insert in seven per posting) and served no read.
RETIRED_INDEXES = ("postings_encounter_id_ix",)


def index_statements(prefix: str = PREFIX) -> list[str]:
    out = [f"DROP INDEX IF EXISTS {prefix}{name}" for name in RETIRED_INDEXES]
    for table in TABLES:
        for cols in table.indexes:
            name = f"{prefix}{table.name}_{'_'.join(cols)}_ix"
            out.append(f"CREATE INDEX IF NOT EXISTS {name} ON {prefix}{table.name} "
                       f"({', '.join(cols)})")
        for label, cols, condition in table.partial_indexes:
            out.append(f"CREATE INDEX IF NOT EXISTS {prefix}{table.name}_{label}_ix ON "
                       f"{prefix}{table.name} ({', '.join(cols)}) WHERE {condition}")
    return out


def table_names(prefix: str = PREFIX) -> list[str]:
    return [f"{prefix}meta", f"{prefix}tracking"] + [f"{prefix}{t.name}" for t in TABLES]
