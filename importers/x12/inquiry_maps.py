"""pyx12 maps for the inquiry transactions: 270/271 (005010X279A1) and 276/277 (005010X212).

pyx12 4.0.0 ships no map for 270/271 X279A1 or 276 X212, and its 277 X212 map is left out of
its index (its GS01/GS08 codes were copied from the 820 map, so every real 277 fails on them).
So that the files we write and read are still checked by pyx12's engine, this module builds a
map directory at run time, once per process: every map pyx12 installed (linked, unchanged),
the 277 X212 map with its GS01/GS08 codes corrected, and 270, 271 and 276 maps generated from
the compact loop/segment/element tables below (claimdesk's own reading of the implementation
guides; element types and lengths come from pyx12's dataele.xml, as for every map). The
envelope (ISA/GS/ST...SE/GE/IEA) of the generated maps is taken from the installed 277 X212
map, so it is the one pyx12 itself uses for 5010.

Only the loops and segments the guides allow are in the tables; code lists are enforced where
we write or read the element (entity ids, HL levels, qualifiers, EB01, STC), elsewhere pyx12
checks type and length only.
"""

from __future__ import annotations

import os
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from importers.x12.segments import Segment
from importers.x12.validate import ValidationReport, validate

VERSION_270_271 = "005010X279A1"
VERSION_276_277 = "005010X212"

# -- a tiny language for map tables ---------------------------------------------------------


@dataclass(frozen=True)
class El:
    """A simple element: data element number, usage (R/S/N) and, when enforced, its codes."""

    data_ele: str
    usage: str = "S"
    codes: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Comp:
    """A composite element and its components."""

    data_ele: str
    usage: str
    parts: tuple[El, ...]
    repeat: int = 1
    name: str = ""


@dataclass(frozen=True)
class Seg:
    id: str
    usage: str
    max_use: str
    elements: tuple[El | Comp, ...]
    name: str = ""


@dataclass(frozen=True)
class Loop:
    id: str
    usage: str
    repeat: str
    children: tuple[Seg | Loop, ...] = field(default=())
    kind: str = ""      # "wrapper" for HEADER/DETAIL


def _e(data_ele: str, usage: str = "S", *codes: str) -> El:
    return El(data_ele, usage, tuple(codes))


N = El("", "N")   # a not-used element whose data element we need not name

C003 = Comp("C003", "R", (_e("235", "R"), _e("234", "R"), _e("1339"), _e("1339"), _e("1339"),
                          _e("1339"), _e("352"), _e("234")))
C004 = Comp("C004", "S", (_e("1328", "R"), _e("1328"), _e("1328"), _e("1328")))
C043 = Comp("C043", "R", (_e("1271", "R"), _e("1271", "R"), _e("98"), _e("1270")))


def hl(level: str, child_codes: tuple[str, ...], child_usage: str = "R") -> Seg:
    return Seg("HL", "R", "1", (_e("628", "R"), _e("734", "S" if level != "20" else "N"),
                                _e("735", "R", level), El("736", child_usage, child_codes)))


def nm1(entities: tuple[str, ...], types: tuple[str, ...], qualifiers: tuple[str, ...],
        id_usage: str = "R", *, usage: str = "R", max_use: str = "1") -> Seg:
    return Seg("NM1", usage, max_use, (
        El("98", "R", entities), El("1065", "R", types), _e("1035"), _e("1036"), _e("1037"),
        El("1038", "N"), _e("1039"), El("66", id_usage, qualifiers), El("67", id_usage),
        El("706", "N"), El("98", "N"), El("1035", "N")))


def ref(max_use: str, *codes: str) -> Seg:
    return Seg("REF", "S", max_use, (El("128", "R", codes), _e("127", "R"), _e("352"),
                                     Comp("C040", "N", (_e("128", "R"), _e("127", "R")))))


def n3() -> Seg:
    return Seg("N3", "S", "1", (_e("166", "R"), _e("166")))


