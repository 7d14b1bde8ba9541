"""On a real Spark standalone cluster, through scripts/submit.sh, hedui gives the same
results as in local mode.

A master and two workers (1 core, 1500m each) run on 127.0.0.1 from the pip-installed
Spark (``standalone_cluster``, tests/integration/conftest.py). `run` is submitted with
``scripts/submit.sh --master spark://... run`` (``--env cluster`` added by the script) over
the first case of the conformance corpus (17.6 k rows in every form the contract allows:
GB18030, quoted line breaks, gzip, parquet, header-only files, rows to quarantine): the
jobs package and conf/ travel in the --py-files zip, Delta comes with --jars. Its warehouse
is compared with the shared local-mode run of the same case (tests/conftest.py,
``conformance_run``), done in the test process: the warnings must be equal row for row in
every column but run_id (warning_id is a keyed hash, so equal too), and so must every
silver table (but the run's own ``_run_id``/``_ingested_at``), the quarantine and the
ingest log. (Issue 31: the corpus, 13 times smaller than the generated landing
zone, keeps the comparison at a fraction of the time.)
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from jobs import tables
from tests.compare import rows

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SUBMIT = ROOT / "scripts" / "submit.sh"
SUBMIT_TIMEOUT = 900     # seconds; submit.sh stops spark-submit after that
# The small-data settings of the local `spark` fixture (tests/conftest.py), for the cluster
# run too: results do not depend on them, run time does.
OVERLAY = """\
spark:
  conf:
    spark.sql.shuffle.partitions: "2"
    spark.default.parallelism: "2"
    spark.sql.adaptive.enabled: "false"
    spark.databricks.delta.snapshotPartitions: "1"
"""


def submit(cluster, *args: str) -> subprocess.CompletedProcess:
    """scripts/submit.sh against the test cluster; output kept for failure messages."""
    cmd = ["bash", str(SUBMIT), "--master", cluster.master_url, "--timeout", str(SUBMIT_TIMEOUT),
           "--zip", str(cluster.base / "hedui.zip"), "--driver-memory", "1g",
           "--executor-memory", "1g", "--total-executor-cores", "2", *args]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=cluster.env, cwd=cluster.base, capture_output=True, text=True,
                          timeout=SUBMIT_TIMEOUT + 120)
    print(f"submit.sh {args[0]}: exit {proc.returncode} in {time.monotonic() - started:.0f}s")
    return proc


def output(proc: subprocess.CompletedProcess) -> str:
    return f"--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}"


def silver_sources(warehouse: Path) -> list[str]:
    folder = warehouse / "silver"
    return sorted(p.name for p in folder.iterdir() if (p / "_delta_log").is_dir()) if folder.is_dir() else []


CASE = "c1"


def test_cluster_run_equals_local_mode(standalone_cluster, spark, conformance_run, tmp_path):
    cluster = standalone_cluster
    wh_cluster = tmp_path / "wh_cluster"
    local = conformance_run(CASE)
    landing, wh_local, local_result = local.landing, local.warehouse, local.result
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(OVERLAY, encoding="utf-8")

    proc = submit(cluster, "run", "--landing", str(landing), "--warehouse", str(wh_cluster),
                  "--as-of", local.check_date.isoformat(), "--run-id", "cluster-run", "--conf", str(overlay))
    assert proc.returncode == local_result.exit_code, output(proc)

    # the work was done by the cluster's executors, not by a local master
    apps = cluster.status().get("completedapps", [])
    assert len(apps) == 1, apps
    assert all(a["state"] == "FINISHED" and a["cores"] >= 1 for a in apps), apps
    executor_dirs = [p for w in cluster.base.glob("worker*") for p in w.glob("app-*/*") if p.is_dir()]
    assert len(executor_dirs) >= 2, executor_dirs   # both workers ran executors

    local_warnings = rows(spark, tables.table_path(str(wh_local), *tables.WARNINGS), ("run_id",))
    assert len(local_warnings) > 0
    assert rows(spark, tables.table_path(str(wh_cluster), *tables.WARNINGS), ("run_id",)) == local_warnings

    sources = silver_sources(wh_local)
    assert sources and silver_sources(wh_cluster) == sources
    for source in sources:
        assert (rows(spark, tables.silver_path(str(wh_cluster), source), ("_run_id", "_ingested_at"))
                == rows(spark, tables.silver_path(str(wh_local), source), ("_run_id", "_ingested_at"))), source
    for table, own in ((tables.QUARANTINE, ("run_id", "ingested_at")),
                       (tables.INGEST_LOG, ("run_id", "logged_at"))):
        assert (rows(spark, tables.table_path(str(wh_cluster), *table), own)
                == rows(spark, tables.table_path(str(wh_local), *table), own)), table
