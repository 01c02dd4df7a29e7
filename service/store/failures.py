"""What a failed write says about the store: one place that reads the database's error codes.

Three questions are asked of an error. Is the connection that raised it spoiled (opened
read-only while the file was, on a file that is gone or broken, or a PostgreSQL session that
began read-only), so that it must be replaced rather than used again? Is it contention
(a lock held by another writer, a statement timeout), which says nothing about whether the
store can write? Or does it mean the store cannot store anything right now, so that
readiness must say so until a write succeeds?
"""

from __future__ import annotations

import sqlalchemy.exc

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_SPOILED_CONNECTION_CODES = frozenset(
    {
        8,  # SQLITE_READONLY: opened read-only (the file was), or the file moved under it
        10,  # SQLITE_IOERR
        11,  # SQLITE_CORRUPT
        14,  # SQLITE_CANTOPEN
        26,  # SQLITE_NOTADB
    }
)
"""SQLite primary result codes after which the connection's file handle is not to be trusted:
a connection opened read-only stays read-only, however writable the file has become since."""

POSTGRES_SPOILED_SESSION_STATES = frozenset({"25006"})
"""read_only_sql_transaction: a session started while the database was read-only (a standby,
``default_transaction_read_only``) stays read-only after the database is writable again."""

POSTGRES_CONTENTION_STATES = frozenset(
    {
        "57014",  # query_canceled: the statement timeout, behind another transaction's lock
        "55P03",  # lock_not_available
        "40P01",  # deadlock_detected
        "40001",  # serialization_failure
    }
)

_DATABASE_FAILURES = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.InternalError,
)


class StoreUnavailable(Exception):
    """Nothing can be stored right now, for a reason the message gives (the SQLite file is
    gone, replaced, or cannot be opened); nothing of the write was acknowledged."""


def _driver_error(error: BaseException) -> BaseException:
    """The driver's own exception: SQLAlchemy's wraps it as ``orig``."""
    orig = getattr(error, "orig", None)
    return orig if isinstance(orig, BaseException) else error


def _sqlite_code(error: BaseException) -> int | None:
    code = getattr(_driver_error(error), "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _postgres_state(error: BaseException) -> str | None:
    state = getattr(_driver_error(error), "sqlstate", None)
    return state if isinstance(state, str) else None


def spoils_connection(error: BaseException) -> bool:
    """True if the connection that raised ``error`` must be replaced, not used again."""
    code = _sqlite_code(error)
    if code is not None:
        return code in SQLITE_SPOILED_CONNECTION_CODES
    return _postgres_state(error) in POSTGRES_SPOILED_SESSION_STATES


def is_contention(error: BaseException) -> bool:
    """True if ``error`` came from waiting on others (a lock, a timeout), not from the store."""
    if isinstance(error, sqlalchemy.exc.TimeoutError):  # no pooled connection free in time
        return True
    code = _sqlite_code(error)
    if code is not None:
        return code in (SQLITE_BUSY, SQLITE_LOCKED)
    return _postgres_state(error) in POSTGRES_CONTENTION_STATES


def is_store_failure(error: BaseException) -> bool:
    """True if ``error`` means the store cannot write now (not one bad event, not contention)."""
    if isinstance(error, StoreUnavailable):
        return True
    if isinstance(error, _DATABASE_FAILURES):
        return not is_contention(error)
    return isinstance(error, sqlalchemy.exc.DatabaseError) and spoils_connection(error)


def failure_reason(error: BaseException) -> str:
    """The database's own words for ``error``, on one line and short (no statement, no values)."""
    cause = _driver_error(error)
    lines = str(cause).strip().splitlines()
    text = lines[0] if lines else type(cause).__name__
    return text if len(text) <= 500 else text[:499] + "…"
