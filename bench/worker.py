"""One measurement in a fresh process, so its peak memory (ru_maxrss) is its own.

    python -m bench.worker TASK '{"json": "arguments"}'

prints one JSON object: the task's figures plus `peak_rss_mb`. Tasks: `raw_read` (read and
JSON-decode the event table), `library_read` (the same through eventsourcing's recorder and
mapper), `rebuild` (drop and rebuild every read model, stopping at a
time cap), `account_query` (the account screen's reads), `validate` (pyx12 alone on an X12
file), `import_835` (the importer in process, for when the `claimdesk` command cannot run).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

from bench.machine import peak_rss_mb
from bench.stores import Target, events_table, raw_read_decode


def _target(args: dict[str, Any]) -> Target:
    return Target(args["kind"], args["url"], args.get("label", ""))


def raw_read(args: dict[str, Any]) -> dict[str, Any]:
    target = _target(args)
    ledger = target.open_ledger()
    schema, table = events_table(ledger)
    ledger.close()
    events, seconds = raw_read_decode(target, schema, table, args.get("limit"))
    return {"events": events, "seconds": seconds}


def library_read(args: dict[str, Any]) -> dict[str, Any]:
    """Every event read and decoded as eventsourcing reads them for a projection: pages of
    `select_notifications`, each mapped to its domain event by the application's mapper."""
    ledger = _target(args).open_ledger()
    recorder, mapper = ledger.recorder, ledger.mapper
    started = time.perf_counter()
    count, position = 0, 0
    while page := recorder.select_notifications(start=position, limit=1000,
                                                inclusive_of_start=False):
        for notification in page:
            mapper.to_domain_event(notification)
        count += len(page)
        position = page[-1].id
    seconds = time.perf_counter() - started
    ledger.close()
    return {"events": count, "seconds": seconds}


def rebuild(args: dict[str, Any]) -> dict[str, Any]:
    """`BillingQueries.rebuild()`; past `cap` seconds, report how far it got and stop."""
    from projections.queries import BillingQueries, store_for

    ledger = _target(args).open_ledger()
    head = ledger.events_count()
    queries = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["events"] = queries.rebuild()
        except BaseException as error:
            outcome["error"] = f"{type(error).__name__}: {error}"
        finally:
            done.set()

    started = time.perf_counter()
    threading.Thread(target=run, daemon=True).start()
    cap = args.get("cap") or None
    if not done.wait(cap):
        # A second connection reads the committed position while the rebuild goes on.
        position = store_for(ledger).position(ledger.name)
        # Every event folded: what is left is building the indexes; let it finish.
        if position < head or not done.wait(2 * cap if cap else None):
            seconds = time.perf_counter() - started
            _emit({"events": position, "seconds": seconds, "head": head, "partial": True})
            os._exit(0)  # the page being folded is rolled back with the process
    seconds = time.perf_counter() - started
    if "error" in outcome:
        raise RuntimeError(outcome["error"])
    return {"events": outcome["events"], "seconds": seconds, "head": head, "partial": False}


def validate(args: dict[str, Any]) -> dict[str, Any]:
    """pyx12's validator, as its `x12valid` script runs it, on the file."""
    import logging

    started = time.perf_counter()
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    loaded = time.perf_counter()
    ok = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=args["path"], fd_997=None, fd_html=None)
    return {"ok": bool(ok), "seconds": time.perf_counter() - loaded,
            "import_seconds": loaded - started}


def import_835(args: dict[str, Any]) -> dict[str, Any]:
    from importers.remittance_import import import_835_file

    ledger = _target(args).open_ledger()
    started = time.perf_counter()
    result = import_835_file(ledger, args["path"])
    return {"seconds": time.perf_counter() - started, "status": result.status,
            "claims": result.claims, "matched": result.matched, "events": result.events,
            "message": result.message}


def account_query(args: dict[str, Any]) -> dict[str, Any]:
    """The account screen's reads, in a process running the same code as the rebuild."""
    from bench.figures import account_query as query

    ms, events, cpu = query(_target(args), args["account_no"], args.get("repeat", 5))
    return {"ms": ms, "events": events, "cpu_ms": cpu}


TASKS = {"raw_read": raw_read, "library_read": library_read, "rebuild": rebuild,
         "validate": validate, "import_835": import_835, "account_query": account_query}


def _emit(result: dict[str, Any]) -> None:
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    task, raw = argv[0], argv[1] if len(argv) > 1 else "{}"
    _emit(TASKS[task](json.loads(raw)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
