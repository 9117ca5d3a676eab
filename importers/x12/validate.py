"""pyx12's X12 validator run in-process: OK or Failure, with the segment and message of each error.

pyx12's ``x12n_document`` is what its ``x12valid`` script calls; we call it on an in-memory copy
of the file and collect its errors through its JSON visitor, so nothing is written beside the
input. The copy is *normalized* from our tokenizer's segments: the ISA padded back to its fixed
width (some translators trim it, and pyx12 then refuses to read the file at all), one segment
per line with the file's own separators. pyx12 counts segments by line, so its segment numbers
are the file's segment numbers, which our messages and the tokenizer share. pyx12 reads a whole
file with its first ISA's separators; a file whose interchanges declare different ones is
validated one run of interchanges alike at a time, each finding numbered as in the file.

Which errors refuse a file is the importer's decision (see ``importers.x12.era``): this module
reports them all, each with its level (envelope, segment or element).
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from importers.x12.segments import Segment, X12SyntaxError, decode, tokenize

# ISA01..ISA16 widths: the ISA is fixed-width by the standard.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)

ENVELOPE, SEGMENT, ELEMENT = "envelope", "segment", "element"


@dataclass(frozen=True)
class ValidationIssue:
    """One error pyx12 reported."""

    segment: int        # 1-based segment number in the file (0: the file as a whole)
    segment_id: str     # "BPR", or "ISA"/"GS"/"ST" for envelope errors
    element: str        # "BPR16", "SVC01-02"; "" for segment and envelope errors
    code: str           # pyx12's error code (IK3/IK4-like)
    message: str
    level: str          # ENVELOPE, SEGMENT or ELEMENT
    line: int = 0       # line of the original file where the segment starts

    def __str__(self) -> str:
        where = f"segment {self.segment}" if self.segment else "file"
        if self.line > 1 and self.line != self.segment:
            where += f" (line {self.line})"
        what = self.element or self.segment_id
        return f"{where} {what}: {self.message}" if what else f"{where}: {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    """pyx12's verdict on a file."""

    ok: bool
    issues: tuple[ValidationIssue, ...]

    @property
    def status(self) -> str:
        """What x12valid prints."""
        return "OK" if self.ok else "Failure"


def normalized_text(segments: Sequence[Segment]) -> str:
    """The file re-serialized one segment per line, ISA at its fixed width, no BOM, each
    segment with its interchange's separators."""
    out: list[str] = []
    for seg in segments:
        separators = seg.separators
        term = separators.segment
        elements = list(seg.elements)
        if seg.id == "ISA" and len(elements) == 17:
            elements = ["ISA"] + [
                value.ljust(width)[:width] if len(value) != width else value
                for value, width in zip(elements[1:], ISA_WIDTHS, strict=True)]
        text = separators.element.join(elements)
        out.append(text + term if term != "\n" else text)
    return "\n".join(out) + "\n"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _captured_pyx12_log() -> Iterator[_Capture]:
    # pyx12 logs why it gave up (e.g. "does not look like an X12 data file"); keep those for
    # the report instead of letting logging's last-resort handler print them on stderr.
    logger = logging.getLogger("pyx12")
    capture = _Capture()
    propagate = logger.propagate
    logger.addHandler(capture)
    logger.propagate = False
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.propagate = propagate


def validate(
    segments: Sequence[Segment], *,
    progress: Callable[[int, int], None] | None = None, map_path: str | None = None,
) -> ValidationReport:
    """Validate tokenized segments with pyx12 against its 5010 (or 4010) maps (or those in
    `map_path`, a directory laid out like pyx12's own map folder). Each segment is read with
    its interchange's separators (`Segment.separators`)."""
    # Where the interchanges' separators change, pyx12 (which keeps the first ISA's) must
    # start again on the rest.
    starts = [0, *(i for i in range(1, len(segments)) if segments[i].id == "ISA"
                   and segments[i].separators != segments[i - 1].separators), len(segments)]
    reports = [_validate_run(segments, first, stop, progress, map_path)
               for first, stop in itertools.pairwise(starts)]
    return ValidationReport(all(r.ok for r in reports),
                            tuple(issue for r in reports for issue in r.issues))


