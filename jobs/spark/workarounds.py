"""Every workaround for a Spark, Delta or JVM behaviour, in one place, each with its reason
and the figure that justifies it (docs/BENCHMARKS.md has the measurements).

Domain code calls these by name and never names a JVM flag or a Spark internal setting.
Two kinds:

- **Session workarounds** (:data:`SESSION`): Spark settings and JVM options the session
  factory applies when it starts Spark. conf/local.yaml and conf/cluster.yaml switch them
  on by name (``spark.workarounds``); the driver's JVM options only take effect in local
  mode (the JVM starts with the session); on a cluster the executors get the same ones.
- **Code workarounds**: functions and context managers for the places where Spark needs
  handling (:func:`union_partitioning_off`, :func:`detached`, :func:`union_of_many`,
  :func:`whole_stage_codegen`, :func:`quiet_expected_warnings`, :func:`with_own_properties`,
  :func:`csv_line_separator`).
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workaround:
    name: str
    reason: str
    conf: dict[str, str] = field(default_factory=dict)     # Spark settings
    java_options: tuple[str, ...] = ()                      # the driver's (local) / executors' (cluster) JVM


SESSION = {w.name: w for w in [
    Workaround(
        "gb18030_csv",
        "Spark 4 reads CSV in GB18030 (the contract's second encoding) only with its legacy "
        "Java charsets switched on.",
        conf={"spark.sql.legacy.javaCharsets": "true"}),
    Workaround(
        "no_union_output_partitioning",
        "Spark 4.2: a union over a persisted frame may advertise a hash partitioning it does "
        "not deliver, and a join above it fails with \"Can't zip RDDs with unequal numbers of "
        "partitions\" (cf. SPARK-59122; reproduced by tests/unit/test_rules_api.py).",
        conf={"spark.sql.unionOutputPartitioning": "false"}),
    Workaround(
        "huge_method_limit",
        "The JIT gives up on a generated method past about 24 KB of bytecode (C1: \"out of "
        "virtual registers\") and runs it interpreted; Spark's per-operator code is faster then: "
        "typing the household rows (three ID numbers, 33 KB) 11.5 s -> 5.7 s. Below it (every "
        "other source, 12-20 KB) the whole-stage method stays faster.",
        conf={"spark.sql.codegen.hugeMethodLimit": "24000"}),
    Workaround(
        "compile_huge_methods",
        "HotSpot does not compile methods over 8000 bytes of bytecode; the typing of a whole row "
        "is one generated method of 15-33 KB: measured 2x faster typing of the payments with it.",
        java_options=("-XX:-DontCompileHugeMethods",)),
    Workaround(
        "c2_node_budget",
        "The typing of a whole row overflows C2's default budget of 80000 nodes, and C1 with "
        "profiling runs out of registers on it too; when both fail the method stays interpreted "
        "for good, 3-4x slower (seen at scale 1.0: the payments' typing at 20 us a row, the run "
        "stopped after 40 min; with it the payments load in 1223 s). The fudge factor must stay "
        "within 2-40 % of the limit, or the JVM does not start.",
        java_options=("-XX:MaxNodeLimit=240000", "-XX:NodeLimitFudgeFactor=8000")),
    Workaround(
        "parallel_gc",
        "On 2 cores G1's concurrent marking and write barriers cost the tasks CPU: ingest at "
        "scale 0.1 294-320 s with G1, 285-287 s with the parallel collector; JVM peak 9.1 -> "
        "7.9 GB.",
        java_options=("-XX:+UseParallelGC",)),
    Workaround(
        "uncompressed_cache",
        "Cached frames (the ingest's typed load, the checks' windows) stay uncompressed: on 2 "
        "cores compressing the typed payments cost 12 s of 15; memory is plenty.",
        conf={"spark.sql.inMemoryColumnarStorage.compressed": "false"}),
]}


def session_settings(names: list[str] | tuple[str, ...]) -> tuple[dict[str, str], tuple[str, ...]]:
    """(Spark settings, JVM options) of the named session workarounds."""
    unknown = [n for n in names if n not in SESSION]
    if unknown:
        from jobs.errors import ConfigError
        raise ConfigError(f"spark.workarounds: unknown workaround {unknown[0]!r} "
                          f"(expected some of {', '.join(SESSION)})")
    conf: dict[str, str] = {}
    options: list[str] = []
    for name in names:
        conf.update(SESSION[name].conf)
        options += SESSION[name].java_options
    return conf, tuple(options)


DRIVER_JAVA_OPTIONS = "spark.driver.extraJavaOptions"
EXECUTOR_JAVA_OPTIONS = "spark.executor.extraJavaOptions"


def with_java_options(conf: dict[str, str], options: tuple[str, ...], local: bool) -> dict[str, str]:
    """``conf`` with the workarounds' JVM options added to the driver's (local mode: the
    JVM starts with the session) or the executors' (a cluster: the driver's JVM is
    spark-submit's)."""
    if not options:
        return conf
    key = DRIVER_JAVA_OPTIONS if local else EXECUTOR_JAVA_OPTIONS
    return {**conf, key: " ".join([*options, *([conf[key]] if conf.get(key) else [])])}


