"""On a real Spark standalone cluster, through scripts/submit.sh, hedui gives the same
results as in local mode.

A master and two workers (1 core, 1500m each) run on 127.0.0.1 from the pip-installed
Spark (``standalone_cluster``, tests/integration/conftest.py). `generate` and `run` are
submitted with ``scripts/submit.sh --master spark://... <command> --env cluster``: the
jobs package and conf/ travel in the --py-files zip, Delta comes with --jars. The same
landing zone is then run in local mode in the test process; the warnings tables must be
equal row for row in every column but run_id (warning_id is a keyed hash, so equal too),
and so must every silver table (but the run's own ``_run_id``/``_ingested_at``).
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import pytest

from jobs import tables

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SUBMIT = ROOT / "scripts" / "submit.sh"
AS_OF = dt.date(2026, 10, 15)
SCALE = 0.0005
SEED = 11
SUBMIT_TIMEOUT = 900     # seconds per command; submit.sh stops spark-submit after that
# The small-data settings of the local `spark` fixture (tests/conftest.py), for the cluster
# runs too: results do not depend on them, run time does.
OVERLAY = """\
spark:
  conf:
    spark.sql.shuffle.partitions: "2"
    spark.default.parallelism: "2"
    spark.sql.adaptive.enabled: "false"
    spark.databricks.delta.snapshotPartitions: "1"
"""
# Valid ID numbers (GB 11643-1999 check character), for the hand-written landing zone.
P1, P2, P3, P4 = "11010519491231002X", "610104196209276908", "440308199901101512", "500154199301135886"


def generate_available() -> bool:
    try:
        from jobs.generate import generate  # noqa: F401
    except ImportError:
        return False
    return True


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


def write_landing(landing: Path) -> None:
    """A small hand-written landing zone: four sources, UTF-8 and GB18030, Chinese headers,
    a dirty ID, a 15-digit ID, a later correcting batch; a deceased person still enrolled
    and paid (DECEASED)."""
    def put(rel: str, text: str, encoding: str = "utf-8") -> None:
        path = landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(encoding))

    put("household/2026-09-01/household.csv",
        "person_id,name,gender,birth_date,county_code,township_code,household_id,relation_to_head,status,status_date\n"
        f"{P1},张一,F,1949-12-31,532901,532901003,H1,HEAD,NORMAL,\n"
        f"{P2},李二,F,1962-09-27,532901,532901004,H2,HEAD,NORMAL,\n"
        f"{P3},赵三,M,1999-01-10,532923,,H3,CHILD,DECEASED,2026-06-20\n"
        f"{P4},王四,F,1993-01-13,532923,,H3,HEAD,NORMAL,\n")
    put("deaths/2026-09-01/deaths.csv",
        "report_id,person_id,name,death_date,cause_code\n"
        f"R1,{P1},张一,2026-08-01,I21\n"
        "R2,610104620927690,李二,2026/07/15,C34\n"
        "R3,BADID,无名,2026-07-01,\n")
    put("deaths/2026-10-01/deaths_gb.csv",
        "报告卡编号,身份证号,姓名,死亡日期\n"
        "R2,610104620927690,李二,20260716\n", encoding="gb18030")
    put("enrollment/2026-09-01/enrollment.csv",
        "enrollment_id,person_id,name,program,county_code,township_code,household_id,start_date,end_date,monthly_amount\n"
        f"E1,{P1},张一,DIBAO,532901,532901003,H1,2020-01-01,,500\n"
        f"E2,{P2},李二,TEKUN,532901,532901004,H2,2019-05-01,,800\n"
        f"E3,{P4},王四,DIBAO,532923,,H3,2021-03-01,,450\n")
    put("payments/2026-10-01/payments.csv",
        "payment_id,person_id,name,program,county_code,pay_month,amount,paid_date\n"
        + "".join(f"PA{m},{P1},张一,DIBAO,532901,2026-{m:02d},500.00,2026-{m:02d}-10\n" for m in range(1, 11))
        + "".join(f"PB{m},{P4},王四,DIBAO,532923,2026-{m:02d},450.00,2026-{m:02d}-10\n" for m in range(1, 11)))


def rows(spark, path: str, drop: tuple[str, ...]) -> list[tuple]:
    df = tables.read_delta(spark, path)
    df = df.drop(*[c for c in drop if c in df.columns])
    return sorted((tuple(r) for r in df.collect()), key=repr)


def silver_sources(warehouse: Path) -> list[str]:
    folder = warehouse / "silver"
    return sorted(p.name for p in folder.iterdir() if (p / "_delta_log").is_dir()) if folder.is_dir() else []


def test_cluster_run_equals_local_mode(standalone_cluster, spark, cfg, tmp_path):
    cluster = standalone_cluster
    landing, wh_cluster, wh_local = tmp_path / "landing", tmp_path / "wh_cluster", tmp_path / "wh_local"
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(OVERLAY, encoding="utf-8")
    common = ["--as-of", AS_OF.isoformat(), "--conf", str(overlay)]

    # 1. the landing zone: generated on the cluster when the generator is there
    generated = generate_available()
    if generated:
        proc = submit(cluster, "generate", "--out", str(landing), "--scale", str(SCALE),
                      "--seed", str(SEED), *common)
        assert proc.returncode == 0, output(proc)
        assert (landing / "_truth" / "expected.csv").is_file(), output(proc)
    else:
        write_landing(landing)

    # 2. run on the cluster
    proc = submit(cluster, "run", "--landing", str(landing), "--warehouse", str(wh_cluster),
                  "--run-id", "cluster-run", *common)
    assert proc.returncode in (0, 1), output(proc)

    # the work was done by the cluster's executors, not by a local master
    apps = cluster.status().get("completedapps", [])
    assert len(apps) == (2 if generated else 1), apps
    assert all(a["state"] == "FINISHED" and a["cores"] >= 1 for a in apps), apps
    executor_dirs = [p for w in cluster.base.glob("worker*") for p in w.glob("app-*/*") if p.is_dir()]
    assert len(executor_dirs) >= 2, executor_dirs   # both workers ran executors

    # 3. the same landing zone in local mode, in this process
    from jobs.pipeline import run as run_pipeline
    result = run_pipeline(spark, cfg, str(landing), str(wh_local), AS_OF, "local-run")
    assert proc.returncode == result.exit_code, output(proc)

    # 4. same tables
    warnings_path = tables.table_path(str(wh_local), *tables.WARNINGS)
    local_warnings = rows(spark, warnings_path, ("run_id",))
    cluster_warnings = rows(spark, tables.table_path(str(wh_cluster), *tables.WARNINGS), ("run_id",))
    assert cluster_warnings == local_warnings
    if generated:
        assert len(local_warnings) > 0

    sources = silver_sources(wh_local)
    assert sources and silver_sources(wh_cluster) == sources
    for source in sources:
        assert (rows(spark, tables.silver_path(str(wh_cluster), source), ("_run_id", "_ingested_at"))
                == rows(spark, tables.silver_path(str(wh_local), source), ("_run_id", "_ingested_at"))), source
    for table, own in ((tables.QUARANTINE, ("run_id", "ingested_at")),
                       (tables.INGEST_LOG, ("run_id", "logged_at"))):
        assert (rows(spark, tables.table_path(str(wh_cluster), *table), own)
                == rows(spark, tables.table_path(str(wh_local), *table), own)), table