def _validate_run(
    segments: Sequence[Segment], offset: int, stop: int,
    progress: Callable[[int, int], None] | None, map_path: str | None,
) -> ValidationReport:
    """pyx12 on segments[offset:stop], its findings numbered as in the whole file."""
    import pyx12.params  # noqa: PLC0415 - loading pyx12 and its maps costs; only when validating
    import pyx12.x12n_document  # noqa: PLC0415

    run = segments[offset:stop]
    text = normalized_text(run)
    total = len(segments)
    seen = [offset]

    def callback(seg: Any, src: Any, node: Any, valid: bool) -> None:
        seen[0] = offset + src.get_cur_line()
        if progress is not None and (seen[0] % 500 == 0 or seen[0] == total):
            progress(seen[0], total)

    errors = io.StringIO()
    with _captured_pyx12_log() as log:
        try:
            ok = pyx12.x12n_document.x12n_document(
                param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=None,
                fd_html=None, fd_json=errors, map_path=map_path, callback=callback)
        except Exception as error:  # a validator crash is a finding about the file
            at = seen[0] + 1
            seg_id = segments[at - 1].id if 0 < at <= total else ""
            return ValidationReport(False, (ValidationIssue(
                at if at <= total else 0, seg_id, "", "crash",
                f"the validator stopped here ({type(error).__name__}: {error})", ENVELOPE,
                _line(segments, at)),))
    issues = list(_issues(json.loads(errors.getvalue()), segments, offset)) if (
        errors.getvalue()) else []
    if not ok and not issues:
        reason = "; ".join(log.messages) or "no reason given"
        # A later run is named by its ISA: the file as a whole was read up to there.
        issues.append(ValidationIssue(
            offset + 1 if offset else 0, "ISA" if offset else "", "", "read",
            f"pyx12 could not read it: {reason}", ENVELOPE, _line(segments, offset + 1)
            if offset else 0))
    return ValidationReport(bool(ok) and not issues, tuple(issues))


def _line(segments: Sequence[Segment], number: int) -> int:
    return segments[number - 1].line if 0 < number <= len(segments) else 0


def _issues(doc: dict[str, Any], segments: Sequence[Segment],
            offset: int = 0) -> Iterator[ValidationIssue]:
    """pyx12's JSON findings on segments[offset:...], numbered as in the whole file."""
    def number_of(node: dict[str, Any]) -> int:
        number = int(node.get("cur_line") or 0)
        return offset + number if number else 0

    def envelope(node: dict[str, Any], seg_id: str) -> Iterator[ValidationIssue]:
        number = number_of(node)
        for err in node.get("errors", []):
            yield ValidationIssue(number, seg_id, "", str(err["err_cde"]), err["err_str"],
                                  ENVELOPE, _line(segments, number))

    for isa in doc.get("interchanges", []):
        yield from envelope(isa, "ISA")
        for gs in isa.get("groups", []):
            yield from envelope(gs, "GS")
            for st in gs.get("transactions", []):
                yield from envelope(st, "ST")
                for seg in st.get("segments", []):
                    number = number_of(seg)
                    seg_id = str(seg.get("seg_id") or "")
                    for err in seg.get("errors", []):
                        yield ValidationIssue(number, seg_id, "", str(err["err_cde"]),
                                              err["err_str"], SEGMENT, _line(segments, number))
                    for ele in seg.get("elements", []):
                        name = f"{seg_id}{int(ele['ele_pos']):02d}"
                        if ele.get("subele_pos"):
                            name += f"-{int(ele['subele_pos']):02d}"
                        for err in ele.get("errors", []):
                            yield ValidationIssue(number, seg_id, name, str(err["err_cde"]),
                                                  err["err_str"], ELEMENT,
                                                  _line(segments, number))


# -- validating in a second process --------------------------------------------------------------
# pyx12 is the slowest step of an import and needs nothing from the ledger, so a large file is
# validated by a child process on another core while this one parses and posts it in memory; the
# importer saves nothing until the child's verdict is in. `python -m importers.x12.validate NAME`
# reads the file's bytes on stdin, tokenizes them exactly as the importer does, and writes
# "progress DONE TOTAL" lines, then "report {json}".

def report_to_json(report: ValidationReport) -> dict[str, Any]:
    return {"ok": report.ok, "issues": [asdict(issue) for issue in report.issues]}


def report_from_json(doc: dict[str, Any]) -> ValidationReport:
    return ValidationReport(bool(doc["ok"]),
                            tuple(ValidationIssue(**issue) for issue in doc["issues"]))


def can_fork() -> bool:
    """Whether this process may fork a copy of itself to validate (POSIX, and one thread).

    A fork copies only the calling thread: with other threads running (the workstation's
    workers, a test runner's), a lock one of them held would stay locked in the copy.
    """
    return hasattr(os, "fork") and threading.active_count() == 1


