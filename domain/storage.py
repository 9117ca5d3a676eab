"""Where the ledger lives: a SQLite file by default or a PostgreSQL URL, as eventsourcing env."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

DB_ENV_VAR = "CLAIMDESK_DB"
# A base64 AES key (`claimdesk keygen`): event payloads are then encrypted at rest.
KEY_ENV_VAR = "CLAIMDESK_CIPHER_KEY"
COMPRESS_ENV_VAR = "CLAIMDESK_COMPRESS"


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
            }
        assert self.sqlite_path is not None
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.sqlite_path),
            # Billers share one file; wait for a writer rather than fail at once.
            "SQLITE_LOCK_TIMEOUT": "30",
        }


def resolve_store(db: str | None) -> Store:
    """`--db`, else $CLAIMDESK_DB, else the default file; a postgresql:// URL selects PostgreSQL."""
    value = db or os.environ.get(DB_ENV_VAR) or str(default_db_path())
    if value.startswith(("postgresql://", "postgres://")):
        return Store(url=value, is_postgres=True, sqlite_path=None)
    if value.startswith("sqlite:///"):
        value = value[len("sqlite:///"):]
    path = Path(value).expanduser()
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
