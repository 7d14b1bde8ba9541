"""The run's state, in one module: the latest check date (a property of the warnings
table and a marker file beside it), the detection's fingerprint (what the warnings were
last computed from), and, before Spark starts, whether a `hedui run` has anything to do.

A run has nothing to do when every data file of the landing zone is LOADED in the ingest
log, no earlier run was left RUNNING (killed: its work must be redone), and the warnings
table was last detected from exactly this check date, rule configuration and set of loaded
files (:func:`detection_inputs`, a table property of
``gold/warnings``). Then `hedui run` prints the usual summary and exits 0 without
starting a JVM: the Delta tables are read with ``deltalake`` (delta-rs) and its SQL engine.

Only local landing zones and warehouses are decided here; on ``hdfs://`` or ``s3a://``
(or without ``deltalake`` installed) :func:`nothing_new` answers None and the run starts
Spark as ever, where the same decision is taken again (``detection_is_current``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from decimal import Decimal

from jobs import fs, tables
from jobs.config import Config
from jobs.errors import CheckDateError

log = logging.getLogger(__name__)

# A fingerprint of what the last detection was computed from (check date, rule
# configuration, the files loaded into silver), a property of the warnings table: equal
# inputs give equal warnings, so a run with nothing new leaves the table as it is.
DETECTION_INPUTS_PROPERTY = "hedui.detectionInputs"


# ---------------------------------------------------------------------------------
# The detection's inputs (with Spark: the run's own decision once Spark is up)
# ---------------------------------------------------------------------------------
def detection_inputs(check_date: dt.date, rules_fingerprint: str, loaded_files) -> str:
    """The fingerprint of detection's inputs: the check date, the rule configuration (its
    own fingerprint) and the set of (source, file) loaded into silver."""
    text = json.dumps([check_date.isoformat(), rules_fingerprint, sorted(map(list, loaded_files))])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def detection_is_current(spark, warehouse: str, inputs: str) -> bool:
    """The warnings table was last detected from exactly these inputs."""
    path = _warnings_path(warehouse)
    return tables.delta_exists(spark, path) and tables.table_properties(spark, path).get(DETECTION_INPUTS_PROPERTY) == inputs


def record_detection_inputs(spark, warehouse: str, inputs: str) -> None:
    """After a detection has committed: the inputs it was computed from."""
    quoted = fs.qualify(spark, _warnings_path(warehouse)).replace("`", "``")
    spark.sql(f"ALTER TABLE delta.`{quoted}` SET TBLPROPERTIES ('{DETECTION_INPUTS_PROPERTY}' = '{inputs}')")


def rules_fingerprint(cfg: Config) -> str:
    """What the warnings depend on besides the data and the date: the rule configuration
    (switches, parameters, scores, categories) and the warning-id secret."""
    return hashlib.sha256(repr((cfg.rules, cfg.run.warning_id_secret)).encode("utf-8")).hexdigest()

# ---------------------------------------------------------------------------------
# The latest check date (with Spark)
#
# Stored in the warnings table's properties (``hedui.latestCheckDate``), which live in the
# Delta log's metadata (checkpointed, never cleaned up) and are set in a commit just before
# the detection MERGE. A table without the property (not written by hedui) falls back to
# its largest ``last_detected``.
# ---------------------------------------------------------------------------------
LATEST_CHECK_DATE_PROPERTY = "hedui.latestCheckDate"


def _warnings_path(warehouse: str) -> str:
    return tables.table_path(warehouse, *tables.WARNINGS)


def _latest_check_date(spark, path: str, props: dict[str, str]) -> dt.date | None:
    prop = props.get(LATEST_CHECK_DATE_PROPERTY)
    if prop:
        return dt.date.fromisoformat(prop)
    # a table written without the property: the latest date anything fired
    from pyspark.sql import functions as F

    return spark.read.format("delta").load(path).agg(F.max("last_detected")).first()[0]


def latest_check_date(spark, warehouse: str) -> dt.date | None:
    """The latest check date applied to ``gold/warnings`` (None when none yet)."""
    path = _warnings_path(warehouse)
    if not tables.delta_exists(spark, path):
        return None
    return _latest_check_date(spark, path, tables.table_properties(spark, path))


def _refuse_earlier(check_date: dt.date, latest: dt.date | None) -> None:
    if latest is not None and check_date < latest:
        raise CheckDateError(
            f"check date {check_date.isoformat()} is earlier than the latest check date "
            f"already applied to the warnings table ({latest.isoformat()}); "
            f"run with --as-of {latest.isoformat()} or later")


def check_check_date(spark, warehouse: str, check_date: dt.date) -> None:
    """Raise :class:`CheckDateError` when ``check_date`` is before the latest one applied.

    A pipeline can call it before loading anything; :func:`apply_detection` checks again.
    """
    _refuse_earlier(check_date, latest_check_date(spark, warehouse))


# The latest check date also sits in a small file beside the tables, which the command line
# reads before Spark starts (local warehouses) to refuse an earlier date at once. The
# table property stays the authority: it is checked again once Spark is up.
CHECK_DATE_MARKER = ("_hedui", "latest_check_date")


def check_date_marker_path(warehouse: str) -> str:
    return tables.table_path(warehouse, *CHECK_DATE_MARKER)


def read_check_date_marker(files, warehouse: str) -> dt.date | None:
    """The latest check date the marker file records (None: no marker, or unreadable)."""
    text = files.read_text(check_date_marker_path(warehouse)) if files is not None else None
    try:
        return dt.date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


def refuse_earlier_than_marker(files, warehouse: str, check_date: dt.date) -> None:
    """Raise :class:`CheckDateError` when the marker names a later check date."""
    _refuse_earlier(check_date, read_check_date_marker(files, warehouse))


def _set_latest_check_date(spark, path: str, check_date: dt.date) -> None:
    quoted = fs.qualify(spark, path).replace("`", "``")
    spark.sql(f"ALTER TABLE delta.`{quoted}` SET TBLPROPERTIES "
              f"('{LATEST_CHECK_DATE_PROPERTY}' = '{check_date.isoformat()}')")


def reserve_check_date(spark, warehouse: str, check_date: dt.date) -> None:
    """Before the detection's MERGE: refuse a check date earlier than the latest applied
    (:class:`CheckDateError`), else record ``check_date`` as the latest, in the warnings
    table's properties (a commit of its own, so a failed MERGE leaves D reserved:
    rerunning with the same D completes it) and in the marker file."""
    path = _warnings_path(warehouse)
    props = tables.table_properties(spark, path)
    _refuse_earlier(check_date, _latest_check_date(spark, path, props))
    if props.get(LATEST_CHECK_DATE_PROPERTY) != check_date.isoformat():
        _set_latest_check_date(spark, path, check_date)
    fs.HadoopFiles(spark).write_text(check_date_marker_path(warehouse), check_date.isoformat() + "\n")



@dataclass(frozen=True)
class LandingListing:
    files: list[tuple[str, str]]     # (source, "<batch>/<name>") of every data file
    unknown_sources: list[str]
    ignored_files: list[str]         # "<source>/<batch>/<name>" of files of other types


def list_landing(landing: str, contract) -> LandingListing:
    """The landing zone by the rules of :func:`jobs.ingest.landing.discover` (``_``/``.``
    names passed over, extensions in any case), on the local file system."""
    from jobs.ingest.landing import PASSED_OVER, data_format

    root = fs.local_path(landing)
    files, unknown, ignored = [], [], []
    for source in sorted(os.listdir(root)):
        if source.startswith(PASSED_OVER) or not os.path.isdir(os.path.join(root, source)):
            continue
        if source not in contract:
            unknown.append(source)
            continue
        for batch in sorted(os.listdir(os.path.join(root, source))):
            folder = os.path.join(root, source, batch)
            if batch.startswith(PASSED_OVER) or not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                if name.startswith(PASSED_OVER) or not os.path.isfile(os.path.join(folder, name)):
                    continue
                if data_format(name) is not None:
                    files.append((source, f"{batch}/{name}"))
                else:
                    ignored.append(f"{source}/{batch}/{name}")
    return LandingListing(files, unknown, ignored)


@dataclass(frozen=True)
class WarehouseState:
    loaded: frozenset[tuple[str, str]]      # (source, file) whose latest ingest-log row is LOADED
    latest_batches: dict[str, str]          # source -> latest batch with a LOADED file
    running: bool                           # a run left RUNNING in meta/runs
    detection_inputs: str | None            # the warnings table's property


def _query(tables_by_name: dict, sql: str) -> list[dict]:
    from deltalake import QueryBuilder

    qb = QueryBuilder()
    for name, table in tables_by_name.items():
        qb = qb.register(name, table)
    result = qb.execute(sql).read_all()
    columns = {name: result.column(name).to_pylist() for name in result.column_names}
    return [dict(zip(columns, values)) for values in zip(*columns.values())] if columns else []


def read_state(warehouse: str) -> WarehouseState | None:
    """The warehouse's state as delta-rs reads it; None when a table is missing."""
    from deltalake import DeltaTable

    paths = {name: fs.local_path(tables.table_path(warehouse, *parts))
             for name, parts in (("log", tables.INGEST_LOG), ("runs", tables.RUNS), ("w", tables.WARNINGS))}
    if not all(os.path.isdir(os.path.join(p, "_delta_log")) for p in paths.values()):
        return None
    ingest_log, runs, warnings = (DeltaTable(paths[n]) for n in ("log", "runs", "w"))
    latest = _query({"log": ingest_log}, """
        SELECT source, file, batch, status FROM (
          SELECT source, file, batch, status,
                 ROW_NUMBER() OVER (PARTITION BY source, file ORDER BY logged_at DESC) AS n FROM log)
        WHERE n = 1""")
    loaded = [r for r in latest if r["status"] == "LOADED"]
    batches: dict[str, str] = {}
    for r in loaded:
        batches[r["source"]] = max(batches.get(r["source"], r["batch"]), r["batch"])
    running = _query({"runs": runs}, "SELECT COUNT(*) AS n FROM runs WHERE outcome = 'RUNNING'")[0]["n"] > 0
    return WarehouseState(loaded=frozenset((r["source"], r["file"]) for r in loaded), latest_batches=batches,
                          running=running,
                          detection_inputs=warnings.metadata().configuration.get(DETECTION_INPUTS_PROPERTY))


