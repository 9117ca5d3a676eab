"""A long catch-up's page writes in a second process: the fold keeps one core, SQL the other.

A rebuild spends about a third of its time encoding rows and inserting them, all of it
after the page is folded and none of it needed by the next page's fold. A writer process
(a fresh interpreter, `python -m projections.page_writer`, so nothing of a threaded parent
is inherited and no caller's main module is imported again) takes each folded page as
plain rows, encodes it and writes it with its tracking position in one transaction, as
the store's own `write` does, while the fold goes on with the next page. A thread would
not do: sqlite3 gives up the GIL for every row it steps and then waits to get it back.

At most `IN_FLIGHT` pages wait for the writer; the fold asks `drain()` before its cache
forgets rows, since a row it reads back from the store must already be written there.
"""

from __future__ import annotations

import gc
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from projections.schema import TABLE
from projections.store import (
    PostgresProjectionStore,
    ProjectionStore,
    ReadModelVersionError,
    SQLiteProjectionStore,
    dict_values,
    encode_rows,
    encode_values,
)

# Pages of 5,000 events differ in what they cost each side (a page of new claims is cheap
# to fold and dear to write): with 2 waiting, both sides still waited on each other for
# seconds of a 1.6M-event rebuild; 8 (~15 MB) took 2 s off it, and 32 did no better.
IN_FLIGHT = 8


class PageWriterError(RuntimeError):
    """The writer process failed; nothing after its last committed page was written."""


class PositionMoved(Exception):
    """Another process wrote pages meanwhile: the writer stopped, the fold must start over."""


def reopen_args(store: ProjectionStore) -> tuple[str, str, str | None, bool] | None:
    """How a second process opens the same store; None where it cannot (in memory)."""
    if isinstance(store, SQLiteProjectionStore):
        if store.path == ":memory:":
            return None
        return ("sqlite", store.path, None, store.scratch)
    if isinstance(store, PostgresProjectionStore):
        return ("postgres", store.url, store.schema, False)
    return None


def _open(args: list[Any]) -> ProjectionStore:
    kind, where, schema, scratch = args
    if kind == "sqlite":
        return SQLiteProjectionStore(where, scratch=scratch)
    return PostgresProjectionStore(where, schema=schema)


def _as_sent(rows: list[Any]) -> list[Any]:
    """Rows as the fold made them: tuples travel as JSON arrays, built as tuples again."""
    return [tuple(row) if type(row) is list else row for row in rows]


def _for_sending(table: str, rows: list[Any]) -> tuple[str, bool, list[Any]]:
    """(table, whether the rows are dict rows sent as their values, rows): a dict row's
    values alone cost half as much to load in the writer as the dict (1.6M events: 2 s)."""
    if all(type(row) is dict for row in rows):
        return table, True, dict_values(TABLE[table], rows)
    return table, False, rows


def _receiving(conn: Connection) -> queue.SimpleQueue[bytes | None]:
    """Messages as they arrive, taken off the socket by a thread of their own: read only
    between writes, a page kept the fold waiting in `send` until the last one was written
    (4% of a rebuild). The parent sends at most `IN_FLIGHT` unanswered pages."""
    arrived: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def receive() -> None:
        try:
            while True:
                arrived.put(conn.recv_bytes())
        except (EOFError, OSError):
            arrived.put(None)

    threading.Thread(target=receive, name="page-receiver", daemon=True).start()
    return arrived


def _serve(conn: Connection, args: list[Any], name: str) -> None:
    """The writer process: one page per message until the parent closes its end."""
    gc.disable()   # decoded rows hold no cycles; see Projector.catch_up
    store = _open(args)
    arrived = _receiving(conn)
    try:
        # The rebuild's own bulk() empties the log once its indexes are built too: the
        # fold waited 0.6 s for this process to do it first.
        with store.bulk(cut_log=False):
            while True:
                message = arrived.get()
                if message is None:
                    return
                try:
                    expected, position, changes = orjson.loads(message)
                    encoded = [(table, encode_values(TABLE[table], rows) if as_values
                                else encode_rows(TABLE[table], _as_sent(rows)))
                               for table, as_values, rows in changes]
                    written = store.write_encoded(name, expected, position, encoded)
                except ReadModelVersionError as error:
                    conn.send(("version", str(error)))
                    return
                except Exception as error:
                    conn.send(("error", f"{type(error).__name__}: {error}",
                               traceback.format_exc()))
                    return
                if not written:
                    conn.send(("moved", expected))
                    return
                conn.send(("ok", position))
    except (BrokenPipeError, ConnectionResetError):
        return   # the parent is gone: what it sent is written, the rest rolled back
    finally:
        store.close()


class PageWriter:
    """The parent's end: `send` a folded page, `drain` to wait until all are committed."""

    def __init__(self, store: ProjectionStore, name: str) -> None:
        args = reopen_args(store)
        if args is None:
            raise ValueError("this store cannot be opened by a second process")
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        # The writer imports this very code, wherever it was imported from here.
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "projections.page_writer", str(theirs.fileno()),
             json.dumps(args), name], pass_fds=(theirs.fileno(),), env=env)
        theirs.close()
        self._conn = Connection(ours.detach())
        self._pending = 0
        self.committed: int | None = None

    def send(self, expected: int, position: int,
             changes: Iterable[tuple[str, list[Any]]]) -> None:
        """Queue one page (rows as the fold left them, serialized now, so later changes
        to the same dict rows are not part of it)."""
        while self._pending >= IN_FLIGHT:
            self._receive()
        payload = orjson.dumps((expected, position, [_for_sending(table, rows)
                                                     for table, rows in changes]),
                               option=orjson.OPT_NON_STR_KEYS)
        try:
            self._conn.send_bytes(payload)
        except (BrokenPipeError, EOFError, OSError):
            self._receive()   # the writer stopped: say why
            raise PageWriterError("the page writer stopped") from None
        self._pending += 1

    def drain(self) -> None:
        while self._pending:
            self._receive()

    def _receive(self) -> None:
        try:
            reply = self._conn.recv()
        except (EOFError, OSError):
            self._pending = 0
            raise PageWriterError(
                f"the page writer ended unexpectedly (exit code {self._exitcode()})") from None
        self._pending -= 1
        kind = reply[0]
        if kind == "ok":
            self.committed = reply[1]
            return
        self._pending = 0
        if kind == "moved":
            raise PositionMoved(reply[1])
        if kind == "version":
            raise ReadModelVersionError(reply[1])
        raise PageWriterError(f"the page writer failed: {reply[1]}\n{reply[2]}")

    def _exitcode(self) -> int | None:
        try:
            return self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        """Stop the writer once it has answered for every page sent (or failed)."""
        self._conn.close()
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def main(argv: list[str]) -> int:
    fd, args, name = int(argv[0]), json.loads(argv[1]), argv[2]
    _serve(Connection(fd), args, name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
