"""JSON transcodings for event payloads, including dates and freezegun's fake date types."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)


class DateAsISO(Transcoding):
    """Transcoding that stores a `datetime.date` as "YYYY-MM-DD" (the library has none)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        # A datetime is a date too; encoding it here would silently drop its time and zone.
        if isinstance(obj, datetime):
            raise TypeError(f"DateAsISO cannot encode a datetime: {obj!r}")
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MroJSONTranscoder(JSONTranscoder):
    """A JSONTranscoder that finds a transcoding along the object's MRO, not by exact type.

    Under freezegun, `date(...)` and `datetime.now()` return FakeDate/FakeDatetime, which the
    library's exact-type lookup rejects. FakeDatetime's MRO lists `datetime` before `date`, so
    it is encoded as a datetime, and decoding yields plain `date`/`datetime` objects.
    """

    def _encode_obj(self, o: Any) -> dict[str, Any]:
        for cls in type(o).__mro__:
            transcoding = self.types.get(cls)
            if transcoding is not None:
                return {"_type_": transcoding.name, "_data_": transcoding.encode(o)}
        # Nothing registered: let the library raise its TranscodingNotRegisteredError.
        return super()._encode_obj(o)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every transcoding our events need: UUID, Decimal, datetime and date.

    The first three repeat `Application.register_transcodings`; registering them again is
    harmless and keeps a `construct_transcoder` that skips the library's method complete.
    """
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DateAsISO())
