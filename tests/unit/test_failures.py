"""One file never costs the run, and a failure can be diagnosed (issue 30, items 4 and 5).

- An unexpected error while loading one source (injected: a row check that makes Spark
  raise, quoting an ID number and a name as Spark's errors do) FAILs that source's files
  with the step and the error's type; every other source loads, the checks run, the run
  ends with exit status 1, and the next run retries the files.
- A failure of the run itself (injected in the checks) ends `hedui run` with exit status 3
  and one line naming the step and the log under the warehouse; the log holds the
  traceback with no full ID number and no name; `meta/runs` is completed FAILED with the
  same reason; ``-v`` prints the masked traceback too.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyspark.sql import functions as F

from jobs import tables
from jobs.cli import main
from jobs.diagnostics import log_path, mask_traceback
from jobs.masking import mask_id
from jobs.pipeline import run

from tests.unit.test_ingest import D, P1, P2, P3

pytestmark = pytest.mark.slow
NAME = "张三丰"


def _landing(root: Path) -> Path:
    landing = root / "landing"
    (landing / "deaths" / "2026-09-01").mkdir(parents=True)
    (landing / "deaths" / "2026-09-01" / "d.csv").write_text(
        f"report_id,person_id,name,death_date\nR1,{P1},{NAME},2026-08-01\nR2,{P2},李四,2026-08-02\n", encoding="utf-8")
    (landing / "vehicles" / "2026-09-01").mkdir(parents=True)
    (landing / "vehicles" / "2026-09-01" / "v.csv").write_text(
        f"record_id,person_id,vehicle_type,registration_date\nV1,{P3},CAR,2020-01-01\n", encoding="utf-8")
    return landing


def _raising_check(df):
    """Spark raises while typing the rows, quoting an ID number and a name."""
    message = F.concat(F.lit("cannot use "), F.col("person_id"), F.lit(" of "), F.col("name"))
    return df.withColumn("_reasons", F.when(F.col("person_id").isNotNull(), F.raise_error(message))
                         .otherwise(F.col("_reasons")))


def _no_personal_data(text: str) -> None:
    for pid in (P1, P2, P3):
        assert pid not in text
    assert NAME not in text


def test_mask_traceback_keeps_code_and_paths_not_ids_or_names():
    text = (f'File "/work/jobs/ingest/job.py", line 12, in load\n'
            f"  KeyError: '{P1}'\n  value '{NAME}' cannot be cast; {NAME} in 2026-10-01/线下核查结果.csv\n"
            f"  option 'multiLine' for {P2}")
    masked = mask_traceback(text)
    _no_personal_data(masked)
    assert '"/work/jobs/ingest/job.py", line 12' in masked
    assert "2026-10-01/线下核查结果.csv" in masked and "'multiLine'" in masked
    assert mask_id(P2) in masked


def test_spark_logs_no_failed_task_s_values(spark):
    """Spark's loggers that quote a failed task's exception (and so its values) are
    silenced; the driver rewords the error instead (checked above and below)."""
    from jobs.spark.workarounds import SILENT_LOGGERS
    jvm = spark.sparkContext._jvm
    for name, level in SILENT_LOGGERS:
        got = jvm.org.apache.logging.log4j.LogManager.getLogger(name).getLevel().toString()
        assert got == level, name


def test_a_source_that_raises_fails_alone_and_is_retried(spark, cfg, tmp_path, monkeypatch):
    import jobs.pipeline as pipeline
    landing, wh = _landing(tmp_path), tmp_path / "wh"
    monkeypatch.setattr(pipeline.feedback, "row_checks", lambda *a, **k: {"deaths": _raising_check})
    result = run(spark, cfg, str(landing), str(wh), D, "inject-1")
    assert result.exit_code == 1
    assert result.failed_files == ["deaths/2026-09-01/d.csv"]
    logged = {(r.source, r.status): r for r in
              tables.read_delta(spark, tables.table_path(str(wh), *tables.INGEST_LOG)).collect()}
    error = logged[("deaths", "FAILED")].error
    assert "step type" in error and "USER_RAISED_EXCEPTION" in error, error
    _no_personal_data(error)
    assert logged[("vehicles", "LOADED")].rows_loaded == 1
    assert tables.read_delta(spark, tables.silver_path(str(wh), "vehicles")).count() == 1
    assert tables.delta_exists(spark, tables.table_path(str(wh), *tables.WARNINGS))   # the checks ran
    text = Path(log_path(str(wh), "inject-1")).read_text(encoding="utf-8")
    assert "source deaths, step type" in text and "Traceback" in text
    _no_personal_data(text)
    _no_personal_data(result.summary)

    monkeypatch.undo()
    again = run(spark, cfg, str(landing), str(wh), D, "inject-2")
    assert again.exit_code == 0
    assert tables.read_delta(spark, tables.silver_path(str(wh), "deaths")).count() == 2


def test_exit_3_names_the_step_and_the_log(spark, tmp_path, monkeypatch):
    import jobs.cli as cli
    import jobs.pipeline as pipeline

    def boom(*args, **kwargs):
        raise RuntimeError(f"no rule for {P1} ({NAME})")

    monkeypatch.setattr(cli, "_spark", lambda cfg: spark)
    monkeypatch.setattr(pipeline, "detect", boom)
    landing, wh = _landing(tmp_path), tmp_path / "wh"
    out = CliRunner().invoke(main, ["run", "--landing", str(landing), "--warehouse", str(wh),
                                    "--as-of", D.isoformat(), "--run-id", "boom-1", "-v"])
    assert out.exit_code == 3, out.output
    line = [x for x in out.stderr.splitlines() if x.startswith("hedui: run failed")]
    assert len(line) == 1, out.stderr
    assert "step checks" in line[0]
    assert str(Path(log_path(str(wh), "boom-1"))) in line[0]
    _no_personal_data(out.output + out.stderr)
    assert "Traceback" in out.stderr                       # -v prints the masked traceback
    text = Path(log_path(str(wh), "boom-1")).read_text(encoding="utf-8")
    assert "Traceback" in text and "RuntimeError" in text
    _no_personal_data(text)
    assert mask_id(P1) in text
    runs = tables.read_delta(spark, tables.table_path(str(wh), *tables.RUNS)).filter("run_id = 'boom-1'").collect()
    assert [r.outcome for r in runs] == ["FAILED"]
    assert re.match(r"step checks: RuntimeError", runs[0].error), runs[0].error
    assert runs[0].error in line[0]
