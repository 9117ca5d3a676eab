"""`python -m bench [--scale small|full] [--pg-url URL]`: every figure of issue 8, one table.

Runs on SQLite always and on PostgreSQL when --pg-url, CLAIMDESK_BENCH_PG_URL or
CLAIMDESK_TEST_PG_URL names a server (a throwaway database is created there and dropped).
Prints the tables and writes bench/RESULTS.md. `full` (the default) fits in 10 minutes on
two cores; `small` takes about two; `tiny` is what the smoke test runs.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bench import figures as fig
from bench.figures import Figure, missing
from bench.machine import machine_info
from bench.profiling import profile_missed
from bench.report import Report, Section, console, number, write_results
from bench.stores import Target, drop_target, postgres_target, sqlite_target

HERE = Path(__file__).resolve().parent
PG_ENV = ("CLAIMDESK_BENCH_PG_URL", "CLAIMDESK_TEST_PG_URL")


@dataclass(frozen=True)
class Scale:
    patients: int              # the main ledger (SQLite)
    whales: tuple[int, int]    # visits of the two marker accounts: (scaling, account screen)
    era_claims: int
    keypresses: int
    worklist_rows: int
    scaling: tuple[int, ...]   # patients of the smaller SQLite ledgers
    pg_patients: int
    pg_era_claims: int
    rebuild_cap: float         # seconds a rebuild may take before it is cut short
    budget: float              # seconds; optional steps are skipped past it
    generate_cap: float        # seconds the main ledger's generation may take


SCALES = {
    "tiny": Scale(40, (3, 8), 8, 5, 2_000, (15,), 30, 5, 60, 300, 120),
    "small": Scale(8_000, (50, 860), 1_000, 50, 100_000, (600,), 1_500, 300, 45, 240, 120),
    "full": Scale(100_000, (50, 860), 10_000, 200, 100_000, (600, 6_500), 3_000, 500,
                  60, 570, 300),
}


class Run:
    """One `python -m bench`: the clock, the log, the report."""

    def __init__(self, scale: str, workdir: Path, log: Callable[[str], None]) -> None:
        self.scale_name = scale
        self.scale = SCALES[scale]
        self.workdir = workdir
        self.log = log
        self.started = time.perf_counter()
        self.report = Report(scale, machine_info())
        self.keep = False   # leave the SQLite ledgers in `workdir` (--keep)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def over_budget(self, what: str) -> bool:
        if self.elapsed() > self.scale.budget:
            self.report.notes.append(f"{what} skipped: the run had used "
                                     f"{self.elapsed():.0f}s of its {self.scale.budget:.0f}s")
            return True
        return False

    # -- one store, every figure ----------------------------------------------------------------
    def full_set(self, target: Target, patients: int, era_claims: int,
                 *, worklist: bool, profiles: bool = False,
                 ) -> tuple[list[Figure], dict[str, str]]:
        s = self.scale
        with fig.timed(self.log, f"{target.label}: generating {patients:,} patients"):
            built = fig.build(target, patients, whales=s.whales, workdir=self.workdir,
                              max_seconds=s.generate_cap, log=self.log)
        g = built.generated
        self.log(f"  {g.events:,} events; {g.claims:,} claims, {g.adjudicated:,} adjudicated, "
                 f"{len(g.pending):,} waiting for the 835")
        figures = [fig.append_figure(built)]
        with fig.timed(self.log, f"{target.label}: rebuild and its anchor"):
            rebuilt = fig.rebuild_figures(target, cap=s.rebuild_cap)
        figures += rebuilt.figures
        small_whale, big_whale = list(g.whales)[:2] if len(g.whales) > 1 else ("", "")
        account_note = "" if rebuilt.at_head else "read models of the capped rebuild"
        scaling_query = None
        if big_whale:
            figures.append(fig.account_figure(target, big_whale, account_note))
            scaling_query = fig.account_figure(target, small_whale)
        with fig.timed(self.log, f"{target.label}: keypress -> saved"):
            figures += fig.keypress_figures(target, g.payment_accounts, s.keypresses,
                                            with_catch_up=rebuilt.at_head)
        with fig.timed(self.log, f"{target.label}: 835 of {era_claims:,} claims"):
            era, about = fig.era_figures(target, g, era_claims, self.workdir,
                                         read_models_at_head=rebuilt.at_head,
                                         rebuild_rate=rebuilt.rate)
        figures += era
        if about:
            self.report.notes.append(f"{target.label}: {about}")
        if worklist:
            with fig.timed(self.log, f"{target.label}: worklist first paint"):
                figures += fig.worklist_figures(target, s.worklist_rows)
        if profiles and any(f.met is False for f in figures):
            with fig.timed(self.log, f"{target.label}: profiling the missed targets"):
                self.report.profiles += profile_missed(
                    target, figures, g, era_claims, self.workdir, s.worklist_rows)
        row = scaling_row(g.events, figures, rebuilt, scaling_query,
                          "this run's main ledger")
        row["patients"] = f"{g.patients:,}"
        return figures, row

    def postgres_step(self, url: str) -> tuple[list[Figure] | None, int]:
        if self.over_budget("PostgreSQL"):
            return None, 0
        return bench_postgres(self, url)

    def scaling_ledger(self, patients: int) -> dict[str, str]:
        target = sqlite_target(self.workdir, f"scale-{patients}", f"SQLite {patients:,}")
        with fig.timed(self.log, f"scaling: {patients:,} patients"):
            built = fig.build(target, patients, whales=self.scale.whales[:1],
                              workdir=self.workdir, log=self.log, ready_payer=None)
            append = fig.append_figure(built)
            rebuilt = fig.rebuild_figures(target, cap=self.scale.rebuild_cap)
            query = fig.account_figure(target, next(iter(built.generated.whales)))
        if not self.keep:
            drop_target(target)
        return scaling_row(built.generated.events, [append], rebuilt, query, "")


def scaling_row(events: int, figures: list[Figure], rebuilt: fig.Rebuilt,
                query: Figure | None, note: str) -> dict[str, str]:
    append = next((f for f in figures if f.name.startswith("events appended")), None)
    notes = [note] if note else []
    if rebuilt.partial:
        notes.append(f"rebuild capped after {rebuilt.events:,} events")
    return {
        "events": f"{events:,}",
        "appended ev/s": number(append.value if append else None, "ev/s"),
        "raw executemany ev/s": number(append.anchor if append else None, "ev/s"),
        "rebuild ev/s": number(rebuilt.rate, "ev/s"),
        "raw read+decode ev/s": number(rebuilt.raw_rate, "ev/s"),
        "rebuild RSS MB": number(rebuilt.rss),
        "account query ms (50 visits)": number(query.value if query else None),
        "notes": "; ".join(notes),
    }


def cpu_seconds() -> float:
    """CPU time of this process and every worker and command it ran."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def postgres_url(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    for name in PG_ENV:
        if os.environ.get(name):
            return os.environ[name]
    return None


