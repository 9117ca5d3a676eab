"""Each benchmark figure, measured next to its anchor in the same run.

Every function returns `Figure`s. A component that does not exist yet (or fails) gives a
figure whose value is None and whose note says "not available yet: <why>", so one missing
piece never stops the rest of the run.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.era import PAID_ON, EraFile, prepare_835
from bench.generate import Generated, generate
from bench.stores import RawAppender, Target, stored_rows

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figure:
    """One row of the results table."""

    name: str
    value: float | None
    unit: str = ""
    anchor: float | None = None
    anchor_name: str = ""
    target: str = ""
    ratio: float | None = None
    met: bool | None = None
    note: str = ""

    @property
    def available(self) -> bool:
        return self.value is not None


def missing(name: str, why: str, target: str = "") -> Figure:
    return Figure(name, None, target=target, note=f"not available yet: {why}")


def ratio_figure(name: str, value: float, unit: str, anchor: float, anchor_name: str,
                 at_least: float, note: str = "") -> Figure:
    ratio = value / anchor if anchor else None
    return Figure(name, value, unit, anchor, anchor_name, f">= {at_least}x anchor", ratio,
                  None if ratio is None else ratio >= at_least, note)


def limit_figure(name: str, value: float, unit: str, below: float, note: str = "") -> Figure:
    return Figure(name, value, unit, target=f"< {below:g} {unit}", met=value < below,
                  note=note)


def _why(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:160]


# -- running things in their own process --------------------------------------------------------

def run_worker(task: str, args: dict[str, Any], timeout: float) -> tuple[dict[str, Any], float]:
    """`python -m bench.worker`; returns its JSON answer and the wall time of the process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", task, json.dumps(args)], cwd=ROOT,
        capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"bench.worker {task} failed: {tail}")
    return json.loads(lines[-1]), wall


def target_args(target: Target) -> dict[str, Any]:
    return {"kind": target.kind, "url": target.url, "label": target.label}


# -- 1. appends -----------------------------------------------------------------------------------

@dataclass
class Built:
    """A generated ledger and what generating it measured."""

    target: Target
    generated: Generated
    anchor: RawAppender | None
    wall_seconds: float


def build(target: Target, patients: int, *, whales: tuple[int, ...], workdir: Path,
          ready_payer: str | None = "12345", seed: int = 8, batch_size: int = 1000,
          max_seconds: float | None = None, log: Callable[[str], None] = print) -> Built:
    """Generate the ledger; after each ledger save, append the same rows with executemany."""
    ledger = target.open_ledger()
    anchor: RawAppender | None = None
    last = {"saved": 0.0, "shown": time.perf_counter()}

    def after_save(generated: Generated, first: int, count: int) -> None:
        nonlocal anchor
        if anchor is None:
            anchor = RawAppender(target, ledger, workdir)
        anchor.append(stored_rows(ledger, first, count, target.is_postgres))
        last["saved"] = generated.save_seconds
        if time.perf_counter() - last["shown"] > 15:
            last["shown"] = time.perf_counter()
            log(f"  {generated.events:,} events, {generated.patients:,} patients ...")

    started = time.perf_counter()
    generated = generate(ledger, patients, seed=seed, whales=whales, batch_size=batch_size,
                         progress=after_save, ready_payer=ready_payer,
                         max_seconds=max_seconds)
    wall = time.perf_counter() - started
    ledger.close()
    return Built(target, generated, anchor, wall)


def append_figure(built: Built) -> Figure:
    g = built.generated
    anchor = built.anchor
    if anchor is None or not anchor.rows:
        return missing("events appended/s", "nothing was saved")
    note = (f"{g.events:,} events in {g.saves} saves of ~{g.aggregates // max(g.saves, 1)} "
            f"aggregates; the commands building them took {g.build_seconds:.0f}s more"
            + (f"; generation {g.stopped}" if g.stopped else ""))
    anchor.close()
    return ratio_figure("events appended/s (ledger batched saves)", g.append_rate, "ev/s",
                        anchor.rate, "raw executemany, same rows", 0.25, note)


# -- 2. projection rebuild ------------------------------------------------------------------------

@dataclass
class Rebuilt:
    raw_rate: float | None = None
    raw_rss: float | None = None
    library_rate: float | None = None
    rate: float | None = None
    rss: float | None = None
    events: int = 0
    head: int = 0
    partial: bool = False
    at_head: bool = False
    figures: list[Figure] = field(default_factory=list)


