"""The session factory's settings that tests elsewhere do not show."""
from __future__ import annotations

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