def compare(pg: list[Figure], sqlite: list[Figure], sqlite_at_size: dict[str, str],
            pg_events: str) -> list[list[str]]:
    by_name = {f.name.split(" at ")[0]: f for f in sqlite}
    rows = [["figure", "PostgreSQL", "SQLite", "PG / SQLite", "notes"]]
    for f in pg:
        if not f.available:
            rows.append([f.name, "—", "—", "—", f.note])
            continue
        key = f.name.split(" at ")[0]
        theirs = by_name.get(key)
        other = theirs.value if theirs and theirs.available else None
        note = f"PostgreSQL ledger of {pg_events} events"
        if key.startswith("events appended") and sqlite_at_size:
            other = _parse(sqlite_at_size.get("appended ev/s"))
            note += f"; SQLite at {sqlite_at_size['events']} events"
        elif key.startswith("projection rebuild events") and sqlite_at_size:
            other = _parse(sqlite_at_size.get("rebuild ev/s"))
            note += f"; SQLite at {sqlite_at_size['events']} events"
        ratio = f"{f.value / other:.2f}x" if other and f.value is not None else "—"
        rows.append([f.name, f"{number(f.value, f.unit)} {f.unit}",
                     f"{number(other, f.unit)} {f.unit}" if other else "—", ratio, note])
    return rows


def _parse(text: str | None) -> float | None:
    try:
        return float((text or "").replace(",", ""))
    except ValueError:
        return None


