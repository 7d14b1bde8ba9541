"""Where the warehouse's tables live and what the silver tables look like.

Silver holds one Delta table per source at ``<warehouse>/silver/<source>``: the contract
columns, typed (id -> normalised 18-character string, date -> date, month -> 'YYYY-MM'
string, decimal -> decimal(14,2), int -> int, enum -> its code, string -> string), plus
``_batch``, ``_file``, ``_run_id`` (the run that last wrote the row) and
``_ingested_at``; sources with a ``partition_year_of`` hint also carry ``_year``
(int, the partition column).
"""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from jobs.contract import SourceSpec

AMOUNT = T.DecimalType(14, 2)
SPARK_TYPES = {
    "id": T.StringType(),
    "date": T.DateType(),
    "month": T.StringType(),
    "decimal": AMOUNT,
    "int": T.IntegerType(),
    "enum": T.StringType(),
    "string": T.StringType(),
}
META_COLUMNS = [
    T.StructField("_batch", T.StringType(), False),
    T.StructField("_file", T.StringType(), False),
    T.StructField("_run_id", T.StringType(), False),
    T.StructField("_ingested_at", T.TimestampType(), False),
]
YEAR_COLUMN = "_year"


def table_path(warehouse: str, *parts: str) -> str:
    return "/".join([warehouse.rstrip("/"), *parts])


def silver_path(warehouse: str, source: str) -> str:
    return table_path(warehouse, "silver", source)


def bronze_path(warehouse: str, source: str) -> str:
    return table_path(warehouse, "bronze", source)


QUARANTINE = ("quarantine",)
INGEST_LOG = ("meta", "ingest_log")
RUNS = ("meta", "runs")
WARNINGS = ("gold", "warnings")
FEEDBACK_APPLIED = ("meta", "feedback_applied")


def silver_schema(spec: SourceSpec) -> T.StructType:
    fields = [T.StructField(c.name, SPARK_TYPES[c.type], True) for c in spec.columns.values()]
    fields += META_COLUMNS
    if spec.partition_year_of:
        fields.append(T.StructField(YEAR_COLUMN, T.IntegerType(), True))
    return T.StructType(fields)


def delta_exists(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def read_delta(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)


def read_silver(spark: SparkSession, warehouse: str, spec: SourceSpec, as_files: bool = False) -> DataFrame:
    """The silver table of a source, or an empty frame of its schema when none exists yet.
    ``as_files``: its current version read as its Parquet files, for a plan that scans it
    many times (:func:`jobs.spark.workarounds.delta_snapshot_as_parquet`)."""
    path = silver_path(warehouse, spec.name)
    if delta_exists(spark, path):
        if as_files:
            from jobs.fs import qualify
            from jobs.spark.workarounds import delta_snapshot_as_parquet

            path = qualify(spark, path)       # the listed files' form, for their partition folders
            return delta_snapshot_as_parquet(spark, path, table_properties(spark, path))
        return read_delta(spark, path)
    return spark.createDataFrame([], silver_schema(spec))


def table_properties(spark: SparkSession, path: str) -> dict[str, str]:
    """The Delta table's properties, its protocol's (``delta.minReaderVersion``...) among
    them, from its metadata (``SHOW TBLPROPERTIES``: no Spark job, where ``DeltaTable.
    detail()`` computes the snapshot's state)."""
    from jobs.fs import qualify

    quoted = qualify(spark, path).replace("`", "``")     # SQL's delta.`path` takes absolute paths
    return {r[0]: r[1] for r in spark.sql(f"SHOW TBLPROPERTIES delta.`{quoted}`").collect()}


def read_all_silver(spark: SparkSession, warehouse: str, contract, as_files: bool = False) -> dict[str, DataFrame]:
    return {name: read_silver(spark, warehouse, contract[name], as_files) for name in contract.names}


# Tables stay readable by delta-rs, as downstream tools read them (contract s.4).
NO_DELETION_VECTORS = {"delta.enableDeletionVectors": "false"}


def ensure_table(spark: SparkSession, path: str, schema: T.StructType) -> str:
    """The Delta table at ``path`` with at least ``schema``: created empty (no deletion
    vectors) when missing; a table of an earlier version gets the columns it lacks and
    its NOT NULL columns relaxed where ``schema`` allows nulls. Returns ``path``."""
    from delta.tables import DeltaTable

    from jobs import fs

    quoted = fs.qualify(spark, path).replace("`", "``")   # SQL's delta.`<path>` takes absolute paths
    if not delta_exists(spark, path):
        builder = DeltaTable.createIfNotExists(spark).location(fs.qualify(spark, path)).addColumns(schema)
        for key, value in NO_DELETION_VECTORS.items():
            builder = builder.property(key, value)
        builder.execute()
        return path
    current = {f.name: f for f in read_delta(spark, path).schema.fields}
    for f in schema.fields:
        if f.name not in current:
            spark.sql(f"ALTER TABLE delta.`{quoted}` ADD COLUMNS (`{f.name}` {f.dataType.simpleString()})")
        elif f.nullable and not current[f.name].nullable:
            spark.sql(f"ALTER TABLE delta.`{quoted}` ALTER COLUMN `{f.name}` DROP NOT NULL")
    return path


def merge_metric(metrics: DataFrame | None, name: str) -> int:
    """A count from the DataFrame a Delta MERGE returns (0 when not reported)."""
    if metrics is None or name not in metrics.columns:
        return 0
    row = metrics.first()
    return int(row[name] or 0) if row else 0
