"""Two commands on one warehouse, and a `kill -9` in the middle of the ingest.

A real `hedui run` (a subprocess with its own JVM) loads the first case of the conformance
corpus (34 files of every form the contract allows; tests/conftest.py). While it
is in the middle of its ingest (some silver tables written, the ingest log not yet), a
second `hedui run` on the same warehouse is refused at once with exit status 2, naming
the first. The first is then killed with SIGKILL, JVM included. The next run reports the
killed one, redoes its work, and leaves every table equal to the single uninterrupted run
of the shared fixture (the run's own id and times aside); the killed run's RUNNING row
is marked INTERRUPTED.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs import tables
from jobs.pipeline import run
from tests.compare import rows, table_folders

pytestmark = pytest.mark.slow

VOLATILE = {"_run_id", "_ingested_at", "run_id", "ingested_at", "logged_at"}


CASE = "c1"


def hedui_run(landing: Path, wh: Path, check_date, run_id: str) -> list[str]:
    return [sys.executable, "-m", "jobs.cli", "run", "--landing", str(landing), "--warehouse", str(wh),
            "--as-of", check_date.isoformat(), "--run-id", run_id]


def test_second_run_refused_then_killed_run_redone(spark, cfg, conformance_run, tmp_path):
    reference = conformance_run(CASE)
    landing, check_date = reference.landing, reference.check_date
    wh = tmp_path / "wh"
    proc = subprocess.Popen(hedui_run(landing, wh, check_date, "killed-run"), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600
        while len(list((wh / "silver").glob("*/_delta_log/00000000000000000000.json"))) < 3:
            assert proc.poll() is None, f"the run ended before it was killed: {proc.stderr.read()[-3000:]}"
            assert time.monotonic() < deadline, "the run did not reach its ingest in 10 minutes"
            time.sleep(0.1)
        assert not (wh / "meta" / "ingest_log").exists(), "killed too late: the ingest had finished"

        second = subprocess.run(hedui_run(landing, wh, check_date, "second-run"), capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert "in use by `hedui run` killed-run" in second.stderr
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGKILL)     # the Python driver and its JVM
        proc.wait()

    result = run(spark, cfg, str(landing), str(wh), check_date, "rerun")
    assert result.exit_code == 0
    assert [r["run_id"] for r in result.interrupted_runs] == ["killed-run"]
    assert "killed-run" in result.summary

    assert table_folders(wh) == table_folders(reference.warehouse)
    differ = [t for t in table_folders(wh) if t != "meta/runs"
              and rows(spark, str(wh / t), VOLATILE) != rows(spark, str(reference.warehouse / t), VOLATILE)]
    assert not differ, f"tables that differ from the uninterrupted run's: {differ}"
    runs = {r.run_id: r.outcome for r in tables.read_delta(spark, str(wh / "meta" / "runs")).collect()}
    assert runs == {"killed-run": "INTERRUPTED", "rerun": "SUCCESS"}
    assert tables.read_delta(spark, str(wh / "meta" / "runs")).filter(F.col("finished_at").isNull()).count() == 1
