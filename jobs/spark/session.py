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
from jobs.spark import workarounds

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


def session_conf(settings: SparkSettings) -> dict[str, str]:
    """Every Spark setting of the session: Delta's, the named workarounds' (their JVM
    options on the driver in local mode, on the executors on a cluster) and the YAML's."""
    names = [name for name, on in settings.workarounds.items() if on]
    conf, java_options = workarounds.session_settings(names)
    return workarounds.with_java_options({**DELTA_CONF, **conf, **settings.conf}, java_options,
                                         local=bool(settings.master))


def build_session(settings: SparkSettings, app_name: str = "hedui") -> SparkSession:
    conf = session_conf(settings)
    active = SparkSession.getActiveSession()
    if active is not None:
        _apply_runtime_conf(active, conf)
        return active
    builder = SparkSession.builder.appName(app_name)
    if settings.master:
        builder = builder.master(settings.master)
    jars = delta_jars(settings.delta_jars)
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    if settings.delta_packages:
        builder = builder.config("spark.jars.packages", settings.delta_packages)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    workarounds.quiet_expected_warnings(spark)
    log.info("Spark %s started (master %s)", spark.version, spark.sparkContext.master)
    return spark


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