class BackgroundValidation:
    """pyx12 on a file's bytes in a child process; `report()` waits for its verdict.

    The child is a fork of this process when it may fork (`can_fork`): it starts at once,
    with the bytes and every module already in memory; otherwise a new interpreter
    (`python -m importers.x12.validate`) reads the bytes on a pipe. Either way the verdict is
    the one `validate()` gives on the same tokens. A child that cannot start, dies or answers
    nonsense yields None, and the caller validates in-process instead.
    """

    def __init__(self, raw: bytes, name: str, *, fork: bool | None = None) -> None:
        self.seen = (0, 0)
        self._report: ValidationReport | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._pid = 0
        self._code: int | None = None   # the child's exit code, once waited for
        self._writer: threading.Thread | None = None
        if fork if fork is not None else can_fork():
            readable = self._fork(raw, name)
        else:
            root = str(Path(__file__).resolve().parents[2])
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "importers.x12.validate", name], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            assert self._process.stdin is not None and self._process.stdout is not None
            self._writer = threading.Thread(target=self._write, args=(self._process.stdin, raw),
                                            daemon=True)
            self._writer.start()
            readable = self._process.stdout
        self._reader = threading.Thread(target=self._read, args=(readable,), daemon=True)
        self._reader.start()

    def _fork(self, raw: bytes, name: str) -> IO[bytes]:
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:   # no process to spare: the caller validates in-process
            os.close(read_end)
            os.close(write_end)
            raise
        if pid == 0:   # the child: validate, answer on the pipe, and leave without cleanup
            code = 1
            try:
                os.close(read_end)
                # Nothing of the child's reaches the importer's terminal or its --json output
                # (and its copy of stdout's buffer is never flushed a second time).
                quiet = os.open(os.devnull, os.O_RDWR)
                for stream in (0, 1, 2):
                    os.dup2(quiet, stream)
                sys.stdout = sys.stderr = os.fdopen(quiet, "w")  # whatever they wrapped before
                with os.fdopen(write_end, "w") as out:
                    code = _answer(raw, name, out)
            finally:
                os._exit(code)
        os.close(write_end)
        self._pid = pid
        return os.fdopen(read_end, "rb")

    @staticmethod
    def _write(pipe: IO[bytes], raw: bytes) -> None:
        try:
            with pipe:
                pipe.write(raw)
        except OSError:   # the child is gone; `report()` says so
            pass

    def _read(self, pipe: IO[bytes]) -> None:
        with pipe:
            for line in pipe:
                try:
                    kind, _, rest = line.decode().partition(" ")
                    if kind == "progress":
                        done, total = rest.split()
                        self.seen = (int(done), int(total))
                    elif kind == "report":
                        self._report = report_from_json(json.loads(rest))
                except (ValueError, KeyError, TypeError):
                    self._report = None
                    return

    def _wait(self) -> int:
        """The child's exit code, once it has exited (waited for once)."""
        if self._code is None:
            if self._process is not None:
                self._code = self._process.wait()
            else:
                _, status = os.waitpid(self._pid, 0)
                self._code = os.waitstatus_to_exitcode(status)
        return self._code

    def report(self, progress: Callable[[int, int], None] | None = None,
               ) -> ValidationReport | None:
        """Wait for the child's verdict (None: it gave none), passing its progress on."""
        shown = (0, 0)
        while self._reader.is_alive():
            self._reader.join(0.1)
            if progress is not None and self.seen != shown:
                shown = self.seen
                progress(*shown)
        return self._report if self._wait() == 0 else None

    def cancel(self) -> None:
        if self._code is None:
            if self._process is not None:
                self._process.kill()
            else:
                with suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGKILL)
        self._wait()
        self._reader.join()
        if self._writer is not None:
            self._writer.join()


def _answer(raw: bytes, name: str, out: IO[str]) -> int:
    """The child's work: tokenize `raw` as the importer does, validate, write the answer."""
    parent = os.getppid()

    def progress(done: int, total: int) -> None:
        if os.getppid() != parent:   # the importer died (killed, crashed): nobody will read
            os._exit(3)
        out.write(f"progress {done} {total}\n")
        out.flush()

    try:
        segments = tokenize(decode(raw, name), name)[1]
    except X12SyntaxError:
        return 2   # the importer refuses such a file without asking pyx12
    report = validate(segments, progress=progress)
    out.write("report " + json.dumps(report_to_json(report)) + "\n")
    out.flush()
    return 0


def main(argv: list[str]) -> int:
    return _answer(sys.stdin.buffer.read(), argv[0] if argv else "<input>", sys.stdout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
