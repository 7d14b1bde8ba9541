"""The session factory's settings that tests elsewhere do not show."""
from __future__ import annotations

import pytest

from jobs.spark.workarounds import QUIET_LOGGERS


def _level(spark, name: str) -> str:
    jvm = spark.sparkContext._jvm
    return str(jvm.org.apache.logging.log4j.LogManager.getLogger(name).getLevel())


def test_expected_spark_warnings_are_quiet_and_the_others_are_not(spark):
    """The loggers of warnings that are expected here log errors only; Spark's other
    loggers keep warning (the session's level)."""
    assert {name: _level(spark, name) for name in QUIET_LOGGERS} == {name: "ERROR" for name in QUIET_LOGGERS}
    assert _level(spark, "org.apache.spark.scheduler.DAGScheduler") == "WARN"
    assert _level(spark, "org.apache.spark.sql.execution.window.WindowExec") == "WARN"


def test_delta_python_wrapper_and_jar_are_one_version(spark):
    """setup.py's pin, the installed wrapper and the jar the session runs are the same
    Delta version (scripts/setup.sh refuses to set up two)."""
    import re
    from importlib.metadata import version
    from pathlib import Path

    pinned = re.search(r'"delta-spark==([0-9.]+)"', (Path(__file__).parents[2] / "setup.py").read_text())[1]
    jars = spark.sparkContext.getConf().get("spark.jars", "")
    running = re.findall(r"delta-spark_4\.2_2\.13-([0-9.]+)\.jar", jars)
    assert running == [pinned] and version("delta-spark") == pinned


def test_union_of_many_by_name_every_row_few_partitions(spark):
    from chispa import assert_df_equality

    from jobs.spark.workarounds import union_of_many

    frames = [spark.createDataFrame([(i, f"r{i}"), (None, None)], "n int, s string")
              .select("s", "n").repartition(3) if i % 2 else
              spark.createDataFrame([(i, f"r{i}")], "n int, s string").repartition(2)
              for i in range(7)]                   # an odd count, columns in two orders
    union = union_of_many(frames)
    assert union.columns == ["n", "s"]
    assert union.rdd.getNumPartitions() <= spark.sparkContext.defaultParallelism
    expected = spark.createDataFrame([(i, f"r{i}") for i in range(7)] + [(None, None)] * 3, "n int, s string")
    assert_df_equality(union, expected, ignore_row_order=True)
    assert union_of_many(frames[:1]).count() == 1
    with pytest.raises(ValueError):
        union_of_many([])


def test_delta_table_read_as_its_current_files(spark, tmp_path):
    """A reader-version-1 table (hedui's) read as the Parquet files of its current version:
    the same rows as Delta reads, partition column from the folders, removed files gone,
    nothing from a later commit; an empty table is an empty frame of its schema."""
    from chispa import assert_df_equality
    from delta.tables import DeltaTable

    from jobs.spark.workarounds import delta_snapshot_as_parquet
    from jobs.tables import table_properties

    path = str(tmp_path / "t")
    rows = [("a", 2025, "x"), ("b", 2026, None), (None, 2026, "z")]
    (spark.createDataFrame(rows, "k string, _year int, v string").write.format("delta")
     .partitionBy("_year").save(path))
    DeltaTable.forPath(spark, path).update("k = 'a'", {"v": "'changed'"})   # a file replaced
    (spark.createDataFrame([("c", 2024, "w")], "k string, _year int, v string").write.format("delta")
     .mode("append").save(path))
    read = delta_snapshot_as_parquet(spark, path, table_properties(spark, path))
    delta = spark.read.format("delta").load(path)
    assert read.columns == delta.columns == ["k", "_year", "v"]
    assert "TahoeLogFileIndex" not in read._jdf.queryExecution().executedPlan().toString()
    assert_df_equality(read, delta, ignore_row_order=True, ignore_nullable=True)
    assert read.filter("_year = 2026").count() == 2 and read.filter("v = 'changed'").count() == 1
    (spark.createDataFrame([("d", 2024, "later")], "k string, _year int, v string").write.format("delta")
     .mode("append").save(path))
    assert read.count() == 4                      # the version listed, not the later one

    empty = str(tmp_path / "empty")
    spark.createDataFrame([], "k string, n int").write.format("delta").save(empty)
    got = delta_snapshot_as_parquet(spark, empty, table_properties(spark, empty))
    assert got.count() == 0 and got.columns == ["k", "n"]


def test_a_table_with_column_mapping_is_read_through_delta(spark, tmp_path):
    """Reader version 2 (column mapping: the Parquet files hold other column names) is
    never read as plain files."""
    from jobs.spark.workarounds import delta_snapshot_as_parquet
    from jobs.tables import table_properties

    path = str(tmp_path / "mapped")
    spark.sql(f"CREATE TABLE delta.`{path}` (k string, v string) USING delta TBLPROPERTIES "
              "('delta.columnMapping.mode' = 'name', 'delta.minReaderVersion' = '2', 'delta.minWriterVersion' = '5')")
    spark.createDataFrame([("a", "x"), (None, None)], "k string, v string").write.format("delta").mode("append").save(path)
    spark.sql(f"ALTER TABLE delta.`{path}` RENAME COLUMN v TO w")
    read = delta_snapshot_as_parquet(spark, path, table_properties(spark, path))
    assert read.columns == ["k", "w"]
    assert sorted(read.collect(), key=str) == sorted([("a", "x"), (None, None)], key=str)


def test_silver_as_files_from_a_relative_warehouse(spark, cfg, tmp_path):
    """A relative warehouse path (`--warehouse ../wh`; the JVM and Python share the working
    directory): the silver table is listed and read all the same."""
    import os

    from jobs import tables

    spec = cfg.contract["deaths"]
    path = tmp_path / "wh" / "silver" / "deaths"
    spark.createDataFrame([("r1", None)], "report_id string, person_id string").write.format("delta").save(str(path))
    relative = os.path.relpath(tmp_path / "wh")
    assert not os.path.isabs(relative)
    got = tables.read_silver(spark, relative, spec, as_files=True)
    assert [tuple(r) for r in got.collect()] == [("r1", None)]