def n4() -> Seg:
    return Seg("N4", "S", "1", (_e("19"), _e("156"), _e("116"), _e("26"), _e("309"),
                                _e("310"), _e("1715")))


def per(max_use: str = "3") -> Seg:
    return Seg("PER", "S", max_use, (_e("366", "R"), _e("93"), _e("365"), _e("364"),
                                     _e("365"), _e("364"), _e("365"), _e("364"), El("443", "N")))


def prv() -> Seg:
    return Seg("PRV", "S", "1", (_e("1221", "R"), _e("128", "R"), _e("127", "R"),
                                 El("156", "N"), Comp("C035", "N", (_e("1223", "R"),)),
                                 El("1223", "N")))


def dmg(usage: str = "S") -> Seg:
    return Seg("DMG", usage, "1", (_e("1250", "R", "D8"), _e("1251", "R"), _e("1068"),
                                   El("1067", "N"), Comp("C056", "N", (_e("1109"),)),
                                   El("1066", "N"), El("26", "N"), El("659", "N"),
                                   El("380", "N"), El("1270", "N"), El("1271", "N")))


def ins(usage: str = "S") -> Seg:
    return Seg("INS", usage, "1", (
        _e("1073", "R", "Y", "N"), _e("1069", "R"), _e("875"), _e("1203"), El("1216", "N"),
        El("1218", "N"), El("584", "N"), El("1220", "N"), _e("1220"), _e("1073"),
        El("1250", "N"), El("1251", "N"), El("1165", "N"), El("19", "N"), El("156", "N"),
        El("26", "N"), _e("1470")))


def hi() -> Seg:
    part = Comp("C022", "S", (_e("1270", "R"), _e("1271", "R"), El("1250", "N"),
                              El("1251", "N"), El("782", "N"), El("380", "N"),
                              El("799", "N"), El("1271", "N"), El("1073", "N")))
    return Seg("HI", "S", "1", tuple([Comp("C022", "R", part.parts), *[part] * 7]))


def dtp(max_use: str, *codes: str) -> Seg:
    return Seg("DTP", "S", max_use, (El("374", "R", codes), _e("1250", "R", "D8", "RD8"),
                                     _e("1251", "R")))


def trn(usage: str, max_use: str, *types: str) -> Seg:
    return Seg("TRN", usage, max_use, (El("481", "R", types), _e("127", "R"), _e("509", "R"),
                                       _e("127")))


def aaa(max_use: str = "9") -> Seg:
    return Seg("AAA", "S", max_use, (_e("1073", "R", "Y", "N"), El("559", "N"),
                                     _e("901", "R"), _e("889", "R")))


# -- 270 / 271 ---------------------------------------------------------------------------------
INFO_SOURCE = ("2B", "36", "GP", "P5", "PR")
SOURCE_QUALIFIERS = ("24", "46", "FI", "NI", "PI", "XV", "XX")
RECEIVER = ("1P", "2B", "36", "80", "FA", "GP", "P5", "PR")
RECEIVER_QUALIFIERS = ("24", "34", "46", "FI", "PI", "PP", "SV", "XV", "XX")
EB01 = (*"12345678ABCDEFGHIJKLMNOPQRSTUVWXY", "CB", "MC")

# pyx12 does not split repeated elements (EQ01, EB03 may repeat with ISA11), so these two are
# declared as plain text of the length 99 repetitions could need, not as code lists.
REPEATED_CODES = El("127", "S")
EQ = Seg("EQ", "R", "1", (REPEATED_CODES, Comp("C003", "S", C003.parts), _e("1207"),
                          El("1336", "N"), Comp("C004", "S", C004.parts)))
EB = Seg("EB", "R", "1", (
    El("1390", "R", EB01), _e("1207"), REPEATED_CODES, _e("1336"), _e("1204"), _e("615"),
    _e("782"), _e("954"), _e("673"), _e("380"), _e("1073", "S", "N", "U", "Y"),
    _e("1073", "S", "N", "U", "W", "Y"), Comp("C003", "S", C003.parts), C004))