def nothing_new(cfg: Config, landing: str, warehouse: str, check_date: dt.date
                ) -> tuple[WarehouseState, LandingListing] | None:
    """The warehouse's state when a run over ``landing`` at ``check_date`` has nothing to
    do (see the module's docstring); None when it has, or when it cannot be told here."""
    if not (fs.is_local(landing) and fs.is_local(warehouse)):
        return None
    try:
        import deltalake  # noqa: F401
    except ImportError:
        return None
    try:
        state = read_state(warehouse)
        listing = list_landing(landing, cfg.contract)
    except Exception as exc:  # an unreadable table or folder: Spark will say what is wrong
        log.debug("run state not decidable without Spark: %s", type(exc).__name__)
        return None
    if state is None or state.running or any(f not in state.loaded for f in listing.files):
        return None
    expected = detection_inputs(check_date, rules_fingerprint(cfg), state.loaded)
    return (state, listing) if state.detection_inputs == expected else None


def warning_counts(warehouse: str) -> tuple[dict[str, dict[str, int]], list[dict], int, Decimal]:
    """What the summary shows of the warnings table, read with delta-rs: per rule and
    status; open warnings per county (``county_code``, ``n``, ``amount``); open count and
    amount."""
    from deltalake import DeltaTable

    w = {"w": DeltaTable(fs.local_path(tables.table_path(warehouse, *tables.WARNINGS)))}
    counts: dict[str, dict[str, int]] = {}
    for r in _query(w, "SELECT rule_id, status, CAST(COUNT(*) AS BIGINT) AS n FROM w GROUP BY rule_id, status"):
        counts.setdefault(r["rule_id"], {})[r["status"]] = r["n"]
    counties = _query(w, "SELECT county_code, CAST(COUNT(*) AS BIGINT) AS n, SUM(amount_at_risk) AS amount "
                         "FROM w WHERE status IN ('NEW', 'OPEN') GROUP BY county_code")
    n_open = sum(r["n"] for r in counties)
    amount = sum((Decimal(r["amount"]) for r in counties if r["amount"] is not None), Decimal("0.00"))
    return counts, counties, n_open, amount