# ---------------------------------------------------------------------------------
# Code workarounds
# ---------------------------------------------------------------------------------
@contextmanager
def union_partitioning_off(spark: SparkSession) -> Iterator[None]:
    """Plan and run with unions that advertise no output partitioning (see
    ``no_union_output_partitioning``), whatever the session says; restored afterwards."""
    key = "spark.sql.unionOutputPartitioning"
    before = spark.conf.get(key)
    spark.conf.set(key, "false")
    try:
        yield
    finally:
        spark.conf.set(key, before)


def detached(df: DataFrame) -> DataFrame:
    """``df`` materialised as a local checkpoint: its plan no longer refers to its sources.

    A persisted frame would not do: unpersisting the frames it was planned over (the
    checks' payment window) makes Spark drop and rebuild it, running every rule a second
    time (tests/unit/test_rules_api.py::test_detect_result_never_reads_the_sources_again)."""
    return df.localCheckpoint(eager=True)


def union_of_many(frames: list[DataFrame]) -> DataFrame:
    """The union (by column name) of ``frames``, built as a balanced tree and its partitions
    coalesced to the session's default parallelism. Two costs of a union of many branches:

    - Spark analyses the whole plan again at every ``unionByName`` (relation
      deduplication, the analysis checks): folded left, that is quadratic in the branches;
      as a balanced tree, each level goes over the plan once.
    - Every task of a stage deserializes the stage's whole task binary: for a union, every
      branch's plan, so the cost grows with branches x partitions. The checks' one
      aggregation reads a union of some 60 hit and evidence frames (307 RDDs, 170
      partitions at the demo scale): deserializing it took 18.6 of the stage's 29.3
      task-seconds (event log, "Executor Deserialize Time"). Coalesced without a shuffle,
      the same rows go to ``defaultParallelism`` tasks (every core still busy), each
      deserializing the plan once; a union with fewer partitions keeps its own.
    """
    if not frames:
        raise ValueError("union_of_many() needs at least one frame")
    level = list(frames)
    while len(level) > 1:
        level = [level[i].unionByName(level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    union = level[0]
    return union.coalesce(union.sparkSession.sparkContext.defaultParallelism)


def delta_snapshot_as_parquet(spark: SparkSession, path: str, properties: dict[str, str]) -> DataFrame:
    """The rows of the Delta table at ``path`` as it is now, read as the Parquet files its
    current version lists, in the table's schema (a partition column from the folders);
    ``properties``: the table's (:func:`jobs.tables.table_properties`).

    Why: Delta plans every scan of a table with Spark jobs over its snapshot ("Filtering
    files for query"), and the checks' plan scans the silver tables again and again (the
    enrollment for most rules, the household for the families): at the demo scale 131 of
    the checks' 385-402 Spark jobs (event log, session 30). Listed once, the table costs its
    snapshot's jobs once; every scan after that is a plain Parquet scan.

    Valid only for tables that need nothing but their file list to be read: reader
    version 1 (no deletion vectors, no column mapping), as hedui creates them
    (conf/base.yaml, :data:`jobs.tables.NO_DELETION_VECTORS`). Any other table is read
    through Delta. The frame shows the version listed: a later commit is not in it (the
    checks read silver after the run's last write to it)."""
    delta = spark.read.format("delta").load(path)
    if properties.get("delta.minReaderVersion", "1") != "1":
        return delta
    schema, files = delta.schema, delta.inputFiles()
    if not files:
        return spark.createDataFrame([], schema)
    # a list of files longer than this threshold is listed by a Spark job: the files are
    # known, and the driver looks each up in a moment
    key = "spark.sql.sources.parallelPartitionDiscovery.threshold"
    before = spark.conf.get(key)
    spark.conf.set(key, str(max(len(files) + 1, 32)))
    try:
        rows = spark.read.schema(schema).option("basePath", path).parquet(*files)
    finally:
        spark.conf.set(key, before)
    return rows.select(*schema.fieldNames())


@contextmanager
def whole_stage_codegen(spark: SparkSession, enabled: bool) -> Iterator[None]:
    """Whole-stage code generation on or off for the block (restored afterwards). The
    generator's expressions are wide and most of its frames small: fused code costs more to
    compile than it saves, except for the big sources (measured in the 5th session)."""
    key = "spark.sql.codegen.wholeStage"
    before = spark.conf.get(key, "true")
    spark.conf.set(key, "true" if enabled else "false")
    try:
        yield
    finally:
        spark.conf.set(key, before)


def csv_line_separator(line_end: str | None) -> dict[str, str]:
    """CSV read options naming the file's line separator (the one that ends its header
    record, found by hedui as it finds the encoding), instead of letting Spark detect it.

    In multi-line mode Spark lets its parser (univocity) detect the separator from the
    first CR or LF in the file, even one inside a quoted field, and turn the separator into
    LF inside quoted values. Both go wrong on valid RFC 4180 files (found by
    tests/unit/test_csv_differential.py; hand-made cases in tests/unit/test_csv_files.py):

    - a header name quoted with a line break inside sets the wrong separator: an LF file
      whose header holds a CRLF reads as one record, the header, and its records are lost
      (silently, or the file FAILED as malformed); a CRLF file whose header holds an LF
      gets a CR at the end of its records' last value, and its blank lines become
      malformed records (the file FAILED);
    - in a CRLF file, a quoted value holding CR CR LF (a CRLF text written once more
      through a text mode that turns LF into CRLF) loses one of its two line breaks.

    Named, the separator is only a record's end: quoted values keep their line breaks as
    written, and the silver columns make every one of them LF
    (``normalize.with_lf_line_breaks``). None (a header without line end: no records)
    leaves Spark's detection."""
    return {"lineSep": line_end} if line_end else {}


# Spark loggers whose warnings are expected here and say nothing an operator can act on:
QUIET_LOGGERS = (
    # CSV files are read with a positional schema (c0, c1, ...) and their own (alias)
    # header, which Spark reports for every file
    "org.apache.spark.sql.catalyst.csv.CSVHeaderChecker",
    # the checks' local checkpoint of a frame whose columns only differ in nullability
    # between the logical and the optimised plan ("output columns are expected to the same")
    "org.apache.spark.sql.execution.LogicalRDD",
    # ... and, when such a checkpoint is released, that its lineage was truncated
    "org.apache.spark.rdd.MapPartitionsRDD",
    # "Truncated the string representation of a plan": wide plans (a source's typing)
    "org.apache.spark.util.SparkStringUtils",
    # "It is not recommended to set 'lineSep' with 2 characters": a CRLF file is read with
    # its own line separator (csv_line_separator), for every such file
    "org.apache.spark.sql.catalyst.csv.CSVOptions",
)


# Spark loggers that quote a failed task's exception, and so the values it failed on (an ID
# number, a name: "cannot cast '5329...'"), in the log: personal data never goes to a log.
# The error still reaches the driver, where hedui rewords it (jobs.errors.safe_message)
# and keeps the whole traceback masked in <warehouse>/_hedui/logs/<run_id>.log.
# Executor: "Exception in task ..." (ERROR, with the stack); TaskSetManager: "Lost task
# ...: <exception>" (WARN; its ERROR "Task failed n times; aborting job" has no values);
# BlockManager: "Putting block ... failed due to exception <exception>" (WARN).
SILENT_LOGGERS = (
    ("org.apache.spark.executor.Executor", "OFF"),
    ("org.apache.spark.scheduler.TaskSetManager", "ERROR"),
    ("org.apache.spark.storage.BlockManager", "ERROR"),
)


def quiet_expected_warnings(spark: SparkSession) -> None:
    """Log only errors from :data:`QUIET_LOGGERS` and nothing that quotes a task's failure
    (:data:`SILENT_LOGGERS`) (log4j2, through the JVM)."""
    jvm = spark.sparkContext._jvm
    try:
        levels = [(name, "ERROR") for name in QUIET_LOGGERS] + list(SILENT_LOGGERS)
        for name, level in levels:
            jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
                name, getattr(jvm.org.apache.logging.log4j.Level, level))
    except Exception:  # another logging backend: keep Spark's messages
        log.debug("could not quiet %s", QUIET_LOGGERS, exc_info=True)


def with_own_properties(spark: SparkSession, fn):
    """``fn``, to run in another thread with its own copy of this thread's Spark local
    properties (job group and description, SQL execution id...). Wrap once per call:
    PySpark copies the properties when it wraps, so one wrapper run by several threads
    would have them share, and overwrite, a single copy (the ingest's sources labelled
    each other's jobs)."""
    from pyspark.util import inheritable_thread_target

    return inheritable_thread_target(spark)(fn)


def exit_skipping_native_teardown(code: int) -> None:
    """End the process with ``code`` at once, skipping the interpreter's teardown.

    delta-rs (the ``deltalake`` package, which `hedui serve` and `hedui user` read and
    write Delta tables with) sometimes aborts the interpreter as it exits ("terminate
    called without an active exception", status 134): a native thread of its runtime is
    torn down while it still runs. Measured with deltalake 1.6.6: 1 to 3 exits in 12
    after a read, never with this. So the commands that use it, and the test session
    (tests/conftest.py), flush their output and leave through ``os._exit``."""
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed stream: nothing more to say
            pass
    logging.shutdown()
    os._exit(code)
