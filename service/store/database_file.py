"""The SQLite file under the store: which file each connection holds, and whether the file at
the configured path can take a write now, seen without writing.

A SQLite connection holds its file open. When the file is deleted, moved away or replaced
while the service runs, its connections go on writing into a file nobody will read again:
every event acknowledged after that is lost. So each connection records the file it opened
(device and inode); one whose file is no longer the one at the path is replaced at its next
checkout from the pool, and the store's writer checks its own before and after each commit
(``events.py``). The same goes for the write-ahead log beside it (``voice-events.db-wal``),
where a commit lands first: deleted alone, it stays open in every connection, commits go on
into a file nobody will read, and a crash loses them all. So each connection also records
the log it opened, and one whose log is no longer the one at the path is stale too.

SQLite opens a file it cannot write read-only, without a word, and the connection stays
read-only however writable the file becomes. Worse, while it is open, every connection the
same process opens to that file shares its read-only state (observed with SQLite 3, on a
file whose other users had gone: each later connection failed with "attempt to write a
readonly database" until the first one was closed, with all those opened beside it). So no
connection is opened while the file, its log or its shared-memory index is not writable:
the attempt fails (:class:`StoreUnavailable`, a 503) until the file is writable again.

After the start-up, connections open the file with ``mode=rw``: they never create it. A
database that vanished is not silently replaced by an empty one, which would hide the loss
and split the call history in two: the store is not ready until a database is back at the
path (restored by an operator), and then uses it.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
import weakref
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from at_voice_kit.service.store.failures import StoreUnavailable

FileIdentity = tuple[int, int]
"""(device, inode): the same while the file exists, whatever its name or content."""

OPENED_FILE = "avk_opened_file"
"""Connection info key: the :data:`FileIdentity` of the file the connection opened."""

OPENED_LOG = "avk_opened_log"
"""Connection info key: the :data:`FileIdentity` of the write-ahead log the connection opened
(``None`` when there was none: an empty database, whose first commit creates it)."""

FREE_SPACE_MARGIN_BYTES = 4 * 1024 * 1024
"""Below this much free space, a write may not commit: a batch of the largest size (128
events, about 8 pages of 4 KiB each) can need that much log."""

_FILES: weakref.WeakKeyDictionary[sa.Engine, DatabaseFile] = weakref.WeakKeyDictionary()


class DatabaseFile:
    """The SQLite database file of one engine, and the checks made on it."""

    def __init__(self, path: Path, *, opens_itself: bool) -> None:
        self.path = path
        self.log_path = Path(f"{path}-wal")
        self._opens_itself = opens_itself
        """False when the URL is a ``file:`` URI: its own mode then decides how it opens."""

    def identity(self) -> FileIdentity | None:
        """The identity of the file at the path now, or ``None`` if there is none."""
        return _identity_of(self.path)

    def gone(self) -> StoreUnavailable:
        """The error for a path that holds no file."""
        return StoreUnavailable(
            f"the database file {self.path} is gone (deleted or moved away while the service "
            "ran): nothing is stored until a database is back at that path"
        )

    def holds(self, info: dict[Any, Any], now: FileIdentity | None) -> bool:
        """True if the connection with ``info`` opened the file whose identity is ``now``,
        and the write-ahead log now at the path beside it."""
        return now is not None and info.get(OPENED_FILE) == now and self._holds_log(info)

    def _holds_log(self, info: dict[Any, Any]) -> bool:
        opened = info.get(OPENED_LOG)
        return opened is None or _identity_of(self.log_path) == opened

    def require(self, info: dict[Any, Any]) -> None:
        """Raise :class:`StoreUnavailable` unless the connection with ``info`` holds the
        file at the path: a commit it made would not be in the database."""
        now = self.identity()
        if now is None:
            raise self.gone()
        if info.get(OPENED_FILE) != now:
            raise StoreUnavailable(
                f"the database file {self.path} was replaced while the service wrote to it: "
                "nothing of that write is acknowledged; the next one goes to the new file"
            )
        if OPENED_LOG not in info or info[OPENED_LOG] is None:
            # Opened on an empty database (the first start), before it had a log: the log
            # its first commit created is the one it holds.
            info[OPENED_LOG] = _identity_of(self.log_path)
        elif not self._holds_log(info):
            raise self.log_gone()

    def log_gone(self) -> StoreUnavailable:
        """The error for a connection whose write-ahead log was deleted or replaced."""
        return StoreUnavailable(
            f"the write-ahead log {self.log_path} was deleted or replaced while the service "
            "wrote to it: nothing of that write is acknowledged; writes resume once every "
            "connection has let go of the deleted log"
        )

    def create(self) -> None:
        """Create an empty database file if there is none (at start-up, never after)."""
        if self.identity() is None:
            sqlite3.connect(self.path).close()

    def unwritable(self) -> str | None:
        """Why a connection opened now would be read-only (or could not open), if it would."""
        if self.identity() is None:
            return str(self.gone())
        for path in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            if path.exists() and not os.access(path, os.W_OK):
                return f"the database file {path} is read-only"
        return None

    def problem(self) -> str | None:
        """Why a write cannot commit now, as far as the file shows without writing to it."""
        unwritable = self.unwritable()
        if unwritable is not None:
            return unwritable
        try:
            status = os.statvfs(self.path.parent)
        except FileNotFoundError:
            return str(self.gone())
        free = (status.f_bfree if os.geteuid() == 0 else status.f_bavail) * status.f_frsize
        if free < FREE_SPACE_MARGIN_BYTES:
            return (
                f"{free} bytes free on the disk of {self.path}, under the "
                f"{FREE_SPACE_MARGIN_BYTES} bytes a write may need"
            )
        return None

    def watch(self, engine: sa.Engine) -> None:
        """Make ``engine`` open this file only when writable and without creating it,
        record what each connection opened, and replace stale connections at checkout."""

        @event.listens_for(engine, "do_connect")
        def _open_writable_without_creating(
            _dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]
        ) -> None:
            unwritable = self.unwritable()
            if unwritable is not None:
                raise StoreUnavailable(unwritable)
            if self._opens_itself and not cparams.get("uri"):
                cargs[0] = f"file:{urllib.parse.quote(str(self.path))}?mode=rw"
                cparams["uri"] = True

        @event.listens_for(engine, "connect")
        def _record_opened_file(dbapi_connection: Any, record: Any) -> None:
            unwritable = self.unwritable()
            if unwritable is not None:  # turned read-only while it was being opened
                dbapi_connection.close()
                raise StoreUnavailable(unwritable)
            record.info[OPENED_FILE] = self.identity()
            # Opened by now (the WAL journal mode set on connecting reads the database), but
            # for an empty one: ``require`` notes the log its first commit creates.
            record.info[OPENED_LOG] = _identity_of(self.log_path)

        @event.listens_for(engine, "checkout")
        def _replace_if_stale(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            now = self.identity()
            if now is None:
                raise self.gone()
            if not self.holds(record.info, now):
                raise sa.exc.DisconnectionError(f"{self.path} was replaced: reopening it")


def _identity_of(path: Path) -> FileIdentity | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


def database_file(engine: sa.Engine) -> DatabaseFile:
    """The file of a SQLite ``engine``, watched from the first call on."""
    found = _FILES.get(engine)
    if found is None:
        found = _FILES[engine] = _database_file_of(engine.url)
        found.watch(engine)
    return found


def _database_file_of(url: sa.URL) -> DatabaseFile:
    database = url.database or ""
    if url.query.get("uri") in ("true", "1") or database.startswith("file:"):
        path = urllib.parse.unquote(urllib.parse.urlsplit(database).path)
        return DatabaseFile(Path(path).expanduser().absolute(), opens_itself=False)
    return DatabaseFile(Path(database).expanduser().absolute(), opens_itself=True)