def _sql_text(value: str | None) -> str:
    return "CAST(NULL AS VARCHAR)" if value is None else "'" + value.replace("'", "''") + "'"


def _sql_list(values: list[str]) -> str:
    return f"arrow_cast(make_array({', '.join(_sql_text(v) for v in values)}), 'List(Utf8)')"


def _sql_timestamp(when: dt.datetime) -> str:
    utc = when.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat()
    return f"arrow_cast(CAST('{utc}' AS TIMESTAMP), 'Timestamp(Microsecond, Some(\"UTC\"))')"


def run_without_spark(cfg: Config, landing: str, warehouse: str, check_date: dt.date, run_id: str) -> str | None:
    """A `hedui run` that has nothing to do, done without a JVM: its usual summary, the run
    recorded in ``meta/runs``; None when Spark is needed (:func:`nothing_new`). The caller
    holds the warehouse lock."""
    import time

    from jobs.gold.summary import format_summary
    from jobs.runlog import stale_sources

    clock = time.monotonic()
    started = dt.datetime.now().replace(microsecond=0)
    found = nothing_new(cfg, landing, warehouse, check_date)
    if found is None:
        return None
    state, listing = found
    counts, counties, n_open, amount = warning_counts(warehouse)
    stale = stale_sources(state.latest_batches, cfg.contract, check_date, cfg.run.stale_source_days)
    seconds = round(time.monotonic() - clock, 2)
    stats = {"ingest": {}, "detection": {
                 "check_date": check_date.isoformat(),
                 "skipped": "nothing new since the last detection (same check date, rules and data); "
                            "decided without starting Spark"},
             "run_id": run_id, "failed_files": [], "unknown_source_folders": listing.unknown_sources,
             "ignored_files": listing.ignored_files, "interrupted_runs": [], "timings": {"total": seconds}}
    summary = format_summary(check_date, counts, counties, n_open, amount, stale, stats, cfg)
    _record(cfg, landing, warehouse, check_date, run_id, state, listing, stale, counts, started, seconds)
    return summary


