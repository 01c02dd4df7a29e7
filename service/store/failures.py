"""What a failed write says about the store.

Three questions are asked of an error. Is the connection that raised it spoiled (opened
read-only while the file was, on a file that is gone or broken, or a PostgreSQL session that
began read-only), so that it must be replaced rather than used again? Is it contention
(a lock held by another writer, a statement timeout), which says nothing about whether the
store can write? Each database answers these two by its own error codes (``Faults``: in
``sqlite.py`` and ``postgres.py``). Or, the third, does it mean the store cannot store
anything right now, so that readiness must say so until a write succeeds?
"""

from __future__ import annotations

import sqlalchemy.exc

from at_voice_kit.service.store.database import Faults

_DATABASE_FAILURES = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.InternalError,
)


class StoreUnavailable(Exception):
    """Nothing can be stored right now, for a reason the message gives (the SQLite file is
    gone, replaced, or cannot be opened); nothing of the write was acknowledged."""


def driver_error(error: BaseException) -> BaseException:
    """The driver's own exception: SQLAlchemy's wraps it as ``orig``."""
    orig = getattr(error, "orig", None)
    return orig if isinstance(orig, BaseException) else error


def is_store_failure(error: BaseException, faults: Faults) -> bool:
    """True if ``error`` means the store cannot write now (not one bad event, not contention),
    read with the database's own ``faults``."""
    if isinstance(error, StoreUnavailable):
        return True
    if isinstance(error, _DATABASE_FAILURES):
        return not faults.is_contention(error)
    return isinstance(error, sqlalchemy.exc.DatabaseError) and faults.spoils_connection(error)


def failure_reason(error: BaseException) -> str:
    """The database's own words for ``error``, on one line and short (no statement, no values)."""
    cause = driver_error(error)
    lines = str(cause).strip().splitlines()
    text = lines[0] if lines else type(cause).__name__
    return text if len(text) <= 500 else text[:499] + "…"