def _subscriber_or_dependent(level: str, entity: tuple[str, ...], response: bool,
                             nested: tuple[Loop, ...] = ()) -> Loop:
    """2000C/2100C/2110C (subscriber) or 2000D/2100D/2110D (dependent)."""
    name = "C" if level == "22" else "D"
    hl_seg = hl(level, ("0", "1") if level == "22" else ("0",))
    trn_seg = trn("S", "3" if response else "2", *(("1", "2") if response else ("1",)))
    people = nm1(entity, ("1",), ("II", "MI"), "S" if level == "22" else "N")
    if response:
        benefit = Loop(f"2110{name}", "S", ">1", (
            EB, Seg("HSD", "S", "9", (_e("673"), _e("380"), _e("355"), _e("1167"),
                                      _e("615"), _e("616"), _e("678"), _e("679"))),
            ref("9"), dtp("20"), aaa(),
            Seg("MSG", "S", "10", (_e("933", "R"), El("934", "N"), El("1470", "N"))),
            Seg("III", "S", "1", (_e("1270"), _e("1271"), _e("1136"), _e("933"),
                                  El("380", "N"), Comp("C001", "N", (_e("355", "R"),)),
                                  El("1470", "N"), El("1470", "N"), El("1470", "N"))),
            Seg("LS", "S", "1", (_e("447", "R"),)),
            Loop(f"2120{name}", "S", "23", (
                nm1(("13", "1I", "1P", "2B", "36", "73", "FA", "GP", "GW", "I3", "IL", "LR",
                     "OC", "P3", "P4", "P5", "PR", "PRP", "SEP", "TTP", "VER", "VN", "VY",
                     "X3", "Y2"), ("1", "2"),
                    ("24", "34", "46", "FA", "FI", "II", "MI", "NI", "PI", "PP", "SV", "XV",
                     "XX"), "S"),
                n3(), n4(), per(), prv())),
            Seg("LE", "S", "1", (_e("447", "R"),))))
        name_loop = Loop(f"2100{name}", "R", "1", (
            people, ref("9"), n3(), n4(), aaa(), prv(), dmg(), ins(), hi(), dtp("9")))
    else:
        benefit = Loop(f"2110{name}", "S" if level == "22" else "R", "99", (
            EQ, Seg("AMT", "S", "2", (_e("522", "R", "R", "PB"), _e("782", "R"),
                                      El("478", "N"))),
            Seg("III", "S", "1", (_e("1270"), _e("1271"), El("1136", "N"), El("933", "N"),
                                  El("380", "N"))),
            ref("1", "9F", "G1"), dtp("1", "291")))
        name_loop = Loop(f"2100{name}", "R", "1", (
            people, ref("9"), n3(), n4(), prv(), dmg(), ins(), hi(), dtp("2")))
    return Loop(f"2000{name}", "S", ">1", (hl_seg, trn_seg, Loop(
        name_loop.id, name_loop.usage, name_loop.repeat, (*name_loop.children, benefit)),
        *nested))


def _eligibility_body(response: bool) -> tuple[Loop, ...]:
    header = Loop("HEADER", "R", "1", (Seg("BHT", "R", "1", (
        _e("1005", "R", "0022"), _e("353", "R", *(("06", "11") if response else ("01", "13"))),
        _e("127", "R"), _e("373", "R"), _e("337", "R"), _e("640")),),), "wrapper")
    source_name = [nm1(INFO_SOURCE, ("1", "2"), SOURCE_QUALIFIERS)]
    receiver_name = [nm1(RECEIVER, ("1", "2"), RECEIVER_QUALIFIERS), ref("9"), n3(), n4()]
    if response:
        source_name += [per(), aaa()]
        receiver_name += [aaa(), prv()]
    else:
        receiver_name += [prv()]
    # HL loops nest, as in pyx12's own 5010 maps, so a file may go back up a level.
    dependent = _subscriber_or_dependent("23", ("03",), response)
    subscriber = _subscriber_or_dependent("22", ("IL",), response, (dependent,))
    receiver = Loop("2000B", "S" if response else "R", ">1", (
        hl("21", ("0", "1") if response else ("1",)),
        Loop("2100B", "R", "1", tuple(receiver_name)), subscriber))
    detail = Loop("DETAIL", "R", ">1", (Loop("2000A", "R", ">1", (
        hl("20", ("0", "1") if response else ("1",)), *([aaa()] if response else []),
        Loop("2100A", "R", "1", tuple(source_name)), receiver)),), "wrapper")
    return header, detail