def rebuild_figures(target: Target, *, cap: float, timeout: float = 900) -> Rebuilt:
    out = Rebuilt()
    try:
        raw, _ = run_worker("raw_read", target_args(target), timeout)
        out.raw_rate, out.raw_rss = raw["events"] / raw["seconds"], raw["peak_rss_mb"]
    except Exception as error:
        out.figures.append(missing("raw read + JSON decode", _why(error)))
    try:
        library, _ = run_worker("library_read", target_args(target), timeout)
        out.library_rate = library["events"] / library["seconds"]
    except Exception as error:
        out.figures.append(missing("eventsourcing read + decode", _why(error)))
    try:
        import projections.queries  # noqa: F401 - is the read side there yet?
    except Exception as error:
        out.figures.append(missing("projection rebuild events/s",
                                   f"projections.queries.BillingQueries ({_why(error)})",
                                   ">= 0.5x anchor"))
        return out
    try:
        result, _ = run_worker("rebuild", {**target_args(target), "cap": cap}, timeout)
    except Exception as error:
        out.figures.append(missing("projection rebuild events/s", _why(error),
                                   ">= 0.5x anchor"))
        return out
    out.events, out.head, out.partial = result["events"], result["head"], result["partial"]
    out.rate = result["events"] / result["seconds"] if result["seconds"] else 0.0
    out.rss = result["peak_rss_mb"]
    out.at_head = not out.partial
    note = f"BillingQueries.rebuild() over {out.events:,} events in {result['seconds']:.1f}s"
    if out.partial:
        note = (f"capped at {cap:.0f}s: {out.events:,} of {out.head:,} events folded "
                f"(a full rebuild would take ~{out.head / max(out.rate, 1):.0f}s); rate and "
                "RSS are of that part")
        _finish_partial(target)
    if out.raw_rate:
        out.figures.append(ratio_figure(
            "projection rebuild events/s", out.rate, "ev/s", out.raw_rate,
            "raw read + json.loads", 0.5, note))
    else:
        out.figures.append(Figure("projection rebuild events/s", out.rate, "ev/s", note=note))
    if out.library_rate:
        # Not the target's anchor: shown because the issue's own "raw read+decode ~115k/s"
        # matches this path's rate here, while plain json.loads reads about twice as fast.
        out.figures.append(Figure(
            "projection rebuild vs eventsourcing's read", out.rate, "ev/s", out.library_rate,
            "select_notifications + mapper.to_domain_event", "(shown, not a target)",
            out.rate / out.library_rate, None,
            "the same rebuild against eventsourcing's own read + decode of the same table"))
    out.figures.append(limit_figure("projection rebuild peak RSS", out.rss, "MB", 500,
                                    f"raw read + decode peaked at {out.raw_rss} MB"))
    return out


def _finish_partial(target: Target) -> None:
    """After a capped rebuild, the secondary indexes the full one ends with (for queries)."""
    from projections.queries import store_for

    ledger = target.open_ledger()
    store = store_for(ledger)
    try:
        create = getattr(store, "create_indexes", None)
        if callable(create):
            create()
    finally:
        store.close()
        ledger.close()


# -- 3. 835 posting ----------------------------------------------------------------------------

