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