# -- 276 / 277 --------------------------------------------------------------------------------
STC = Seg("STC", "R", ">1", (
    Comp("C043", "R", (_e("1271", "R"), _e("1271", "R"), _e("98"), _e("1270"))), _e("373"),
    El("306", "N"), _e("782"), _e("782"), _e("373"), _e("591"), _e("373"), _e("429"),
    Comp("C043", "S", (_e("1271", "R"), _e("1271", "R"), _e("98"), _e("1270"))),
    Comp("C043", "S", (_e("1271", "R"), _e("1271", "R"), _e("98"), _e("1270"))),
    _e("933")))
SVC = Seg("SVC", "R", "1", (C003, _e("782", "R"), _e("782"), _e("234"), _e("380"),
                            Comp("C003", "S", C003.parts), _e("380")))
TRN_NO_ORIGINATOR = Seg("TRN", "R", "1", (El("481", "R", ("1", "2")), _e("127", "R"),
                                          El("509", "N"), El("127", "N")))


def _claim_status_body(response: bool) -> tuple[Loop, ...]:
    header = Loop("HEADER", "R", "1", (Seg("BHT", "R", "1", (
        _e("1005", "R", "0010"), _e("353", "R", "08" if response else "13"), _e("127", "R"),
        _e("373", "R"), _e("337", "R"), El("640", "S" if response else "N"))),), "wrapper")
    status = (STC,) if response else ()

    def claim_loop(suffix: str) -> Loop:
        dates = dtp("1", "472") if not response else dtp("2", "472", "050", "009")
        return Loop(f"2200{suffix}", "R" if suffix == "E" else "S", ">1", (
            TRN_NO_ORIGINATOR, *status,
            ref("9", "1K", "BLT", "LU", "6P", "EJ", "XZ", "VV", "D9"),
            *(() if response else (Seg("AMT", "S", "1", (
                _e("522", "R", "T3"), _e("782", "R"), El("478", "N"))),)),
            dates,
            Loop(f"{'2220' if response else '2210'}{suffix}", "S", ">1", (
                SVC, *status, ref("1", "FJ"), dtp("1", "472")))))

    def level_status(suffix: str) -> tuple[Loop, ...]:
        if not response:
            return ()
        return (Loop(f"2200{suffix}", "S", ">1", (TRN_NO_ORIGINATOR, STC)),)

    patient = Loop("2000E", "S", ">1", (
        hl("23", (), "N"), *(() if response else (dmg("R"),)),
        Loop("2100E", "R", "1", (nm1(("QC",), ("1",), ("II", "MI"), "S"),)),
        claim_loop("E")))
    subscriber = Loop("2000D", "S" if response else "R", ">1", (
        hl("22", ("0", "1")), *(() if response else (dmg(),)),
        Loop("2100D", "R", "1", (nm1(("IL",), ("1", "2"), ("24", "II", "MI")),)),
        claim_loop("D"), patient))
    provider = Loop("2000C", "S" if response else "R", ">1", (
        hl("19", ("0", "1") if response else ("1",)),
        Loop("2100C", "R", "1", (nm1(("1P",), ("1", "2"), ("FI", "SV", "XX")),)),
        *level_status("C"), subscriber))
    receiver = Loop("2000B", "R", ">1", (
        hl("21", ("0", "1") if response else ("1",)),
        Loop("2100B", "R", "1", (nm1(("41",), ("1", "2"), ("46", "FI", "XX")),)),
        *level_status("B"), provider))
    source = Loop("2000A", "R", ">1", (
        hl("20", ("1",)),
        Loop("2100A", "R", "1", (nm1(("PR",), ("2",), ("24", "46", "FI", "NI", "PI", "XV",
                                                       "XX")), *((per(),) if response else ()))),
        receiver))
    return header, Loop("DETAIL", "R", ">1", (source,), "wrapper")


