"""Evidence rows and the assembly of one rule's candidates.

A rule returns a :class:`Finding`: ``hits`` (one row per firing person: ``person_id``,
``amount_at_risk``) and a list of *evidence frames*, each made with :func:`evidence`
from the source rows behind the warning. :func:`assemble` groups hits and evidence by
person in one aggregation, keeps the persons that fire, sorts their evidence by
(source, key) with each row once, and picks ``source_county`` / ``source_name`` from it
by preference:

- every evidence row carries ``_pref`` (lower wins: the rule says which source counts
  first, e.g. payments before enrollment for the payment rules) and ``_order`` (a number,
  higher wins: the latest ``pay_month``, the latest ``start_date``), then (source, key)
  ascending, so "the latest enrollment, then the smallest enrollment_id" is
  ``pref, -unix_date(start_date), source, key``;
- rows about someone else (a family member, a parent) are made with ``about_other=True``:
  they carry their ``person_id`` in ``values`` and never give a county or a name.

Values are strings: dates ``YYYY-MM-DD``, decimals ``500.00``, months ``YYYY-MM``; a
null stays null. No run id and no check date ever go into evidence.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.contract import SourceSpec
from jobs.spark.workarounds import union_of_many
from jobs.tables import AMOUNT

EVIDENCE_TYPE = T.ArrayType(T.StructType([
    T.StructField("source", T.StringType(), True),
    T.StructField("key", T.StringType(), True),
    T.StructField("values", T.MapType(T.StringType(), T.StringType(), True), True),
]), True)

CANDIDATE_SCHEMA = T.StructType([
    T.StructField("rule_id", T.StringType(), True),
    T.StructField("person_id", T.StringType(), True),
    T.StructField("amount_at_risk", AMOUNT, True),
    T.StructField("evidence", EVIDENCE_TYPE, True),
    T.StructField("source_county", T.StringType(), True),
    T.StructField("source_name", T.StringType(), True),
])

# Preferences for source_county / source_name (lower wins).
PREF_PAYMENT, PREF_ENROLLMENT, PREF_HOUSEHOLD, PREF_OTHER = 1, 2, 3, 5
_LAST = 2 ** 62  # rows without an order come after every ordered row


@dataclass
class Finding:
    """What a rule function returns: who fires (and for how much), and why."""

    hits: DataFrame                      # person_id, amount_at_risk (one row per person)
    evidence: list[DataFrame] = field(default_factory=list)   # frames made by evidence()


def string_map(names: tuple[str, ...] | list[str], df: DataFrame | None = None,
               prefix: str = "") -> Column:
    """``map(name -> string value)`` of the given columns (``prefix`` + name in ``df``)."""
    parts: list[Column] = []
    for name in names:
        parts += [F.lit(name), F.col(prefix + name).cast("string")]
    return F.create_map(*parts)


def evidence(df: DataFrame, spec: SourceSpec, *, person: str | Column = "person_id",
             values: tuple[str, ...] | None = None, about_other: bool = False,
             pref: int = PREF_OTHER, order: Column | None = None,
             county: str | None = None, name: str | None = None,
             keep: tuple[str, ...] = ()) -> DataFrame:
    """Evidence rows of the source ``spec`` from ``df`` (which has that source's columns):
    its key (a composite key joined with '|') and ``values`` (default: the columns
    conf/sources.yaml's ``evidence`` shows for the source).

    ``person`` is the person the warning is about (default: the row's own person_id);
    ``about_other`` marks rows of someone else (their person_id joins the values, and
    they give no county or name). ``county``/``name`` name columns of ``df`` (defaults:
    ``county_code`` / ``name`` when the source has them); ``keep`` carries more columns
    of ``df`` along (for the caller, not part of the evidence).
    """
    source = spec.name
    cols = list(values if values is not None else spec.evidence)
    if about_other and "person_id" in df.columns and "person_id" not in cols \
            and spec.key != ("person_id",):
        cols = ["person_id", *cols]
    key_cols = spec.key
    key = F.col(key_cols[0]) if len(key_cols) == 1 else F.concat_ws("|", *[F.col(k) for k in key_cols])
    if county is None and "county_code" in df.columns:
        county = "county_code"
    if name is None and "name" in df.columns:
        name = "name"
    none = F.lit(None).cast("string")
    return df.select(
        (F.col(person) if isinstance(person, str) else person).alias("person_id"),
        F.lit(source).alias("source"),
        key.cast("string").alias("key"),
        string_map(cols).alias("values"),
        (none if about_other or county is None else F.col(county)).alias("_county"),
        (none if about_other or name is None else F.col(name)).alias("_name"),
        F.lit(pref).alias("_pref"),
        (order if order is not None else F.lit(None)).cast("long").alias("_order"),
        *keep,
    )


# ---------------------------------------------------------------------------------
# The one canonical form of evidence: what the warnings table stores, what the lifecycle
# compares and what the candidates carry
# ---------------------------------------------------------------------------------
def _compare(a: Column, b: Column) -> Column:
    """-1, 0 or 1, nulls first."""
    return (F.when(a.isNull() & b.isNull(), 0).when(a.isNull(), -1).when(b.isNull(), 1)
            .when(a < b, -1).when(a > b, 1).otherwise(0))


def by_source_then_key(left: Column, right: Column) -> Column:
    """array_sort comparator: (source, key) ascending, nulls first (maps are not orderable)."""
    by_source = _compare(left["source"], right["source"])
    return F.when(by_source != 0, by_source).otherwise(_compare(left["key"], right["key"]))


def canonical_evidence(entries: Column) -> Column:
    """Evidence entries (``EVIDENCE_TYPE``) in their canonical form: sorted by (source,
    key), each (source, key) once, each row's values sorted by name; null -> empty. The
    same rows always give the same value, and so the same JSON."""
    normalised = F.transform(
        F.coalesce(entries, F.array().cast(EVIDENCE_TYPE)),
        lambda e: F.struct(
            e["source"].alias("source"), e["key"].alias("key"),
            F.map_from_entries(F.array_sort(F.map_entries(
                F.coalesce(e["values"], F.create_map().cast("map<string,string>"))))).alias("values")))
    ordered = F.array_sort(normalised, by_source_then_key)
    previous = lambda i: F.get(ordered, i - 1)  # noqa: E731  (null before the first)
    return F.filter(ordered, lambda e, i: F.when(i == 0, True).otherwise(
        ~(previous(i)["source"].eqNullSafe(e["source"]) & previous(i)["key"].eqNullSafe(e["key"]))))


def evidence_json(entries: Column) -> Column:
    """The evidence as the deterministic JSON text the warnings table stores."""
    return F.to_json(canonical_evidence(entries).cast(EVIDENCE_TYPE))


def evidence_rows(evidence: Column) -> Column:
    """array<string>: each row of stored evidence JSON as its own canonical JSON."""
    return F.transform(canonical_evidence(F.from_json(evidence, EVIDENCE_TYPE)), lambda e: F.to_json(e))


def finding_rows(rule_id: str, finding: Finding) -> list[DataFrame]:
    """One rule's hit rows and evidence rows, frames of one shape tagged with the rule."""
    entry = EVIDENCE_TYPE.elementType
    hits = finding.hits.select(
        "person_id", F.col("amount_at_risk").cast(AMOUNT).alias("amount_at_risk"), F.lit(True).alias("_hit"),
        F.lit(None).cast(entry).alias("_entry"), F.lit(None).cast("string").alias("_county"),
        F.lit(None).cast("string").alias("_name"), F.lit(None).cast("int").alias("_pref"),
        F.lit(None).cast("long").alias("_order"))
    frames = [hits] + [
        ev.select("person_id", F.lit(None).cast(AMOUNT).alias("amount_at_risk"), F.lit(False).alias("_hit"),
                  F.struct("source", "key", "values").cast(entry).alias("_entry"), "_county", "_name",
                  F.col("_pref").cast("int").alias("_pref"), "_order")
        for ev in finding.evidence]
    return [frame.withColumn("rule_id", F.lit(rule_id)) for frame in frames]


def assemble(findings: dict[str, Finding]) -> DataFrame:
    """The candidate rows (CANDIDATE_SCHEMA) of every rule from its finding.

    One aggregation for all rules: the hit rows and the evidence rows are unioned and
    grouped by (rule, person); pairs without a hit row are dropped (rules keep their
    evidence frames close to the persons that can fire). A single shuffle for the whole
    catalogue instead of one per rule: the checks' cost at small scales is the number of
    Spark stages (docs/BENCHMARKS.md, "The checks").
    """
    rows = union_of_many([frame for rule_id, f in findings.items() for frame in finding_rows(rule_id, f)])
    rank = F.struct(F.col("_pref"), F.coalesce(-F.col("_order"), F.lit(_LAST)),
                    F.col("_entry")["source"], F.col("_entry")["key"])
    grouped = rows.groupBy("rule_id", "person_id").agg(
        F.max("_hit").alias("_hit"),
        F.max("amount_at_risk").alias("amount_at_risk"),
        F.collect_list("_entry").alias("_entries"),
        F.min_by("_county", F.when(F.col("_county").isNotNull(), rank)).alias("source_county"),
        F.min_by("_name", F.when(F.col("_name").isNotNull(), rank)).alias("source_name"),
    )
    return grouped.filter(F.col("_hit")).select(
        F.col("rule_id").cast("string").alias("rule_id"),
        "person_id",
        F.round("amount_at_risk", 2).cast(AMOUNT).alias("amount_at_risk"),
        canonical_evidence(F.col("_entries")).cast(EVIDENCE_TYPE).alias("evidence"),
        F.col("source_county").cast("string").alias("source_county"),
        F.col("source_name").cast("string").alias("source_name"),
    )
