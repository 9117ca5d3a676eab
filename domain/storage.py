"""Where the ledger lives: a SQLite file by default or a PostgreSQL URL, as eventsourcing env."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from eventsourcing.persistence import PersistenceError

DB_ENV_VAR = "CLAIMDESK_DB"
# A base64 AES key (`claimdesk keygen`): event payloads are then encrypted at rest.
KEY_ENV_VAR = "CLAIMDESK_CIPHER_KEY"
COMPRESS_ENV_VAR = "CLAIMDESK_COMPRESS"
# Seconds to wait for a PostgreSQL server (and for a free connection of the pool): a
# server that is down is told in seconds, not after eventsourcing's default of 30.
POSTGRES_CONNECT_TIMEOUT = 10
SQLITE_HEADER = b"SQLite format 3\x00"


class LedgerUnavailableError(Exception):
    """The ledger cannot be opened; the message says where (no password) and why."""


def default_db_path() -> Path:
    """The user's data directory, as the brief asks, without a platform dependency for one path."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "claimdesk" / "ledger.sqlite3"


@dataclass(frozen=True)
class Store:
    """A resolved ledger location."""

    url: str          # what the user gave, or the default path
    is_postgres: bool
    sqlite_path: Path | None

    def event_store_env(self) -> dict[str, str]:
        env = self._backend_env()
        key = os.environ.get(KEY_ENV_VAR)
        if key:
            env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
            env["CIPHER_KEY"] = key
        if key or os.environ.get(COMPRESS_ENV_VAR, "") not in ("", "0"):
            # Compress before encrypting: ciphertext does not compress.
            env["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"
        return env

    def _backend_env(self) -> dict[str, str]:
        if self.is_postgres:
            parsed = urlparse(self.url)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": parsed.path.lstrip("/") or "claimdesk",
                "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(parsed.port or 5432),
                "POSTGRES_USER": unquote(parsed.username or ""),
                "POSTGRES_PASSWORD": unquote(parsed.password or ""),
                "POSTGRES_POOL_SIZE": "5",
                "POSTGRES_MAX_OVERFLOW": "10",
                "POSTGRES_LOCK_TIMEOUT": "10",
                "POSTGRES_CONNECT_TIMEOUT": str(POSTGRES_CONNECT_TIMEOUT),
            }
        assert self.sqlite_path is not None
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.sqlite_path),
            # Billers share one file; wait for a writer rather than fail at once.
            "SQLITE_LOCK_TIMEOUT": "30",
        }

    @property
    def shown(self) -> str:
        """The location as it may be printed: a PostgreSQL URL without its password."""
        parsed = urlparse(self.url)
        if not self.is_postgres or parsed.password is None:
            return self.url
        return parsed._replace(netloc=parsed.netloc.replace(
            f":{parsed.password}@", ":***@", 1)).geturl()

    def check_openable(self) -> None:
        """Refuse at once (LedgerUnavailableError) what opening would refuse only after a
        long wait, or with a bare driver error: a directory or a file that is not a SQLite
        database; a PostgreSQL server that refuses or does not answer within the timeout."""
        if self.is_postgres:
            self._probe_postgres()
            return
        assert self.sqlite_path is not None
        reason = _sqlite_problem(self.sqlite_path)
        if reason:
            raise LedgerUnavailableError(f"cannot open the ledger at {self.url}: {reason}")

    def _probe_postgres(self) -> None:
        # One plain connection first: the pool retries a refused connection until its
        # timeout and then reports only that it timed out, not why.
        import psycopg  # noqa: PLC0415 - only for a PostgreSQL ledger

        env = self._backend_env()
        try:
            psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                            port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                            password=env["POSTGRES_PASSWORD"],
                            connect_timeout=POSTGRES_CONNECT_TIMEOUT).close()
        except psycopg.Error as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise LedgerUnavailableError(
                f"cannot open the ledger at {self.shown}: {reason}") from None


def _sqlite_problem(path: Path) -> str:
    """Why SQLite could not open `path` as a ledger, or "" when it should (a new ledger's
    file is created, empty, to find out)."""
    parent = path.parent
    if path.is_dir():
        return "it is a directory, not a ledger file"
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if path.exists():
        if not os.access(path, os.R_OK):
            return "the file is not readable"
        try:
            with path.open("rb") as file:
                header = file.read(len(SQLITE_HEADER))
        except OSError as error:
            return f"cannot read the file: {error.strerror or error}"
        if header and header != SQLITE_HEADER:
            return "the file is not a SQLite database"
        sidecars = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
        if not os.access(parent, os.W_OK | os.X_OK) and not all(p.exists() for p in sidecars):
            return (f"the directory {parent} is not writable (SQLite keeps {path.name}-wal "
                    "and -shm beside the ledger)")
        return ""
    try:
        # What SQLite does first (an empty file is an empty database), told plainly here:
        # when SQLite fails to, eventsourcing's pool waits out its timeout and says only that.
        path.touch()
    except OSError as error:
        return f"cannot create the file: {error.strerror or error}"
    return ""


@contextmanager
def opening(store: Store) -> Iterator[None]:
    """Check `store` (`Store.check_openable`), then turn a storage error raised while the
    ledger is opened into LedgerUnavailableError."""
    store.check_openable()
    try:
        yield
    except (PersistenceError, OSError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise LedgerUnavailableError(
            f"cannot open the ledger at {store.shown}: {reason}") from None


def resolve_store(db: str | None) -> Store:
    """`--db`, else $CLAIMDESK_DB, else the default file; a postgresql:// URL selects PostgreSQL."""
    value = db or os.environ.get(DB_ENV_VAR) or str(default_db_path())
    if value.startswith(("postgresql://", "postgres://")):
        return Store(url=value, is_postgres=True, sqlite_path=None)
    if value.startswith("sqlite:///"):
        value = value[len("sqlite:///"):]
    path = Path(value).expanduser()
    # The default directory may not exist yet; a path under a file is told on opening.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
    return Store(url=str(path), is_postgres=False, sqlite_path=path)


def new_cipher_key() -> str:
    """A fresh AES-256 key for CLAIMDESK_CIPHER_KEY."""
    from eventsourcing.cryptography import AESCipher  # noqa: PLC0415

    return AESCipher.create_key(num_bytes=32)


def events_table_of(recorder: Any) -> tuple[Literal["sqlite", "postgres"], Any, str] | None:
    """(engine, datastore, table) of an eventsourcing SQLite or PostgreSQL recorder, for
    reads the recorder's API does one row or one stream at a time; None for any other
    recorder (in-memory, a newer eventsourcing), which callers then ask through its API.
    """
    datastore = getattr(recorder, "datastore", None)
    table = getattr(recorder, "events_table_name", None)
    if not isinstance(table, str):
        return None
    # By module, so that psycopg is imported only where a PostgreSQL ledger already did.
    sqlite, postgres = (sys.modules.get(f"eventsourcing.{m}") for m in ("sqlite", "postgres"))
    if sqlite and isinstance(datastore, sqlite.SQLiteDatastore):
        return "sqlite", datastore, table
    if postgres and isinstance(datastore, postgres.PostgresDatastore):
        return "postgres", datastore, table
    return None
