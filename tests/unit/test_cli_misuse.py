"""Misuse of the command line: exit status 2, one clear line, nothing written, Spark never
started (each command runs in a subprocess whose Java cannot start: had it tried, the
message would be another)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.lock import _process_start, lock_path

ROOT = Path(__file__).resolve().parents[2]


def hedui(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "JAVA_HOME": "/nonexistent-java", "PYSPARK_SUBMIT_ARGS": "--bogus"}
    return subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.is_dir(), p.stat().st_size if p.is_file() else 0, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def place(tmp_path):
    (tmp_path / "landing" / "deaths" / "2026-09-01").mkdir(parents=True)
    (tmp_path / "landing" / "deaths" / "2026-09-01" / "a.csv").write_text("report_id,person_id,death_date\n")
    (tmp_path / "a_file").write_text("not a folder\n")
    wh = tmp_path / "wh"
    (wh / "_hedui").mkdir(parents=True)
    (wh / "_hedui" / "latest_check_date").write_text("2026-10-15\n")
    return tmp_path


CASES = [
    (["run", "--landing", "missing", "--warehouse", "new_wh"], "--landing missing: no such folder"),
    (["run", "--landing", "a_file", "--warehouse", "new_wh"], "--landing a_file: is a file, not a folder"),
    (["run", "--landing", "landing", "--warehouse", "a_file"], "--warehouse a_file: is a file, not a folder"),
    (["run", "--landing", "landing", "--warehouse", "wh", "--as-of", "2026-10-01"],
     "check date 2026-10-01 is earlier than the latest check date already applied"),
    (["export", "--warehouse", "missing", "--out", "out"], "--warehouse missing: no such warehouse"),
    (["export", "--warehouse", "a_file", "--out", "out"], "--warehouse a_file: is a file, not a warehouse"),
    (["export", "--warehouse", "wh", "--out", "a_file"], "--out a_file: is a file, not a folder"),
    (["report", "--warehouse", "missing", "--out", "out"], "--warehouse missing: no such warehouse"),
    (["report", "--warehouse", "wh", "--out", "a_file"], "--out a_file: is a file, not a folder"),
    (["generate", "--out", "a_file"], "--out a_file: is a file, not a folder"),
    (["run", "--landing", "landing", "--warehouse", "wh", "--conf", "missing.yaml"],
     "configuration error: --conf file not found"),
]


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(a[:3]) for a, _ in CASES])
def test_misuse_exits_2_with_one_line_and_writes_nothing(place, args, message):
    before = snapshot(place)
    proc = hedui(*args, cwd=place)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("hedui: ") and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert snapshot(place) == before


def test_a_second_command_is_refused_while_the_warehouse_is_held(place):
    # this test process holds the warehouse, as a running `hedui run` would
    holder = {"run_id": "20261015T080000-abc123", "command": "run", "host": socket.gethostname(),
              "pid": os.getpid(), "pid_start": _process_start(os.getpid()), "started_at": "2026-10-15T08:00:00"}
    Path(lock_path(str(place / "wh"))).write_text(json.dumps(holder))
    before = snapshot(place)
    for args in (["run", "--landing", "landing", "--warehouse", "wh", "--as-of", "2026-10-15"],
                 ["export", "--warehouse", "wh", "--out", "out"], ["report", "--warehouse", "wh", "--out", "out"]):
        proc = hedui(*args, cwd=place)
        assert proc.returncode == 2, proc.stderr
        assert "in use by `hedui run` 20261015T080000-abc123" in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert snapshot(place) == before