def _record(cfg: Config, landing: str, warehouse: str, check_date: dt.date, run_id: str, state: WarehouseState,
            listing: LandingListing, stale: list[str], counts: dict, started: dt.datetime, seconds: float) -> None:
    """Append the run's row to ``meta/runs`` with delta-rs (one commit), as
    :func:`jobs.runlog.finish_run` would have completed it: SUCCESS, no files."""
    from deltalake import DeltaTable, QueryBuilder, write_deltalake

    finished = dt.datetime.now().replace(microsecond=0)
    params = json.dumps({"landing": landing, "warehouse": warehouse, "check_date": check_date.isoformat(),
                         "env": cfg.env, "rules": cfg.rules.enabled, "spark": False},
                        ensure_ascii=False, sort_keys=True, default=str)
    sql = f"""SELECT {_sql_text(run_id)} AS run_id, 'run' AS command,
        CAST('{check_date.isoformat()}' AS DATE) AS check_date,
        {_sql_timestamp(started)} AS started_at, {_sql_timestamp(finished)} AS finished_at,
        'SUCCESS' AS outcome, CAST(0 AS INT) AS exit_code, {_sql_text(params)} AS params,
        '[]' AS files, '{{}}' AS row_counts,
        {_sql_text(json.dumps(counts, sort_keys=True))} AS warnings_by_rule,
        {_sql_text(json.dumps({"total": seconds}))} AS timings,
        {_sql_text(json.dumps(state.latest_batches, sort_keys=True))} AS latest_batches,
        {_sql_list(stale)} AS stale_sources, CAST(NULL AS VARCHAR) AS error,
        {_sql_list(listing.unknown_sources)} AS unknown_sources,
        {_sql_list(listing.ignored_files)} AS ignored_files"""
    table = DeltaTable(fs.local_path(tables.table_path(warehouse, *tables.RUNS)))
    write_deltalake(table, QueryBuilder().execute(sql), mode="append")


# ---------------------------------------------------------------------------------
# In a process of its own
# ---------------------------------------------------------------------------------
NEEDS_SPARK = 10   # the child's exit status when the run has something to do


def run_without_spark_isolated(cfg: Config, landing: str, warehouse: str, check_date: dt.date,
                               run_id: str) -> str | None:
    """:func:`run_without_spark` in a child Python process: delta-rs's native threads may
    abort an interpreter as it exits (jobs.spark.workarounds.exit_skipping_native_teardown),
    and the process that goes on to run Spark must end normally (its Spark context stopped,
    its event log closed). About half a second; any failure of the child means "start
    Spark", which decides again."""
    import pickle
    import subprocess
    import sys

    if not (fs.is_local(landing) and fs.is_local(warehouse)):
        return None
    try:
        child = subprocess.run([sys.executable, "-c", "from jobs.runstate import _child; _child()"],
                               input=pickle.dumps((cfg, landing, warehouse, check_date, run_id)),
                               capture_output=True, timeout=300)
    except Exception as exc:
        log.debug("nothing-new check not run: %s", type(exc).__name__)
        return None
    if child.returncode != 0:
        if child.returncode != NEEDS_SPARK:
            log.debug("nothing-new check failed (status %s); starting Spark", child.returncode)
        return None
    return child.stdout.decode("utf-8")


def _child() -> None:
    import pickle
    import sys

    from jobs.spark.workarounds import exit_skipping_native_teardown

    code = NEEDS_SPARK
    try:
        cfg, landing, warehouse, check_date, run_id = pickle.loads(sys.stdin.buffer.read())
        summary = run_without_spark(cfg, landing, warehouse, check_date, run_id)
        if summary is not None:
            sys.stdout.write(summary)
            code = 0
    except Exception as exc:  # no traceback: it may quote values; Spark will decide again
        sys.stderr.write(f"{type(exc).__name__}\n")
        code = 1
    exit_skipping_native_teardown(code)
