"""PostgreSQL helpers for tests: skip without a server, create and drop throwaway databases."""

from __future__ import annotations

import os
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

PG_URL_ENV = "CLAIMDESK_TEST_PG_URL"
DEFAULT_OWNER = "claimdesk"


def pg_url_or_skip() -> str:
    """Return the test server URL, or skip the calling test when none is configured."""
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(
            "PostgreSQL not available: set CLAIMDESK_TEST_PG_URL "
            "(the .ci/run script starts a throwaway cluster)"
        )
    return url


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def fresh_pg_database(url: str) -> str:
    """Create a uniquely named, empty database on url's server and return its URL."""
    name = f"claimdesk_{uuid.uuid4().hex[:8]}"
    owner = urlsplit(url).username or DEFAULT_OWNER
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )
    return _with_database(url, name)


def drop_pg_database(url: str, attempts: int = 20) -> None:
    """Drop the database named in url, closing any connections still open to it.

    An autovacuum worker still in it refuses the drop for a moment: try again, backing off.
    """
    name = _database_name(url)
    if not name:
        raise ValueError(f"no database named in {url!r}")
    for attempt in range(attempts):
        try:
            with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)))
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == attempts - 1:
                raise
            time.sleep(0.25 * (attempt + 1))
