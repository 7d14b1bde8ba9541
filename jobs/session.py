"""The one SparkSession factory: local mode, tests, notebooks and spark-submit.

- Local (conf/local.yaml): sets the master and puts the Delta jars fetched by
  scripts/setup.sh (``.jars/``) on ``spark.jars``.
- Cluster (conf/cluster.yaml): sets no master and no jars: spark-submit brings them
  (``--jars`` or ``--packages``); only the Delta SQL extension and catalog are set here.
- An already running session (notebook, spark-submit driver) is reused.
"""
from __future__ import annotations

import glob
import logging
import os

from pyspark.sql import SparkSession

from jobs.config import Config, SparkSettings, resolve_project_path
from jobs.errors import SparkSetupError

log = logging.getLogger(__name__)

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
# Settings that only take effect when the JVM starts.
_STATIC_PREFIXES = ("spark.driver.", "spark.executor.", "spark.jars", "spark.ui.",
                    "spark.master", "spark.sql.extensions", "spark.sql.catalog.spark_catalog",
                    "spark.sql.legacy.javaCharsets", "spark.default.parallelism")


def delta_jars(folder: str | None) -> list[str]:
    """The jar files in the configured folder (HEDUI_JARS overrides it); empty when no
    folder is configured (cluster mode: spark-submit's --jars or --packages bring them)."""
    if not folder:
        return []
    folder = os.environ.get("HEDUI_JARS") or resolve_project_path(folder)
    jars = sorted(glob.glob(os.path.join(folder, "*.jar")))
    if not any(os.path.basename(j).startswith("delta-spark") for j in jars):
        raise SparkSetupError(
            f"no Delta jars in {folder}: run scripts/setup.sh (it fetches them with Maven)")
    return jars


def build_session(settings: SparkSettings, app_name: str = "hedui") -> SparkSession:
    active = SparkSession.getActiveSession()
    if active is not None:
        _apply_runtime_conf(active, settings.conf)
        return active
    builder = SparkSession.builder.appName(app_name)
    if settings.master:
        builder = builder.master(settings.master)
    jars = delta_jars(settings.delta_jars)
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    if settings.delta_packages:
        builder = builder.config("spark.jars.packages", settings.delta_packages)
    for key, value in {**DELTA_CONF, **settings.conf}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    _quiet(spark, QUIET_LOGGERS)
    log.info("Spark %s started (master %s)", spark.version, spark.sparkContext.master)
    return spark


# Spark loggers whose warnings are expected here, and say nothing an operator can act on:
QUIET_LOGGERS = (
    # CSV files are read with a positional schema (c0, c1, ...) and their own (alias)
    # header, which Spark reports for every file
    "org.apache.spark.sql.catalyst.csv.CSVHeaderChecker",
    # the checks' localCheckpoint of a frame whose columns only differ in nullability
    # between the logical and the optimised plan ("output columns are expected to the same")
    "org.apache.spark.sql.execution.LogicalRDD",
    # ... and, when such a checkpoint is released, that its lineage was truncated
    "org.apache.spark.rdd.MapPartitionsRDD",
    # "Truncated the string representation of a plan": wide plans (a source's typing)
    "org.apache.spark.util.SparkStringUtils",
)


def _quiet(spark: SparkSession, loggers: tuple[str, ...]) -> None:
    """Log only errors from ``loggers`` (log4j2, through the JVM)."""
    jvm = spark.sparkContext._jvm
    try:
        for name in loggers:
            jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
                name, jvm.org.apache.logging.log4j.Level.ERROR)
    except Exception:  # another logging backend: keep Spark's messages
        log.debug("could not quiet %s", loggers, exc_info=True)


def get_spark(cfg: Config) -> SparkSession:
    """The session for a loaded configuration."""
    return build_session(cfg.spark, cfg.app_name)


def _apply_runtime_conf(spark: SparkSession, conf: dict[str, str]) -> None:
    for key, value in conf.items():
        if key.startswith(_STATIC_PREFIXES):
            continue
        try:
            spark.conf.set(key, value)
        except Exception:  # a static setting we did not list: the running value stays
            log.debug("cannot change %s on a running session", key)
