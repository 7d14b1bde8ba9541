"""The session factory's settings that tests elsewhere do not show."""
from __future__ import annotations

from jobs.session import QUIET_LOGGERS


def _level(spark, name: str) -> str:
    jvm = spark.sparkContext._jvm
    return str(jvm.org.apache.logging.log4j.LogManager.getLogger(name).getLevel())


def test_expected_spark_warnings_are_quiet_and_the_others_are_not(spark):
    """The loggers of warnings that are expected here log errors only; Spark's other
    loggers keep warning (the session's level)."""
    assert {name: _level(spark, name) for name in QUIET_LOGGERS} == {name: "ERROR" for name in QUIET_LOGGERS}
    assert _level(spark, "org.apache.spark.scheduler.DAGScheduler") == "WARN"
    assert _level(spark, "org.apache.spark.sql.execution.window.WindowExec") == "WARN"
