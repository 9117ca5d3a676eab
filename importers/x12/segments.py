"""X12 tokenizing: separators from the ISA header, segments with their position in the file.

Payers send files with byte-order marks, line breaks or indentation between segments and
whatever separators their translator likes; the ISA segment is fixed-width and declares
them all, so we read them from it rather than assume ``*``, ``:`` and ``~``. A file may hold
several interchanges, each read with the separators its own ISA declares.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

ISA_LENGTH = 106
LAYOUT = "\r\n\t "   # what senders put between segments; never part of one


class X12SyntaxError(ValueError):
    """The file is not X12 we can tokenize; the message names where and why."""


@dataclass(frozen=True)
class Separators:
    element: str
    component: str
    repetition: str
    segment: str


@dataclass(frozen=True)
class Segment:
    id: str
    elements: tuple[str, ...]   # elements[0] is the segment id, as X12 numbers them (SVC01 = [1])
    index: int                  # 1-based position in the file
    line: int                   # 1-based line of the file where the segment starts
    # Those its interchange's ISA declares (a file's interchanges may each have their own).
    separators: Separators = field(repr=False)

    def get(self, position: int, default: str = "") -> str:
        return self.elements[position] if position < len(self.elements) else default

    def components(self, position: int, separators: Separators) -> list[str]:
        return self.get(position).split(separators.component)

    def __str__(self) -> str:
        return "*".join(self.elements)


def decode(data: bytes, name: str = "<input>") -> str:
    """X12 is ASCII (extended character sets are negotiated, not assumed)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").lstrip("\ufeff")
        except UnicodeDecodeError as error:
            raise X12SyntaxError(f"{name}: not readable as UTF-16: {error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise X12SyntaxError(
            f"{name}: byte {error.start} is not ASCII/UTF-8 (0x{data[error.start]:02x}); "
            "X12 files are text") from None


def read_separators(text: str, name: str = "<input>") -> tuple[Separators, int]:
    """The separators the (first) ISA declares, and where the ISA starts in `text`."""
    start = text.find("ISA")
    if start < 0 or text[:start].strip():
        raise X12SyntaxError(f"{name}: does not start with an ISA segment")
    return read_isa(text, start, name)[0], start


def read_isa(text: str, start: int, name: str = "<input>") -> tuple[Separators, int]:
    """The separators the ISA at `start` declares, and where the segment after it starts."""
    element = text[start + 3:start + 4]
    # ISA is fixed-width by the standard, but some translators trim the padding; counting
    # 16 element separators finds ISA16 (component separator) and the terminator after it.
    position = start
    for _ in range(16):
        position = text.find(element, position + 1) if element else -1
        if position < 0:
            raise X12SyntaxError(f"{name}: ISA does not have 16 elements")
    if position + 2 >= len(text):
        raise X12SyntaxError(f"{name}: the file ends inside the ISA segment")
    fields = text[start:position].split(element)
    component = text[position + 1]
    segment = text[position + 2]
    repetition = fields[11] if fields[12][:5] >= "00402" else ""
    if segment == "\r" and text.startswith("\n", position + 3):
        # CR LF after ISA16: the line break ends each segment, and the CR goes with the layout
        # around it. A CR alone is the terminator itself (it must not become "\n", which such a
        # file never contains).
        segment = "\n"
    if len({element, component, segment}) != 3 or component.isalnum() or segment.isalnum():
        raise X12SyntaxError(
            f"{name}: ISA declares unusable separators element={element!r} "
            f"component={component!r} segment={segment!r}")
    end = position + (4 if segment != text[position + 2] else 3)   # past CR LF, or the terminator
    # ISA11 is one character; anything else (a trimmed ISA whose padding moved, a mangled
    # file) declares no repetition separator, and pyx12 names what is wrong with it.
    usable = len(repetition) == 1 and repetition not in (element, component, segment)
    return Separators(element, component, repetition if usable and not repetition.isalnum()
                      else "", segment), end


def tokenize(text: str, name: str = "<input>") -> tuple[Separators, list[Segment]]:
    """All segments of a file, and the separators of its first interchange.

    A file may hold any number of interchanges; each is split with the separators its own ISA
    declares, which each of its segments carries.
    """
    separators, start = read_separators(text, name)
    first = separators
    segments: list[Segment] = []
    line = text.count("\n", 0, start) + 1
    while start >= 0:
        position, restart = start, -1
        for raw in text[start:].split(separators.segment):
            stripped = raw.strip(LAYOUT)
            seg_line = line + raw[: len(raw) - len(raw.lstrip(LAYOUT))].count("\n")
            line += raw.count("\n") + (1 if separators.segment in "\r\n" else 0)
            position += len(raw) + 1
            if not stripped:
                continue
            elements = tuple(stripped.split(separators.element))
            seg_id = elements[0]
            if not seg_id.isalnum() or not 2 <= len(seg_id) <= 3:
                raise X12SyntaxError(
                    f"{name}: segment {len(segments) + 1} (line {seg_line}) has an invalid id "
                    f"{seg_id[:10]!r}")
            segments.append(Segment(seg_id, elements, len(segments) + 1, seg_line, separators))
            if seg_id == "IEA":
                following = _next_interchange(text, position, name)
                if following is not None and following[0] != separators:
                    # The rest was split with this interchange's separators: split it again
                    # from the next ISA with that one's.
                    separators, restart = following
                    line += text.count("\n", position, restart)
                    break
        start = restart
    if not segments or segments[-1].id != "IEA":
        raise X12SyntaxError(f"{name}: the file does not end with an IEA segment (truncated?)")
    return first, segments


def _next_interchange(text: str, position: int, name: str) -> tuple[Separators, int] | None:
    """The separators of an ISA that follows at `position` (after layout only), and where it
    starts; None when no readable ISA does (the caller reads on as before)."""
    at = position
    while at < len(text) and text[at] in LAYOUT:
        at += 1
    if not text.startswith("ISA", at):
        return None
    try:
        return read_isa(text, at, name)[0], at
    except X12SyntaxError:
        return None


def iter_transactions(segments: list[Segment]) -> Iterator[tuple[Segment, Segment, list[Segment]]]:
    """(ISA, GS, ST..SE segments) for each transaction set in the file."""
    isa = gs = None
    current: list[Segment] | None = None
    for seg in segments:
        if seg.id == "ISA":
            isa = seg
        elif seg.id == "GS":
            gs = seg
        elif seg.id == "ST":
            current = [seg]
        elif current is not None:
            current.append(seg)
            if seg.id == "SE":
                if isa is None or gs is None:
                    raise X12SyntaxError(
                        f"segment {current[0].index} (line {current[0].line}): a transaction "
                        "set (ST) outside an ISA/GS envelope")
                yield isa, gs, current
                current = None