def era_figures(target: Target, generated: Generated, claims: int, workdir: Path,
                *, read_models_at_head: bool, rebuild_rate: float | None = None,
                timeout: float = 900) -> tuple[list[Figure], str]:
    """Post a generated 835 end to end; anchor: pyx12 validating the same file, alone."""
    name = "835 posting claims/s end to end"
    ledger = target.open_ledger(cached=True)
    try:
        era = prepare_835(ledger, generated.pending, claims,
                          workdir / f"bench-{target.kind}.835", reopen=target.open_ledger)
    except Exception as error:
        ledger.close()
        return [missing(name, f"could not make the 835 ({_why(error)})", ">= 0.7x anchor")], ""
    ledger.close()
    if read_models_at_head:
        # Sending the claims recorded ~10,000 events of their own: the read models take them
        # in now, so the figure below projects the 835's events and nothing else.
        _catch_up_seconds(target)
    about = f"{era.claims:,}-claim 835 by {era.source}" + (f"; {era.note}" if era.note else "")
    try:
        with children_cpu() as anchor_cpu:
            checked, validate_wall = run_worker("validate", {"path": str(era.path)}, timeout)
    except Exception as error:
        return [missing(name, f"pyx12 anchor failed ({_why(error)})", ">= 0.7x anchor")], about
    anchor = era.claims / validate_wall
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    try:
        with children_cpu() as import_cpu:
            seconds, how, events = _import_835(target, era, timeout)
    except Exception as error:
        return [missing(name, _why(error), ">= 0.7x anchor")], about
    caught_up = _catch_up_seconds(target) if read_models_at_head else None
    project = caught_up[0] if caught_up is not None else None
    total = seconds + (project or 0.0)
    if caught_up is not None:
        # The command folds the file's events while pyx12 checks it and writes them once
        # saved, so what is left here is normally nothing.
        projected = (f" (read models kept level by the command), + read-model catch-up after "
                     f"it {caught_up[0]:.1f}s (CPU {caught_up[1]:.1f}s)")
    else:
        projected = ", read-model catch-up not timed (the capped rebuild left the read models " \
            "behind)"
        if rebuild_rate:
            extra = events / rebuild_rate
            projected += (f"; at the measured rebuild rate it would add ~{extra:.0f}s "
                          f"(ratio ~{era.claims / (seconds + extra) / anchor:.2f}x)")
    # CPU beside wall time: on a shared machine the wall times move with the others' load.
    note = (f"{how}: {seconds:.1f}s (CPU {import_cpu[0]:.1f}s, pyx12 {_validation_mode()}), "
            f"{events:,} events{projected}"
            + f"; pyx12 alone {validate_wall:.1f}s (process, CPU {anchor_cpu[0]:.1f}s) / "
            f"{checked['seconds']:.1f}s (validation only); 1-min load {load:.1f} on "
            f"{os.cpu_count()} cores")
    return [ratio_figure(name, era.claims / total, "claims/s", anchor,
                         "pyx12 validation alone", 0.7, note)], about


@contextmanager
def children_cpu() -> Iterator[list[float]]:
    """CPU seconds (user + system) of the child processes waited for inside the block."""
    def used() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    spent = [0.0]
    before = used()
    try:
        yield spent
    finally:
        spent[0] = used() - before


def _validation_mode() -> str:
    """How the importer will run pyx12 here (importers.remittance_import's own rule)."""
    from importers import remittance_import

    how = os.environ.get(remittance_import.VALIDATE_ENV_VAR, "auto")
    if how == "auto":
        how = "in a second process" if remittance_import._two_cores() else "in-process"
        how += f" for files of {remittance_import.BACKGROUND_MIN_BYTES // 1024} KiB or more"
    return how


