"""The warehouse lock: one command at a time, stale locks taken over, nothing left behind."""
from __future__ import annotations

import json
import os
import socket
import time

import pytest

from jobs import fs
from jobs.errors import WarehouseBusy
from jobs.lock import LockSettings, WarehouseLock, _process_start, held, holding, lock_path

FAST = LockSettings(heartbeat_seconds=0.2, stale_seconds=60)


def write_holder(files, warehouse, **holder):
    files.create_new(lock_path(warehouse), json.dumps({"run_id": "other-run", "command": "run", **holder}))


@pytest.fixture(params=["local", "hadoop"])
def files(request, spark):
    return fs.LocalFiles() if request.param == "local" else fs.HadoopFiles(spark)


def test_taken_released_and_nothing_left_behind(files, tmp_path):
    wh = str(tmp_path / "wh")
    lock = WarehouseLock(wh, "run", "run-1", files, FAST).acquire()
    holder = json.loads(files.read_text(lock_path(wh)))
    assert (holder["run_id"], holder["command"], holder["pid"]) == ("run-1", "run", os.getpid())
    lock.release()
    assert not os.path.exists(wh)          # the lock made the folder, and removes it again


def test_a_live_holder_refuses_with_its_run_id(files, tmp_path):
    wh = str(tmp_path / "wh")
    # this very process, under another run id: alive
    write_holder(files, wh, host=socket.gethostname(), pid=os.getpid(), pid_start=_process_start(os.getpid()),
                 started_at="2026-10-15T08:00:00")
    with pytest.raises(WarehouseBusy, match="other-run.*pid") as err:
        WarehouseLock(wh, "run", "run-2", files, FAST).acquire()
    assert "in use" in str(err.value)
    assert json.loads(files.read_text(lock_path(wh)))["run_id"] == "other-run"   # untouched


def test_a_dead_holder_is_taken_over(files, tmp_path):
    wh = str(tmp_path / "wh")
    dead = 2 ** 22 + 17                    # above the kernel's pid range: no such process
    write_holder(files, wh, host=socket.gethostname(), pid=dead, pid_start="1")
    lock = WarehouseLock(wh, "run", "run-3", files, FAST).acquire()
    assert lock.taken_over["run_id"] == "other-run"
    assert json.loads(files.read_text(lock_path(wh)))["run_id"] == "run-3"
    lock.release()


def test_a_reused_pid_is_not_the_holder(files, tmp_path):
    wh = str(tmp_path / "wh")
    # our pid, but another start time: the holder died and the pid went to another program
    write_holder(files, wh, host=socket.gethostname(), pid=os.getpid(), pid_start="1")
    WarehouseLock(wh, "run", "run-4", files, FAST).acquire().release()


def test_another_host_is_judged_by_its_heartbeat(files, tmp_path):
    wh = str(tmp_path / "wh")
    write_holder(files, wh, host="driver-7.cluster", pid=1)
    with pytest.raises(WarehouseBusy, match="driver-7.cluster"):
        WarehouseLock(wh, "run", "run-5", files, FAST).acquire()
    old = time.time() - 3600
    os.utime(fs.local_path(lock_path(wh)), (old, old))
    lock = WarehouseLock(wh, "run", "run-5", files, FAST).acquire()
    assert lock.taken_over["host"] == "driver-7.cluster"
    lock.release()


def test_the_holder_keeps_its_heartbeat(files, tmp_path):
    wh = str(tmp_path / "wh")
    lock = WarehouseLock(wh, "run", "run-6", files, FAST).acquire()
    try:
        old = time.time() - 3600
        os.utime(fs.local_path(lock_path(wh)), (old, old))
        deadline = time.time() + 10
        while (files.modified(lock_path(wh)) or 0) < time.time() - 60 and time.time() < deadline:
            time.sleep(0.1)
        assert files.modified(lock_path(wh)) > time.time() - 60
    finally:
        lock.release()


def test_held_is_reentrant_in_one_process(tmp_path):
    wh = str(tmp_path / "wh")
    files = fs.LocalFiles()
    with held(wh, "run", "outer", files, FAST) as outer:
        with held(wh, "run", "inner", files, FAST) as inner:
            assert inner is outer and holding(wh) is outer
        assert os.path.exists(lock_path(wh))       # the inner block did not release it
    assert holding(wh) is None and not os.path.exists(lock_path(wh))


def test_an_existing_warehouse_keeps_its_folder(tmp_path):
    wh = tmp_path / "wh"
    (wh / "gold").mkdir(parents=True)
    WarehouseLock(str(wh), "export", "e-1", fs.LocalFiles(), FAST).acquire().release()
    assert sorted(p.name for p in wh.iterdir()) == ["gold"]
