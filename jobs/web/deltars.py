"""Delta tables through delta-rs (``deltalake``) and Arrow: no JVM, never the warehouse lock.

- :class:`TableCache` holds one table's latest snapshot as an Arrow table, read again only
  when its Delta version changes (the version is looked up at most every ``ttl`` seconds).
  A running ``hedui run`` commits new versions beside it; a reader always sees a whole one.
- :func:`append` adds rows to a table the page owns (``meta/users``, ``meta/audit``),
  creating it on first use: plain Parquet files and JSON commits of reader version 1 /
  writer version 2, no deletion vectors, so Spark reads them as it reads every table.
- :class:`VersionReader` lists a table's commits and reads a few columns of an older
  version (time travel), for the warnings' history.

The interpreter may abort as it exits after delta-rs was used:
:func:`jobs.spark.workarounds.exit_skipping_native_teardown`.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger(__name__)

_WRITE_LOCK = threading.Lock()   # one writer at a time in this process (the server's threads)


def is_table(path: str) -> bool:
    from deltalake import DeltaTable

    try:
        return DeltaTable.is_deltatable(path)
    except Exception:   # a path delta-rs cannot even look at: no table
        return False


class TableCache:
    """The latest snapshot of the Delta table at ``path`` as an Arrow table (None while
    the table does not exist), cached per version."""

    def __init__(self, path: str, ttl: float = 1.0, columns: list[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path, self.ttl, self.columns, self.clock = path, ttl, columns, clock
        self._lock = threading.Lock()
        self._table = None            # deltalake.DeltaTable
        self._checked = float("-inf")
        self._version: int | None = None
        self._data: pa.Table | None = None

    def snapshot(self) -> tuple[int | None, pa.Table | None]:
        """(version, rows) of the latest version, at most ``ttl`` seconds old."""
        with self._lock:
            now = self.clock()
            if now - self._checked >= self.ttl:
                self._refresh()
                self._checked = now
            return self._version, self._data

    def invalidate(self) -> None:
        """Look the version up again at the next :meth:`snapshot` (after our own write)."""
        with self._lock:
            self._checked = float("-inf")

    def _refresh(self) -> None:
        from deltalake import DeltaTable

        if self._table is None:
            if not is_table(self.path):
                return
            self._table = DeltaTable(self.path)
        else:
            self._table.update_incremental()
        version = self._table.version()
        if version != self._version:
            started = time.perf_counter()
            self._data = self._table.to_pyarrow_dataset().to_table(columns=self.columns)
            self._version = version
            log.debug("read %s version %d (%d rows) in %.3fs", self.path, version,
                      self._data.num_rows, time.perf_counter() - started)


def append(path: str, rows: pa.Table) -> None:
    """Append ``rows`` to the Delta table at ``path`` (created on first use)."""
    from deltalake import write_deltalake

    with _WRITE_LOCK:
        write_deltalake(path, rows, mode="append")


class VersionReader:
    """Older versions of one table (time travel), for the warnings' history."""

    def __init__(self, path: str) -> None:
        self.path = path

    def history(self, limit: int) -> list[dict]:
        """The table's last ``limit`` commits, oldest first: version, timestamp (ms), operation."""
        from deltalake import DeltaTable

        if not is_table(self.path):
            return []
        entries = DeltaTable(self.path).history(limit)
        return sorted(({"version": e.get("version"), "timestamp": e.get("timestamp"),
                        "operation": e.get("operation")} for e in entries if e.get("version") is not None),
                      key=lambda e: e["version"])

    def columns_at_version(self, version: int, columns: list[str]) -> pa.Table | None:
        """Some columns of a whole version (None when it cannot be read any more, e.g.
        after a VACUUM). Not kept: the caller folds it in once."""
        from deltalake import DeltaTable

        try:
            return DeltaTable(self.path, version=version).to_pyarrow_dataset().to_table(columns=columns)
        except Exception as exc:   # vacuumed files, a log entry cleaned up
            log.debug("version %d of %s not readable: %s", version, self.path, type(exc).__name__)
            return None
