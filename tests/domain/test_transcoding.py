"""Tests for date transcoding and the MRO-aware JSON transcoder, under freezegun."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

import freezegun
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder, Transcoder, TranscodingNotRegisteredError
from freezegun.api import FakeDate, FakeDatetime

from domain import clock
from domain.transcoding import DateAsISO, MroJSONTranscoder, register_transcodings


class Visit(Aggregate):
    @event("VisitBooked")
    def __init__(self, service_date: date, booked_at: datetime) -> None:
        self.service_date = service_date
        self.booked_at = booked_at


class VisitBook(Application[UUID]):
    def construct_transcoder(self) -> Transcoder:
        transcoder = MroJSONTranscoder()
        register_transcodings(transcoder)
        return transcoder


def _transcoder() -> MroJSONTranscoder:
    transcoder = MroJSONTranscoder()
    register_transcodings(transcoder)
    return transcoder


class TestMroJSONTranscoder:
    def test_round_trips_plain_values(self) -> None:
        transcoder = _transcoder()
        payload = {
            "service_date": date(2025, 3, 31),
            "paid_at": datetime(2025, 3, 31, 14, 5, tzinfo=UTC),
            "rate": Decimal("0.20"),
            "id": uuid4(),
            "cents": 15050,
        }
        assert transcoder.decode(transcoder.encode(payload)) == payload

    def test_a_datetime_is_not_truncated_to_a_date(self) -> None:
        transcoder = _transcoder()
        moment = datetime(2025, 3, 31, 23, 59, tzinfo=UTC)
        decoded = transcoder.decode(transcoder.encode(moment))
        assert type(decoded) is datetime
        assert decoded == moment

    def test_fake_dates_encode_as_their_real_type(self) -> None:
        transcoder = _transcoder()
        with freezegun.freeze_time("2025-03-31 12:00:00"):
            fake_date, fake_now = date.today(), datetime.now(UTC)  # noqa: DTZ011
            # Inside freeze_time the names `date`/`datetime` are the fakes too.
            assert type(fake_date) is FakeDate
            assert type(fake_now) is FakeDatetime
            encoded = transcoder.encode([fake_date, fake_now])
        assert b'"date_iso"' in encoded
        assert b'"datetime_iso"' in encoded
        decoded = transcoder.decode(encoded)
        assert decoded == [date(2025, 3, 31), datetime(2025, 3, 31, 12, tzinfo=UTC)]
        assert [type(value) for value in decoded] == [date, datetime]

    def test_the_library_transcoder_rejects_what_ours_accepts(self) -> None:
        plain = JSONTranscoder()
        plain.register(DateAsISO())
        with freezegun.freeze_time("2025-03-31"), pytest.raises(TranscodingNotRegisteredError):
            plain.encode(date.today())  # noqa: DTZ011

    def test_unregistered_types_still_raise_the_library_error(self) -> None:
        with pytest.raises(TranscodingNotRegisteredError):
            _transcoder().encode({1, 2})

    def test_date_as_iso_refuses_a_datetime(self) -> None:
        with pytest.raises(TypeError, match="datetime"):
            DateAsISO().encode(datetime(2025, 3, 31, tzinfo=UTC))


class TestApplicationUnderFreezegun:
    def test_saves_and_reloads_a_date_with_a_frozen_clock(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.sqlite")
        monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "events.sqlite"))
        frozen_at = datetime(2025, 3, 31, tzinfo=UTC)
        with freezegun.freeze_time("2025-03-31"):
            writer = VisitBook()
            visit = Visit(service_date=clock.today(), booked_at=clock.now())
            writer.save(visit)
            reader = VisitBook()
            reloaded = reader.repository.get(visit.id)
            stored_events = list(reader.events.get(visit.id))
        writer.close()
        reader.close()
        assert reloaded.service_date == date(2025, 3, 31)
        assert reloaded.booked_at == frozen_at
        assert reloaded.created_on == frozen_at
        assert [stored.timestamp for stored in stored_events] == [frozen_at]


class TestClock:
    def test_today_and_now_follow_freezegun(self) -> None:
        with freezegun.freeze_time("2025-03-31 08:30:00"):
            assert clock.today() == date(2025, 3, 31)
            assert clock.now() == datetime(2025, 3, 31, 8, 30, tzinfo=UTC)
            assert clock.now().tzinfo is not None
