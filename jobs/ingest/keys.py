"""Keys and redelivery (contract s.3): one row per key in silver, the latest batch winning.

Within one batch (across its files), valid rows whose contract columns are identical
collapse into one; valid rows with the same key but different content are all
``KEY_CONFLICT``. Across batches the latest batch wins (then the last file). Only rows
that passed every other check take part: an invalid row never conflicts and never
replaces an earlier valid one.

To avoid shuffling a whole load, only the rows whose key another row shares are ranked:
their key hashes come from an aggregation of the key columns alone (:func:`shared_keys`,
small, broadcast); every other valid row is simply the latest of its key.
"""
from __future__ import annotations

import datetime as dt
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.contract import SourceSpec
from jobs.ingest.normalize import typed_column


def content_hash(spec: SourceSpec) -> Column:
    return F.xxhash64(*[F.col(c) for c in spec.column_names])


def with_key_conflicts(df: DataFrame, spec: SourceSpec) -> DataFrame:
    """Among valid rows, the same key with different content in one batch -> KEY_CONFLICT
    for every such row (identical rows are not a conflict: they collapse later)."""
    valid = F.size("_reasons") == 0
    w = Window.partitionBy("_batch", *spec.key)
    variants = F.size(F.collect_set(F.when(valid, F.col("_hash"))).over(w))
    return (df.withColumn("_hash", content_hash(spec))
            .withColumn("_reasons", F.when(valid & (variants > 1), F.array(F.lit("KEY_CONFLICT")))
                        .otherwise(F.col("_reasons")))
            .drop("_hash"))


def key_hash(spec: SourceSpec, key: list[Column] | None = None) -> Column:
    """A 64-bit hash of the (normalised) key columns: rows of one key share it."""
    return F.xxhash64(*(key or [F.col(k) for k in spec.key]))


def shared_keys(raw: DataFrame, spec: SourceSpec, check_date: dt.date) -> DataFrame:
    """Hashes (``_key_hash``) of the normalised keys that more than one delivered row
    holds, from the key columns alone: a small frame, and a superset of the keys that
    valid rows share (a hash collision only adds a key). Only rows with such a key can
    be duplicates, conflicts or corrections. Grouping by a long is cheaper than by the
    key strings."""
    keys = [typed_column(spec.columns[k], F.col(k), check_date) for k in spec.key]
    has_key = reduce(lambda a, b: a & b, [k.isNotNull() for k in keys])
    return (raw.filter(has_key).select(key_hash(spec, keys).alias("_key_hash"))
            .groupBy("_key_hash").agg(F.count(F.lit(1)).alias("_rows"))
            .filter(F.col("_rows") > 1).select("_key_hash"))


def with_shared_flag(df: DataFrame, shared: DataFrame, spec: SourceSpec) -> DataFrame:
    """``_multi``: the row's key hash is one of ``shared`` (broadcast: they are few)."""
    flagged = shared.withColumn("_multi", F.lit(True))
    return (df.withColumn("_key_hash", key_hash(spec))
            .join(F.broadcast(flagged), "_key_hash", "left").drop("_key_hash"))


def with_raw_where_needed(df: DataFrame) -> DataFrame:
    """Keep the raw values (``_raw``, ``_extra``) only on rows that may go to the
    quarantine: invalid rows and rows whose key is shared (a KEY_CONFLICT). The others
    are typed already, and the cache of a big load is half as wide without them."""
    needed = (F.size("_reasons") > 0) | F.coalesce(F.col("_multi"), F.lit(False))
    return (df.withColumn("_raw", F.when(needed, F.col("_raw")))
              .withColumn("_extra", F.when(needed, F.col("_extra"))))


def resolved_shared_rows(df: DataFrame, spec: SourceSpec) -> DataFrame:
    """The rows of ``df`` flagged ``_multi`` (:func:`with_shared_flag`), ranked: rows of a
    key with different content in one batch get KEY_CONFLICT (:func:`with_key_conflicts`);
    ``_latest`` is true on the one valid row per key that silver takes (the latest batch,
    then the last file), false on the others (duplicates, earlier batches, invalid rows).
    A small frame: worth keeping, as the quarantine and silver both read it."""
    w = Window.partitionBy(*spec.key, "_valid").orderBy(F.col("_batch").desc(), F.col("_file").desc())
    return (df.filter(F.col("_multi")).transform(with_key_conflicts, spec)
            .withColumn("_valid", F.size("_reasons") == 0)
            .withColumn("_latest", F.col("_valid") & (F.row_number().over(w) == 1))
            .drop("_valid"))


def with_resolved_keys(df: DataFrame, spec: SourceSpec, shared_rows: DataFrame | None = None) -> DataFrame:
    """KEY_CONFLICT flags and ``_latest`` (see :func:`resolved_shared_rows`) on every row,
    ranking only the rows flagged ``_multi``, never shuffling the whole load; a row whose
    key no other row has is the latest when it is valid. ``shared_rows``: those rows
    already ranked (default: ranked here)."""
    single = (df.filter(F.col("_multi").isNull())
              .withColumn("_latest", F.size("_reasons") == 0))
    shared = shared_rows if shared_rows is not None else resolved_shared_rows(df, spec)
    return single.unionByName(shared).drop("_multi")