def _import_835(target: Target, era: EraFile, timeout: float) -> tuple[float, str, int]:
    """`claimdesk --db URL import 835 FILE --json`, else the importer in a worker process."""
    command = [str(Path(sys.executable).with_name("claimdesk")), "--db", target.url,
               "import", "835", str(era.path), "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)
    seconds = time.perf_counter() - started
    if done.returncode == 0:
        doc = json.loads(done.stdout)
        doc = doc[0] if isinstance(doc, list) else doc
        if doc.get("status") != "posted":
            raise RuntimeError(f"the 835 was {doc.get('status')}: {doc.get('message')}")
        return seconds, "`claimdesk import 835` (process)", int(doc.get("events") or 0)
    why = (done.stderr.strip().splitlines() or ["no output"])[-1][:120]
    result, wall = run_worker("import_835", {**target_args(target), "path": str(era.path)},
                              timeout)
    if result["status"] != "posted":
        raise RuntimeError(f"the 835 was {result['status']}: {result['message']}")
    return (wall, f"importers.remittance_import in a process (the CLI failed: {why})",
            int(result["events"]))


def _catch_up_seconds(target: Target) -> tuple[float, float] | None:
    """Wall and CPU seconds of the read models' catch-up (None: no read models here)."""
    try:
        from projections.queries import BillingQueries, store_for
    except ImportError:
        return None
    ledger = target.open_ledger()
    queries = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
    started, cpu = time.perf_counter(), time.process_time()
    queries.catch_up()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    queries.close()
    ledger.close()
    return seconds, cpu


# -- 4. one command ---------------------------------------------------------------------------

def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def keypress_figures(target: Target, accounts: list[str], count: int,
                     *, with_catch_up: bool) -> list[Figure]:
    """`post_patient_payment` on a ledger of the generated size: keypress to saved."""
    name = "keypress -> saved (post_patient_payment), p99"
    if len(accounts) < 4:
        return [missing(name, "no guarantor owes anything in the generated ledger")]
    ledger = target.open_ledger(actor="front-desk")
    paid_on = PAID_ON + timedelta(days=5)
    pay = ledger.post_patient_payment
    for account in accounts[:3]:  # warm: a workstation process has loaded its code already
        pay(account, 100, paid_on=paid_on, method="card")
    samples, cpu = [], []
    for account in accounts[3:3 + count]:
        started, started_cpu = time.perf_counter(), time.process_time()
        pay(account, 500, paid_on=paid_on, method="card")
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    figures = [
        Figure("keypress -> saved, p50", percentile(samples, 50), "ms",
               note=f"{len(samples)} payments on different guarantors; CPU p50 "
                    f"{percentile(cpu, 50):.1f} ms"),
        limit_figure(name, percentile(samples, 99), "ms", 20,
                     f"max {max(samples):.1f} ms; CPU p99 {percentile(cpu, 99):.1f} ms "
                     "(wall minus CPU: disk sync and waiting for a core)"),
    ]
    if with_catch_up:
        figures.append(_keypress_with_catch_up(ledger, accounts[3 + count:], count, paid_on))
    ledger.close()
    return figures


def _keypress_with_catch_up(ledger: Any, accounts: list[str], count: int,
                            paid_on: Any) -> Figure:
    """The same command as the workstation runs it: the read models catch up after it."""
    name = "keypress -> saved + read models caught up, p99"
    try:
        from projections.queries import BillingQueries, store_for

        queries = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
        queries.catch_up()
    except Exception as error:
        return missing(name, _why(error))
    ledger.after_save.append(queries.catch_up)
    samples = []
    for account in accounts[:count]:
        started = time.perf_counter()
        ledger.post_patient_payment(account, 500, paid_on=paid_on, method="card")
        samples.append((time.perf_counter() - started) * 1000)
    ledger.after_save.remove(queries.catch_up)
    queries.close()
    if not samples:
        return missing(name, "not enough guarantors with a balance")
    return Figure(name, percentile(samples, 99), "ms", target="(info)",
                  note=f"p50 {percentile(samples, 50):.1f} ms over {len(samples)}")


# -- 5. the account screen's query ------------------------------------------------------------

def account_query(target: Target, account_no: str,
                  repeat: int = 5) -> tuple[float, int, float]:
    """Median ms of what the account screen reads as it opens (`AccountScreen.first_screenful`:
    header, coverage, balances and their split, the latest page of visits, claims and ledger
    rows with running figures), the account's number of history events, and the median CPU ms.
    """
    from domain.clock import today
    from projections.queries import BillingQueries, store_for
    from tui.screens.account import AccountScreen

    ledger = target.open_ledger()
    queries = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
    try:
        as_of = today()   # the workstation's default date, as the screen asks
        samples, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            AccountScreen.first_screenful(queries, account_no, as_of)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        events = queries.account_history_count(account_no)
        return statistics.median(samples), events, statistics.median(cpu)
    finally:
        queries.close()
        ledger.close()


def account_figure(target: Target, account_no: str, note: str = "") -> Figure:
    name = "account screen query (first screenful)"
    try:
        # In a fresh process, like the rebuild that made the read models it reads.
        result, _ = run_worker("account_query", {**target_args(target),
                                                 "account_no": account_no}, 300)
        ms, events, cpu = result["ms"], result["events"], result["cpu_ms"]
    except Exception as error:
        return missing(name, _why(error), "< 50 ms")
    return limit_figure(f"{name} at {events:,} events", ms, "ms", 50,
                        f"median of 5, account {account_no}, CPU {cpu:.1f} ms"
                        + (f"; {note}" if note else ""))


# -- 6. the work queue's first paint -----------------------------------------------------------

class _StubQueues:
    """The real read API plus one synthetic queue of `rows` rows (until `queue` exists)."""

    def __init__(self, real: Any, rows: int) -> None:
        self.real = real
        self.total = rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def queue_names(self) -> list[dict[str, Any]]:
        return [{"name": "bench", "title": "Benchmark queue", "count": self.total}]

    def queue(self, name: str, limit: int = 200, offset: int = 0,
              **_: Any) -> dict[str, Any]:
        rows = [{"account_no": f"A{10_000_001 + i}", "name": f"PATIENT {i:06d}",
                 "claim_id": f"C{i:010d}", "payer_id": "12345",
                 "service_date": "2026-05-01", "balance_cents": 12_345 + i,
                 "days": i % 120, "action": "APPEAL"}
                for i in range(offset, min(offset + limit, self.total))]
        return {"rows": rows, "total": self.total}


Around = Callable[[], Any]   # a context manager factory wrapped around the measured part


# Queues that can grow to most of a practice's claims; the largest is the one timed.
BIG_QUEUES = ("no-response", "unbilled", "denials", "timely-filing", "credit-balances")


def worklist_probe(target: Target, rows: int, *, real: bool,
                   ) -> tuple[Callable[[Around | None], float], str, Callable[[], None]]:
    """(paint, how, close): `paint(around)` opens the work-queue screen headless and returns
    the seconds until its first page of rows is painted (`around()` wraps just that part).

    `real`: the largest of the real queues (`BillingQueries.queue`); else a synthetic queue
    of `rows` rows served a page at a time, which times the screen alone.
    """
    from projections.queries import BillingQueries, store_for
    from tui.app import BillingApp
    from tui.screens.queues import QueueScreen
    from tui.widgets.paged_table import PAGE_SIZE, PagedTable

    ledger = target.open_ledger()
    live = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
    queries: Any = live
    if real:
        if not callable(getattr(live, "queue", None)):
            live.close()
            ledger.close()
            raise LookupError("BillingQueries.queue")
        sizes = []
        for name in [q for q in BIG_QUEUES if q in set(live.queue_names())]:
            sizes.append((int(live.queue(name, limit=1).get("count") or 0), name))
        size, queue_name = max(sizes)
        if not size:
            close_all = (live.close, ledger.close)
            for closer in close_all:
                closer()
            raise LookupError("every work queue is empty")
        how = f"real read models, queue {queue_name} ({size:,} rows)"
    else:
        queries, queue_name = _StubQueues(live, rows), "bench"
        how = f"synthetic {rows:,}-row queue served a page at a time: the screen alone"

    cpu_seconds = [0.0]

    async def measure(around: Around | None) -> float:
        app = BillingApp(ledger, queries, user="biller")
        async with app.run_test(headless=True, size=(160, 48)) as pilot:
            await pilot.pause()
            with around() if around is not None else nullcontext():
                started, started_cpu = time.perf_counter(), time.process_time()
                await app.push_screen(QueueScreen(queue_name))
                table = app.screen.query_one(PagedTable)
                while table.row_count == 0 and table.total is None:
                    if time.perf_counter() - started > 60:
                        raise TimeoutError("no rows after 60 s")
                    await pilot.pause(0.002)
                await pilot.pause()   # the refresh that paints them
                cpu_seconds[0] = time.process_time() - started_cpu
                return time.perf_counter() - started

    def close() -> None:
        live.close()
        ledger.close()

    def paint(around: Around | None = None) -> float:
        return asyncio.run(measure(around))

    paint.cpu_seconds = cpu_seconds  # type: ignore[attr-defined]
    # What the screen's worker thread asks for its first page, callable on this thread.
    paint.first_page = lambda: queries.queue(  # type: ignore[attr-defined]
        queue_name, limit=PAGE_SIZE, offset=0)
    return paint, how, close


def cpu_of(paint: Callable[..., float]) -> float:
    return float(getattr(paint, "cpu_seconds", [0.0])[0])


def worklist_figures(target: Target, rows: int) -> list[Figure]:
    """First paint of the work-queue screen: the largest real queue, and `rows` synthetic."""
    out = []
    for real in (True, False):
        name = ("worklist first paint, largest real queue" if real else
                f"{rows // 1000}k-row worklist first paint (headless Textual)")
        try:
            paint, how, close = worklist_probe(target, rows, real=real)
        except Exception as error:
            out.append(missing(name, f"the work-queue screen ({_why(error)})", "< 0.5 s"))
            continue
        try:
            seconds = paint(None)
        except Exception as error:
            out.append(missing(name, _why(error), "< 0.5 s"))
            continue
        finally:
            close()
        out.append(limit_figure(name, seconds, "s", 0.5, f"QueueScreen pushed until its "
                                f"first page of rows is painted; {how}; CPU "
                                f"{cpu_of(paint):.2f} s"))
    return out


@contextmanager
def timed(log: Callable[[str], None], what: str) -> Iterator[None]:
    log(f"{what} ...")
    started = time.perf_counter()
    yield
    log(f"{what}: {time.perf_counter() - started:.1f}s")