# -- XML ---------------------------------------------------------------------------------------
def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def _element_xml(parent: ET.Element, xid: str, el: El, seq: int) -> None:
    node = ET.SubElement(parent, "element", xid=xid)
    _text(node, "data_ele", el.data_ele or "1270")
    _text(node, "name", el.name or xid)
    _text(node, "usage", el.usage)
    _text(node, "seq", f"{seq:02d}")
    if el.codes:
        codes = ET.SubElement(node, "valid_codes")
        for code in el.codes:
            _text(codes, "code", code)


def _segment_xml(parent: ET.Element, seg: Seg, pos: int) -> None:
    node = ET.SubElement(parent, "segment", xid=seg.id)
    _text(node, "name", seg.name or seg.id)
    _text(node, "usage", seg.usage)
    _text(node, "pos", f"{pos:04d}")
    _text(node, "max_use", seg.max_use)
    for seq, el in enumerate(seg.elements, 1):
        xid = f"{seg.id}{seq:02d}"
        if isinstance(el, Comp):
            comp = ET.SubElement(node, "composite", xid=xid)
            _text(comp, "data_ele", el.data_ele or "C000")
            _text(comp, "name", el.name or xid)
            _text(comp, "usage", el.usage)
            _text(comp, "seq", f"{seq:02d}")
            if el.repeat != 1:
                _text(comp, "repeat", str(el.repeat))
            for sub, part in enumerate(el.parts, 1):
                _element_xml(comp, f"{xid}-{sub:02d}", part, sub)
        else:
            _element_xml(node, xid, el, seq)


def _loop_xml(parent: ET.Element, loop: Loop, pos: int) -> None:
    node = ET.SubElement(parent, "loop", xid=loop.id)
    if loop.kind:
        node.set("type", loop.kind)
    _text(node, "name", loop.id)
    _text(node, "usage", loop.usage)
    _text(node, "pos", f"{pos:04d}")
    _text(node, "repeat", loop.repeat)
    for number, child in enumerate(loop.children, 1):
        if isinstance(child, Loop):
            _loop_xml(node, child, number * 100)
        else:
            _segment_xml(node, child, number * 100)


def _codes(node: ET.Element | None, *codes: str) -> None:
    assert node is not None
    valid = node.find("valid_codes")
    if valid is None:
        valid = ET.SubElement(node, "valid_codes")
    for old in list(valid):
        valid.remove(old)
    for code in codes:
        _text(valid, "code", code)


def _template() -> ET.ElementTree[ET.Element]:
    source = files("pyx12").joinpath("map", "277.5010.X212.xml")
    with source.open("rb") as handle:
        return ET.parse(handle)


def _fix_envelope(
    tree: ET.ElementTree[ET.Element], group: str, version: str, set_id: str,
) -> ET.Element:
    root = tree.getroot()
    _codes(root.find(".//segment[@xid='GS']/element[@xid='GS01']"), group)
    _codes(root.find(".//segment[@xid='GS']/element[@xid='GS08']"), version)
    _codes(root.find(".//segment[@xid='ST']/element[@xid='ST01']"), set_id)
    _codes(root.find(".//segment[@xid='ST']/element[@xid='ST03']"), version)
    st_loop = root.find(".//loop[@xid='ST_LOOP']")
    gs_loop = root.find(".//loop[@xid='GS_LOOP']")
    assert st_loop is not None and gs_loop is not None
    # The installed 277 X212 map puts SE in a wrapper loop *beside* ST_LOOP, so pyx12 never
    # finds it where it is; move it to the end of ST_LOOP and drop the emptied wrapper.
    parents = {child: parent for parent in root.iter() for child in parent}
    se = next(node for node in root.iter("segment") if node.get("xid") == "SE")
    holder = parents[se]
    holder.remove(se)
    if holder is not st_loop and holder in list(gs_loop):
        gs_loop.remove(holder)
    st_loop.append(se)
    return st_loop


