"""Profiles of the figures that miss their target: a small, bounded rerun under pyinstrument.

The measured runs are never profiled (the profiler's overhead would change the figure); each
missed figure gets a short reproduction on the same ledger instead, and the top of its call
tree goes into RESULTS.md. Without pyinstrument installed, cProfile's top functions are used.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.era import PAID_ON, prepare_835
from bench.figures import Figure, account_query, worklist_probe
from bench.generate import Generated
from bench.stores import Target

LINES = 45


def _trim(text: str, lines: int = LINES) -> str:
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[:lines])


class _Session:
    """A profiler that can be started and stopped around part of a run."""

    def __init__(self) -> None:
        try:
            from pyinstrument import Profiler
        except ImportError:
            self.pyinstrument: Any = None
            self.cprofile = cProfile.Profile()
        else:
            self.pyinstrument = Profiler(interval=0.001, async_mode="disabled")

    @contextmanager
    def running(self) -> Iterator[None]:
        if self.pyinstrument is not None:
            self.pyinstrument.start()
        else:
            self.cprofile.enable()
        try:
            yield
        finally:
            if self.pyinstrument is not None:
                self.pyinstrument.stop()
            else:
                self.cprofile.disable()

    def text(self) -> str:
        if self.pyinstrument is None:
            out = io.StringIO()
            pstats.Stats(self.cprofile, stream=out).sort_stats("cumulative").print_stats(25)
            return _trim(out.getvalue())
        text = self.pyinstrument.output_text(unicode=False, color=False, show_all=False)
        # pyinstrument's banner, but for its wall and CPU time, then the call tree.
        lines = text.splitlines()
        times = next((line for line in lines if "Duration:" in line), "")
        times = " ".join(times.split("Duration:")[-1].split()).replace("CPU time:", "s, CPU")
        start = next((i for i, line in enumerate(lines) if line.startswith("Profile at")), 0)
        head = f"wall {times} s (the rest of the wall time was spent waiting)" if times else ""
        return _trim("\n".join([head, *lines[start + 1:]]))


def profile(work: Callable[[], Any]) -> str:
    """Run `work` under pyinstrument (else cProfile); the top of the report."""
    session = _Session()
    with session.running():
        work()
    return session.text()


def rebuild_part(ledger: Any, events: int) -> Callable[[], Any]:
    """The first `events` of a rebuild: reset, then fold and write pages up to there."""
    from projections.queries import BillingQueries, store_for

    queries = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)

    def work() -> None:
        # Projector.rebuild() without its last pages: reset, then catch up to `events`.
        projector = queries.projector
        queries.store.reset(ledger.name)
        projector.cache.clear()
        projector.cached_at = None
        projector.catch_up(stop=events)

    return work


def profile_missed(target: Target, figures: list[Figure], generated: Generated,
                   era_claims: int, workdir: Path, worklist_rows: int,
                   ) -> list[tuple[str, str]]:
    """One bounded profile per missed figure; the rebuild last (it resets the read models)."""
    missed = [f.name for f in figures if f.met is False]

    def hit(part: str) -> bool:
        return any(part in name for name in missed)

    jobs: list[tuple[str, Callable[[], Callable[[], Any]]]] = []
    out: list[tuple[str, str]] = []
    ledger = target.open_ledger(actor="front-desk")
    if hit("keypress"):
        accounts = generated.payment_accounts[-25:]

        def payments() -> Callable[[], Any]:
            return lambda: [ledger.post_patient_payment(a, 300, paid_on=PAID_ON,
                                                        method="card") for a in accounts]
        jobs.append((f"keypress -> saved: {len(accounts)} post_patient_payment", payments))
    whales = list(generated.whales)
    if hit("account screen") and whales:
        jobs.append(("account screen query: the first screenful of the largest account",
                     lambda: lambda: account_query(target, whales[-1], repeat=1)))
    leftover = generated.pending[era_claims:era_claims + 300]
    if hit("835 posting") and len(leftover) >= 20:
        def small_835() -> Callable[[], Any]:
            from importers.remittance_import import import_835_file

            era = prepare_835(ledger, leftover, len(leftover), workdir / "profile.835")
            return lambda: import_835_file(ledger, era.path)
        jobs.append((f"835 posting: import_835_file of a {len(leftover)}-claim 835 "
                     "(validate, parse, post)", small_835))
    for real, part in ((True, "largest real queue"), (False, "k-row worklist")):
        if not hit(part):
            continue
        # Only the measured part: from pushing the screen to its first painted page.
        title = f"worklist first paint ({'real queue' if real else 'synthetic queue'}): " \
            "push QueueScreen -> rows painted"
        try:
            probe, how, close = worklist_probe(target, worklist_rows, real=real)
            session = _Session()
            try:
                probe(session.running)
                if real:
                    # The screen reads its page in a worker thread, which the profile of the
                    # screen does not see: the same read, on this thread.
                    first_page = _Session()
                    with first_page.running():
                        probe.first_page()  # type: ignore[attr-defined]
            finally:
                close()
            out.append((f"{title}; {how}", session.text()))
            if real:
                out.append(("worklist, largest real queue: the first page's read "
                            "(BillingQueries.queue, as the screen's worker calls it)",
                            first_page.text()))
        except Exception as error:  # a profile is a bonus: never fail the run for it
            out.append((title, f"profile failed: {type(error).__name__}: {error}"))
    if hit("projection rebuild events"):
        events = min(30_000, ledger.events_count())
        jobs.append((f"projection rebuild: the first {events:,} events",
                     lambda: rebuild_part(ledger, events)))
    for title, prepare in jobs:
        try:
            out.append((title, profile(prepare())))
        except Exception as error:  # a profile is a bonus: never fail the run for it
            out.append((title, f"profile failed: {type(error).__name__}: {error}"))
    ledger.close()
    return out