def run(scale: str = "full", *, pg_url: str | None = None, postgres: bool = True,
        profiles: bool = True, out: Path | None = None, workdir: Path | None = None,
        log: Callable[[str], None] = print, generate_cap: float | None = None) -> Report:
    """Everything `make bench` does; returns the report (and writes `out` when given).

    PostgreSQL is measured when `postgres` and a server URL is known (`pg_url`, else the
    environment)."""
    # The benchmark measures the store as installed: no encryption or compression at rest.
    for name in ("CLAIMDESK_CIPHER_KEY", "CLAIMDESK_COMPRESS"):
        os.environ.pop(name, None)
    # ...and its modules compiled to bytecode, as a regular install leaves them (an editable
    # one does not; with PYTHONDONTWRITEBYTECODE set, each `claimdesk` run compiled them).
    for package in ("domain", "projections", "importers", "tui", "bench"):
        compileall.compile_dir(HERE.parent / package, quiet=1)
    owned = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="claimdesk-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Run(scale, workdir, log)
    bench.keep = not owned
    if generate_cap is not None:
        bench.scale = replace(bench.scale, generate_cap=generate_cap,
                              budget=bench.scale.budget + max(0.0, generate_cap - 300))
    s = bench.scale
    report = bench.report
    try:
        # The smallest scaling ledger first, before the main one fills the disk's caches.
        rows: list[dict[str, str]] = [bench.scaling_ledger(p) for p in s.scaling[:1]]
        main = sqlite_target(workdir, "main", "SQLite")
        figures, main_row = bench.full_set(main, s.patients, s.era_claims, worklist=True,
                                           profiles=profiles)
        report.sections.append(Section(
            f"SQLite, {main_row['events']} events ({main_row['patients']} patients)", figures,
            "The 835 pays claims of this ledger; the keypress and account figures run on it."))
        if owned:
            drop_target(main)
        url = postgres_url(pg_url) if postgres else None
        if postgres and url is None:
            report.notes.append("PostgreSQL: not measured (set CLAIMDESK_BENCH_PG_URL or "
                                "CLAIMDESK_TEST_PG_URL, or pass --pg-url)")
        # PostgreSQL, then the larger scaling ledgers: when the machine is slow and the
        # budget runs out, the larger scaling ledgers go first.
        pg_figures: list[Figure] | None = None
        pg_events = 0
        if url is not None:
            pg_figures, pg_events = bench.postgres_step(url)
        for patients in s.scaling[1:]:
            if not bench.over_budget(f"scaling ledger of {patients:,} patients"):
                rows.append(bench.scaling_ledger(patients))
        report.scaling = [*rows, main_row]
        if pg_figures is not None:
            report.sections.append(Section(f"PostgreSQL, {pg_events:,} events", pg_figures))
            same_size = next((r for r in rows if pg_events
                              and 0.3 < (_parse(r["events"]) or 0) / pg_events < 3), {})
            report.comparison = compare(pg_figures, figures, same_size, f"{pg_events:,}")
    finally:
        report.seconds = bench.elapsed()
        report.cpu_seconds = cpu_seconds()
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)
    if out is not None:
        write_results(out, report)
    return report


def bench_postgres(bench: Run, url: str) -> tuple[list[Figure], int]:
    s = bench.scale
    try:
        target = postgres_target(url)
    except Exception as error:
        return [missing("PostgreSQL", f"cannot create a database ({error})")], 0
    try:
        bench.report.machine["postgresql"] = _server_version(target.url)
        figures, row = bench.full_set(target, s.pg_patients, s.pg_era_claims, worklist=False)
        return figures, int(_parse(row["events"]) or 0)
    finally:
        drop_target(target)


def _server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--pg-url", help="a PostgreSQL server to measure too")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md",
                        help="where to write the results (default bench/RESULTS.md)")
    parser.add_argument("--keep", type=Path, help="keep the generated ledgers in this folder")
    parser.add_argument("--no-profile", action="store_true",
                        help="do not profile the figures that miss their target")
    parser.add_argument("--generate-cap", type=float, metavar="SECONDS",
                        help="stop generating the main ledger after this long (default: 300 "
                             "at full scale, which keeps the run under 10 minutes)")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    given = list(argv if argv is not None else sys.argv[1:])
    shown = [a for a in given   # no server URL (it may hold a password)
             if "://" not in a and a != "--pg-url" and not a.startswith("--pg-url=")]
    command = " ".join([".venv/bin/python -m bench", *shown])
    report = run(args.scale, pg_url=args.pg_url, profiles=not args.no_profile, out=None,
                 workdir=args.keep, log=log, generate_cap=args.generate_cap)
    report.command = command + (" (with a PostgreSQL server)" if postgres_url(args.pg_url)
                                else "")
    write_results(args.out, report)
    print(console(report))
    print(f"\nwritten to {args.out} ({report.seconds / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
