"""The ingest's tables: quarantine and silver writes, the ingest log and its state.

- ``quarantine`` (one commit per run): the rejected rows with their reasons and raw
  values, written with ``replaceWhere`` on the (source, file) pairs of the run's files, so
  a rerun replaces, never duplicates;
- ``silver/<source>`` (one commit per source): the resolved rows; created by the first
  load, then MERGEd on the key (a row of a later or equal batch replaces);
- ``meta/ingest_log`` (one commit per run, last): one row per attempt at a file; a file
  is LOADED only once its row is written, so an interrupted run is simply redone.
"""
from __future__ import annotations

from functools import reduce

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from delta.tables import DeltaTable

from jobs import tables
from jobs.contract import SourceSpec

INGEST_LOG_SCHEMA = T.StructType([
    T.StructField("source", T.StringType(), False),
    T.StructField("batch", T.StringType(), False),
    T.StructField("file", T.StringType(), False),
    T.StructField("rows_read", T.LongType(), True),
    T.StructField("rows_loaded", T.LongType(), True),
    T.StructField("rows_quarantined", T.LongType(), True),
    T.StructField("status", T.StringType(), False),
    T.StructField("error", T.StringType(), True),
    T.StructField("run_id", T.StringType(), False),
    T.StructField("logged_at", T.TimestampType(), False),
    T.StructField("size", T.LongType(), True),           # bytes of the file as it arrived (bronze)
    T.StructField("sha256", T.StringType(), True),       # its SHA-256, hex
])
QUARANTINE_SCHEMA = T.StructType([
    T.StructField("source", T.StringType(), False),
    T.StructField("batch", T.StringType(), False),
    T.StructField("file", T.StringType(), False),
    T.StructField("reasons", T.ArrayType(T.StringType()), False),
    T.StructField("raw", T.StringType(), True),
    T.StructField("run_id", T.StringType(), False),
    T.StructField("ingested_at", T.TimestampType(), False),
])



INGEST_LOG_COLUMNS = [f.name for f in INGEST_LOG_SCHEMA.fields]


def loaded_files(spark: SparkSession, warehouse: str) -> set[tuple[str, str]]:
    """(source, file) pairs whose latest ingest-log row is LOADED."""
    path = tables.table_path(warehouse, *tables.INGEST_LOG)
    if not tables.delta_exists(spark, path):
        return set()
    w = Window.partitionBy("source", "file").orderBy(F.col("logged_at").desc())
    rows = (tables.read_delta(spark, path)
            .withColumn("_n", F.row_number().over(w)).filter("_n = 1 AND status = 'LOADED'")
            .select("source", "file").collect())
    return {(r.source, r.file) for r in rows}


def to_quarantine(df: DataFrame, source: str) -> DataFrame:
    raw = F.to_json(F.map_concat(
        F.from_json(F.to_json("_raw"), T.MapType(T.StringType(), T.StringType())),
        F.coalesce("_extra", F.create_map().cast(T.MapType(T.StringType(), T.StringType())))))
    return df.select(F.lit(source).alias("source"), F.col("_batch").alias("batch"),
                     F.col("_file").alias("file"), F.col("_reasons").alias("reasons"),
                     raw.alias("raw"), F.col("_run_id").alias("run_id"),
                     F.col("_ingested_at").alias("ingested_at"))


def to_silver(df: DataFrame, spec: SourceSpec) -> DataFrame:
    cols = [F.col(c) for c in spec.column_names] + [F.col(m.name) for m in tables.META_COLUMNS]
    if spec.partition_year_of:
        year_of = spec.columns[spec.partition_year_of]
        src = F.col(year_of.name)
        year = F.substring(src, 1, 4).cast("int") if year_of.type == "month" else F.year(src)
        cols.append(year.alias(tables.YEAR_COLUMN))
    return df.select(*cols)


def _pairs_predicate(pairs: list[tuple[str, str]], columns: tuple[str, str]) -> str:
    """SQL: ``(a, b) IN ((...), ...)`` over literal string pairs."""
    quote = lambda v: "'" + v.replace("'", "''") + "'"  # noqa: E731
    values = ", ".join(f"({quote(x)}, {quote(y)})" for x, y in sorted(set(pairs)))
    return f"({columns[0]}, {columns[1]}) IN ({values})"


# Delta collects min/max/null-count statistics of the first 32 columns of every file it
# writes, which costs about as much as writing the Parquet itself (docs/BENCHMARKS.md).
# Silver keeps them for its key and the column its year partition comes from.
def stats_columns(columns: list[str]) -> dict[str, str]:
    """Table property limiting Delta's file statistics to ``columns``."""
    return {"delta.dataSkippingStatsColumns": ",".join(columns)}


def silver_stats_columns(spec: SourceSpec) -> list[str]:
    return list(spec.key) + ([spec.partition_year_of] if spec.partition_year_of else [])


def _file_size(records_per_file: int | None) -> dict[str, str]:
    return {"maxRecordsPerFile": str(records_per_file)} if records_per_file else {}


def merge_silver(df: DataFrame, path: str, spec: SourceSpec, records_per_file: int | None = None) -> None:
    spark = df.sparkSession
    if not tables.delta_exists(spark, path):
        writer = (df.write.format("delta").mode("append").options(**_file_size(records_per_file))
                  .options(**stats_columns(silver_stats_columns(spec))))
        if spec.partition_year_of:
            writer = writer.partitionBy(tables.YEAR_COLUMN)
        writer.save(path)
        return
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in spec.key)
    (DeltaTable.forPath(spark, path).alias("t")
     .merge(df.alias("s"), on)
     .whenMatchedUpdateAll(condition="s._batch >= t._batch")
     .whenNotMatchedInsertAll()
     .execute())


def write_quarantine(spark: SparkSession, warehouse: str, parts: list[DataFrame],
                     files: list[tuple[str, str]]) -> None:
    """The run's quarantine rows (``parts``, one frame per source) in one commit that
    replaces whatever an interrupted attempt at the same (source, file) pairs left."""
    if not files:
        return
    path = tables.ensure_table(spark, tables.table_path(warehouse, *tables.QUARANTINE), QUARANTINE_SCHEMA)
    rows = (reduce(DataFrame.unionByName, parts) if parts
            else spark.createDataFrame([], QUARANTINE_SCHEMA))
    (rows.select(*[F.col(f.name).cast(f.dataType) for f in QUARANTINE_SCHEMA.fields])
     .write.format("delta").mode("overwrite")
     .option("replaceWhere", _pairs_predicate(files, ("source", "file"))).save(path))


def append_ingest_log(spark: SparkSession, warehouse: str, rows: list[tuple]) -> None:
    """The run's ingest-log rows (in :data:`INGEST_LOG_COLUMNS` order), in one commit."""
    if not rows:
        return
    path = tables.ensure_table(spark, tables.table_path(warehouse, *tables.INGEST_LOG), INGEST_LOG_SCHEMA)
    spark.createDataFrame(rows, INGEST_LOG_SCHEMA).write.format("delta").mode("append").save(path)
