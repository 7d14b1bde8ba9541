"""Delta tables through delta-rs (``deltalake``) and Arrow: no JVM, never the warehouse lock.

- :class:`TableCache` holds one table's latest snapshot as an Arrow table, read again only
  when its Delta version changes (the version is looked up at most every ``ttl`` seconds).
  A running ``hedui run`` commits new versions beside it; a reader always sees a whole one.
- :func:`append` adds rows to a table the page owns (``meta/users``, ``meta/audit``),
  creating it on first use: plain Parquet files and JSON commits of reader version 1 /
  writer version 2, no deletion vectors, so Spark reads them as it reads every table.
- :func:`rows_at_version` reads a few columns of the rows matching a value from one older
  version (time travel), for a warning's history.

The interpreter may abort as it exits after delta-rs was used:
:func:`jobs.spark.workarounds.exit_skipping_native_teardown`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
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
    """Rows of older versions of one table, for history pages: each version's file list
    is loaded once and kept (at most ``keep`` versions)."""

    def __init__(self, path: str, keep: int = 64) -> None:
        self.path, self.keep = path, keep
        self._lock = threading.Lock()
        self._datasets: OrderedDict[int, object] = OrderedDict()

    def history(self, limit: int) -> list[dict]:
        """The table's last ``limit`` commits, oldest first: version, timestamp (ms), operation."""
        from deltalake import DeltaTable

        if not is_table(self.path):
            return []
        entries = DeltaTable(self.path).history(limit)
        return sorted(({"version": e.get("version"), "timestamp": e.get("timestamp"),
                        "operation": e.get("operation")} for e in entries if e.get("version") is not None),
                      key=lambda e: e["version"])

    def _dataset(self, version: int):
        from deltalake import DeltaTable

        with self._lock:
            if version in self._datasets:
                self._datasets.move_to_end(version)
                return self._datasets[version]
        dataset = DeltaTable(self.path, version=version).to_pyarrow_dataset()
        with self._lock:
            self._datasets[version] = dataset
            while len(self._datasets) > self.keep:
                self._datasets.popitem(last=False)
        return dataset

    def rows_at_version(self, version: int, column: str, value: str, columns: list[str]) -> list[dict] | None:
        """The rows whose ``column`` equals ``value`` in ``version`` (None when that version
        cannot be read any more, e.g. after a VACUUM)."""
        try:
            dataset = self._dataset(version)
            return dataset.to_table(filter=pc.field(column) == value, columns=columns).to_pylist()
        except Exception as exc:   # vacuumed files, a log entry cleaned up
            log.debug("version %d of %s not readable: %s", version, self.path, type(exc).__name__)
            return None
