"""One command at a time on a warehouse: a lock file, ``<warehouse>/_hedui/lock``.

``hedui run``, ``export`` and ``report`` hold it while they work; a second command on the
same warehouse is refused at once (:class:`~jobs.errors.WarehouseBusy`, exit status 2)
with the holder's run id, command, host, process and start time.

- **Taking it** is one atomic create-if-absent of the lock file (``O_EXCL`` locally,
  ``create(overwrite=false)`` through Hadoop). For a local warehouse the command line
  takes it before Spark starts; for another URI as soon as Spark is up, before anything
  is written. Taking it twice in one process is a no-op (the CLI takes it, the pipeline
  asks again).
- **Liveness**: while held, a daemon thread touches the file every ``heartbeat_seconds``.
  A lock is stale, and taken over, when its holder's process is gone (same host: the pid
  no longer runs, or runs another program, told by its start time) or when its heartbeat
  is older than ``stale_seconds`` (another host, e.g. a cluster driver that died). So a
  ``kill -9`` never leaves the warehouse locked for good.
- **Release** deletes the file if it is still this holder's; a warehouse folder the lock
  itself created and nothing else wrote to is removed again (a refused command writes
  nothing).

What holds on HDFS and S3 is in docs/CLUSTER.md: on S3 the create is not atomic, and
Delta's own commit protocol is the last line of defence.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

from jobs import fs
from jobs.errors import WarehouseBusy

log = logging.getLogger(__name__)

LOCK_FOLDER = "_hedui"
LOCK_FILE = "lock"


@dataclass(frozen=True)
class LockSettings:
    heartbeat_seconds: float = 30.0
    stale_seconds: float = 600.0


def lock_path(warehouse: str) -> str:
    return "/".join([warehouse.rstrip("/"), LOCK_FOLDER, LOCK_FILE])


def _process_start(pid: int) -> str | None:
    """The start time of a process (clock ticks since boot, /proc), None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


def is_alive(holder: dict) -> bool | None:
    """True/False when the holder ran on this host (its process runs or not), None when
    it ran elsewhere (only the heartbeat can tell)."""
    if holder.get("host") != socket.gethostname():
        return None
    try:
        pid = int(holder.get("pid"))
    except (TypeError, ValueError):
        return False
    start = _process_start(pid)
    return start is not None and (holder.get("pid_start") in (None, start))


def describe(holder: dict) -> str:
    return (f"`hedui {holder.get('command', '?')}` {holder.get('run_id', '?')} "
            f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since {holder.get('started_at', '?')})")


@dataclass
class WarehouseLock:
    warehouse: str
    command: str
    run_id: str
    files: fs.LocalFiles | fs.HadoopFiles
    settings: LockSettings = field(default_factory=LockSettings)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    taken_over: dict | None = None          # the stale holder this lock replaced
    _created_folder: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _beat: threading.Thread | None = None

    @property
    def path(self) -> str:
        return lock_path(self.warehouse)

    def holder(self) -> dict:
        return {"run_id": self.run_id, "command": self.command, "host": socket.gethostname(),
                "pid": os.getpid(), "pid_start": _process_start(os.getpid()),
                "started_at": dt.datetime.now().replace(microsecond=0).isoformat(), "token": self.token}

    def acquire(self) -> "WarehouseLock":
        self._created_folder = self.files.kind(self.warehouse) == fs.MISSING
        for _ in range(3):   # a stale lock removed by someone else in between: try again
            if self.files.create_new(self.path, json.dumps(self.holder())):
                self._start_heartbeat()
                log.debug("warehouse lock taken: %s", self.path)
                return self
            current = self._read()
            if current is None:
                continue
            if not self._is_stale(current):
                raise WarehouseBusy(f"the warehouse {self.warehouse} is in use by {describe(current)}: "
                                    "try again when it has finished")
            log.warning("taking over a stale warehouse lock of %s", describe(current))
            self.taken_over = current
            self.files.delete(self.path)
        raise WarehouseBusy(f"could not take the warehouse lock {self.path}: other commands keep taking it")

    def _read(self) -> dict | None:
        text = self.files.read_text(self.path)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return {"run_id": "?", "command": "?", "unreadable": True}

    def _is_stale(self, holder: dict) -> bool:
        alive = is_alive(holder)
        if alive is not None:
            return not alive
        modified = self.files.modified(self.path)
        return modified is None or time.time() - modified > self.settings.stale_seconds

    def _start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(self.settings.heartbeat_seconds):
                try:
                    self.files.touch(self.path)
                except Exception:  # a heartbeat missed is retried; the run goes on
                    log.debug("lock heartbeat failed", exc_info=True)
        self._beat = threading.Thread(target=beat, name="hedui-lock-heartbeat", daemon=True)
        self._beat.start()

    def release(self) -> None:
        self._stop.set()
        try:
            current = self._read()
            if current is not None and current.get("token") == self.token:
                self.files.delete(self.path)
            lock_folder = "/".join([self.warehouse.rstrip("/"), LOCK_FOLDER])
            self.files.remove_empty_folders(lock_folder, lock_folder if not self._created_folder else self.warehouse)
        except Exception:  # never hide the command's own outcome
            log.warning("could not release the warehouse lock %s", self.path, exc_info=True)


# Locks this process holds, by warehouse: a second request is a no-op.
_HELD: dict[str, WarehouseLock] = {}
_HELD_GUARD = threading.Lock()


class held:
    """``with held(warehouse, command, run_id, files):`` the lock for the block (re-entrant
    in one process: an inner request for a warehouse already held yields the outer lock)."""

    def __init__(self, warehouse: str, command: str, run_id: str, files, settings: LockSettings | None = None):
        self.key = warehouse.rstrip("/")
        self.args = (warehouse, command, run_id, files, settings or LockSettings())
        self.lock: WarehouseLock | None = None
        self.owner = False

    def __enter__(self) -> WarehouseLock:
        with _HELD_GUARD:
            if self.key in _HELD:
                self.lock = _HELD[self.key]
                return self.lock
            warehouse, command, run_id, files, settings = self.args
            self.lock = WarehouseLock(warehouse, command, run_id, files, settings).acquire()
            _HELD[self.key] = self.lock
            self.owner = True
            return self.lock

    def __exit__(self, *exc) -> None:
        if not self.owner:
            return
        with _HELD_GUARD:
            _HELD.pop(self.key, None)
        self.lock.release()


def holding(warehouse: str) -> WarehouseLock | None:
    """The lock this process holds on ``warehouse``, if any."""
    return _HELD.get(warehouse.rstrip("/"))
