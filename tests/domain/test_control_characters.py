"""Names, addresses, phones, ids and reasons are one line of printable text: a control
character (ESC, BEL, tab, newline, C1) is refused, naming the field, by registration, by
corrections and coverage, and by the patients CSV (naming line and column)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.application import BillingLedger
from domain.import_record import ImportRefused
from domain.text import ControlCharacterError, control_character
from importers.csv_import import import_patients
from tests.builders import EFFECTIVE, PRIMARY, PRIMARY_PLAN, Practice, refused, register_patient

OSC_TITLE = "DOE\x1b]0;pwned\x07"       # sets the terminal's title when printed raw
CLEAR = "\x1b[2J"


@pytest.mark.parametrize(("text", "found"), [
    ("DOE", None), ("O'BRIEN-SMITH [JR] ÉÑ漢字", None), (OSC_TITLE, "\\x1b"),
    ("A\tB", "\\x09"), ("A\nB", "\\x0a"), ("A\x7f", "\\x7f"), ("A\x9b2J", "\\x9b"),
    ("\x00", "\\x00")])
def test_the_first_control_character_is_named(text: str, found: str | None) -> None:
    assert control_character(text) == found


class TestRegistration:
    @pytest.mark.parametrize(("field", "what"), [
        ("last_name", "last name"), ("first_name", "first name"),
        ("middle_name", "middle name"), ("phone", "phone")])
    def test_a_name_or_phone_with_a_control_character_is_refused_naming_the_field(
            self, ledger: BillingLedger, field: str, what: str) -> None:
        values = {"last_name": "DOE", "first_name": "JANE", "middle_name": "", "phone": ""}
        values[field] = OSC_TITLE if field != "phone" else "555\x0712"
        with refused(ledger, ControlCharacterError,
                     match=f"^{what} contains a control character") as info:
            ledger.register_patient(values["last_name"], values["first_name"],
                                    date(1980, 1, 1), "F", middle_name=values["middle_name"],
                                    phone=values["phone"])
        assert info.value.title == "Control character"
        assert "pwned" not in str(info.value)   # the value is not echoed back

    def test_a_clear_screen_typed_as_a_name_is_refused(self, ledger: BillingLedger) -> None:
        with refused(ledger, ControlCharacterError, match="last name .*\\\\x1b"):
            ledger.register_patient(CLEAR, "JANE", date(1980, 1, 1), "F")

    @pytest.mark.parametrize("key", ["line1", "line2", "city", "state", "zip"])
    def test_every_address_field_is_checked(self, ledger: BillingLedger, key: str) -> None:
        address = {"line1": "1 ELM", "city": "SPRINGFIELD", "state": "IL", "zip": "62704"}
        address[key] = address.get(key, "") + "\t"
        # A trailing tab would be stripped; one inside the value is kept, so refused.
        address[key] = "\t".join([address[key][:1], address[key][1:]])
        with refused(ledger, ControlCharacterError, match=f"^address {key} contains"):
            ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F", address=address)

    def test_brackets_and_accents_are_welcome(self, ledger: BillingLedger) -> None:
        account_no = ledger.register_patient(
            "SMITH [/JR]", "ÉLODIE", date(1980, 1, 1), "F",
            address={"line1": "12 MAIN ST [#2]", "city": "SPRINGFIELD"})
        account = ledger.account(account_no)
        assert (account.last_name, account.address["line1"]) == ("SMITH [/JR]", "12 MAIN ST [#2]")


class TestAccountChanges:
    def test_a_correction_cannot_let_in_what_registration_refuses(
            self, ledger: BillingLedger) -> None:
        account_no = ledger.register_patient("DOE", "JANE", date(1980, 1, 1), "F")
        with refused(ledger, ControlCharacterError, match="^last name"):
            ledger.correct_demographics(account_no, "typo", last_name=OSC_TITLE)
        with refused(ledger, ControlCharacterError, match="^address city"):
            ledger.correct_demographics(account_no, "moved", address={"city": "A\x1bB"})
        with refused(ledger, ControlCharacterError, match="^reason"):
            ledger.correct_demographics(account_no, "typo\x07", last_name="ROE")

    def test_coverage_ids_and_subscriber_names_are_checked(
            self, ledger: BillingLedger, practice: Practice) -> None:
        account_no = register_patient(ledger, coverage=())
        with refused(ledger, ControlCharacterError, match="^member id"):
            ledger.add_coverage(account_no, PRIMARY, PRIMARY_PLAN, "W1\x1b", effective_on=EFFECTIVE)
        with refused(ledger, ControlCharacterError, match="^subscriber last name"):
            ledger.add_coverage(account_no, PRIMARY, PRIMARY_PLAN, "W1", relationship="19",
                                subscriber={"last_name": OSC_TITLE, "first_name": "ANN"},
                                effective_on=EFFECTIVE)


class TestPatientsCsv:
    def test_a_row_with_a_control_character_is_refused_naming_line_and_column(
            self, ledger: BillingLedger) -> None:
        data = ("account_no,last_name,first_name,birth_date,sex,address_line1\n"
                "MRN900,SMITH [/JR],JOHN,1970-01-01,M,12 MAIN ST [#2]\n"
                f"MRN901,{OSC_TITLE},JANE,1971-01-01,F,1 ELM\n"
                'MRN902,POE,ANN,1972-01-01,F,"1 ELM\tAPT 2"\n').encode()
        with refused(ledger, ImportRefused) as info:
            import_patients(ledger, data, "markup.csv")
        assert info.value.problems == [
            "line 3, column last_name: contains a control character (\\x1b)",
            "line 4, column address_line1: contains a control character (\\x09)"]


class TestPracticeNames:
    """Payer, plan and provider names are shown and sent as widely as a patient's."""

    def test_a_payer_or_plan_name_with_a_control_character_is_refused(
            self, ledger: BillingLedger) -> None:
        with refused(ledger, ControlCharacterError, "payer name contains a control"):
            ledger.register_payer("ODDPAYER", "ODD\x1b]0;X\x07 HEALTH")
        with refused(ledger, ControlCharacterError, "address city contains a control"):
            ledger.register_payer("ODDPAYER", "ODD HEALTH", address={"city": "A\tB"})
        ledger.register_payer("ODDPAYER", "ODD [HEALTH]")   # brackets are printable
        with refused(ledger, ControlCharacterError, "plan name contains a control"):
            ledger.add_plan("ODDPAYER", "PPO1", "GOLD\nPLAN")

    def test_a_provider_name_with_a_control_character_is_refused(
            self, ledger: BillingLedger) -> None:
        with refused(ledger, ControlCharacterError, "provider name contains a control"):
            ledger.enroll_provider("1234567893", "DR\x9b2J WHO", "12-3456789")