def _generated(
    set_id: str, group: str, version: str, body: Sequence[Loop],
) -> ET.ElementTree[ET.Element]:
    tree = _template()
    root = tree.getroot()
    root.set("xid", set_id)
    name = root.find("name")
    if name is not None:
        name.text = f"claimdesk map {set_id} {version}"
    st_loop = _fix_envelope(tree, group, version, set_id)
    se = next(node for node in st_loop if node.get("xid") == "SE")
    st_loop.remove(se)
    for child in list(st_loop):
        if child.tag == "loop":
            st_loop.remove(child)
    holder = ET.Element("holder")
    for number, loop in enumerate(body, 1):
        _loop_xml(holder, loop, 100 + number * 10)
    for loop_node in holder:
        st_loop.append(loop_node)
    pos = se.find("pos")
    if pos is not None:
        pos.text = "0900"
    st_loop.append(se)
    return tree


MAPS: dict[str, tuple[str, str, str, Callable[[], ET.ElementTree[ET.Element]]]] = {
    # file name -> (set id, GS01, GS08, builder)
    "270.5010.X279.A1.claimdesk.xml": (
        "270", "HS", VERSION_270_271,
        lambda: _generated("270", "HS", VERSION_270_271, _eligibility_body(False))),
    "271.5010.X279.A1.claimdesk.xml": (
        "271", "HB", VERSION_270_271,
        lambda: _generated("271", "HB", VERSION_270_271, _eligibility_body(True))),
    "276.5010.X212.claimdesk.xml": (
        "276", "HR", VERSION_276_277,
        lambda: _generated("276", "HR", VERSION_276_277, _claim_status_body(False))),
    "277.5010.X212.claimdesk.xml": (
        "277", "HN", VERSION_276_277,
        lambda: _generated("277", "HN", VERSION_276_277, _claim_status_body(True))),
}


_lock = threading.Lock()
_built: dict[str, str] = {}


def map_directory() -> str:
    """A directory pyx12 can use as its map path: its own maps plus ours (built once)."""
    with _lock:
        if os.path.isdir(_built.get("path", "")):
            return _built["path"]
        target = Path(tempfile.mkdtemp(prefix="claimdesk-pyx12-maps-"))
        installed = files("pyx12").joinpath("map")
        for item in installed.iterdir():
            if item.name.endswith((".xml", ".xsd")) and item.name != "maps.xml":
                (target / item.name).write_bytes(item.read_bytes())
        for file_name, (_set_id, _group, _version, build) in MAPS.items():
            build().write(target / file_name, encoding="utf-8", xml_declaration=True)
        with installed.joinpath("maps.xml").open("rb") as handle:
            index = ET.parse(handle)
        version = next(v for v in index.getroot().iter("version") if v.get("icvn") == "00501")
        for file_name, (set_id, group, gs08, _build) in MAPS.items():
            entry = ET.Element("map", vriic=gs08, fic=group, abbr=set_id)
            entry.text = file_name
            version.insert(0, entry)
        index.write(target / "maps.xml", encoding="utf-8", xml_declaration=True)
        _built["path"] = str(target)
        return _built["path"]


def validate_inquiry(
    segments: Sequence[Segment], *,
    progress: Callable[[int, int], None] | None = None,
) -> ValidationReport:
    """pyx12's verdict on a 270, 271, 276 or 277 (X212), with the maps above."""
    return validate(segments, progress=progress, map_path=map_directory())


def validate_text(content: str, name: str = "<output>") -> ValidationReport:
    """pyx12's verdict on X12 text we are about to write."""
    from importers.x12.segments import tokenize  # noqa: PLC0415 - only here

    return validate_inquiry(tokenize(content, name)[1])
