"""From rule candidates to the rows of ``gold/warnings`` (contract s.5), before the lifecycle.

The rules produce one candidate row per (rule_id, person_id) that fires at the check date
``D``. :func:`build_detected` turns them into warnings-shaped rows:

- ``warning_id``: ``'W'`` + the first 20 hex digits (upper case) of
  HMAC-SHA256(secret, ``rule_id + '|' + person_id``), computed with Spark built-ins. The
  secret is ``run.warning_id_secret``; without it the ID number cannot be recovered from
  the warning id, and the same rule and person always get the same id.
- ``person_name``: the household registry's name, else the name of the person's latest
  enrollment (latest ``start_date``, then smallest ``enrollment_id``) that has one, else the
  name on a source row behind the warning (``source_name``).
- ``county_code``/``township_code`` (a pair, never mixed): the enrollment active on ``D``
  (latest ``start_date``, then smallest ``enrollment_id``), else the household row's, else
  ``source_county`` with no township; null only when none has one.
- ``score`` (int, 0..100) = min(100, base_score + min(amount_max_points,
  floor(amount_at_risk / amount_step))); a null amount adds nothing. base_score per rule
  and the two score settings come from conf/rules.yaml (defaults: step 500 CNY per point,
  at most 20 points).
- ``evidence``: the candidate's evidence array as a JSON string, rows sorted by (source,
  key) and each row's values sorted by name, so the same evidence always gives the same text.
- ``status``, ``first_detected``, ``last_detected`` and ``run_id`` are left null here: the
  lifecycle (:mod:`jobs.gold.lifecycle`) fills them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.config import Config
from jobs.rules.registry import ScoreSettings
from jobs.rules.evidence import evidence_json
from jobs.rules.facts import is_between_dates
from jobs.tables import AMOUNT

log = logging.getLogger(__name__)


#: The contract's warnings table (README s.5), in this order.
WARNINGS_SCHEMA = T.StructType([
    T.StructField("warning_id", T.StringType(), True),
    T.StructField("rule_id", T.StringType(), True),
    T.StructField("category", T.StringType(), True),
    T.StructField("person_id", T.StringType(), True),
    T.StructField("person_name", T.StringType(), True),
    T.StructField("county_code", T.StringType(), True),
    T.StructField("township_code", T.StringType(), True),
    T.StructField("score", T.IntegerType(), True),
    T.StructField("amount_at_risk", AMOUNT, True),
    T.StructField("evidence", T.StringType(), True),
    T.StructField("status", T.StringType(), True),
    T.StructField("first_detected", T.DateType(), True),
    T.StructField("last_detected", T.DateType(), True),
    T.StructField("run_id", T.StringType(), True),
])
WARNING_COLUMNS = [f.name for f in WARNINGS_SCHEMA.fields]

WARNING_ID_PREFIX = "W"
WARNING_ID_HEX_CHARS = 20
_BLOCK = 64  # SHA-256 block size in bytes


# ---------------------------------------------------------------------------------
# warning_id: HMAC-SHA256 with Spark built-ins
# ---------------------------------------------------------------------------------
def _hmac_pads(secret: str) -> tuple[str, str]:
    """(k_ipad, k_opad) of RFC 2104 for ``secret`` as hex strings."""
    key = secret.encode("utf-8")
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\x00")
    ipad = bytes(b ^ 0x36 for b in key)
    opad = bytes(b ^ 0x5C for b in key)
    return ipad.hex(), opad.hex()


def hmac_sha256_hex(message: Column, secret: str) -> Column:
    """HMAC-SHA256(secret, message) as 64 lower-case hex digits (message: string, UTF-8)."""
    ipad, opad = _hmac_pads(secret)
    msg = F.encode(message, "UTF-8")
    inner = F.sha2(F.concat(F.unhex(F.lit(ipad)), msg), 256)
    return F.sha2(F.concat(F.unhex(F.lit(opad)), F.unhex(inner)), 256)


def warning_id_column(rule_id: Column, person_id: Column, secret: str) -> Column:
    """The stable warning id of (rule_id, person_id): 'W' + 20 hex digits of a keyed hash.

    Null when either part is null. Python equivalent::

        'W' + hmac.new(secret.encode(), f'{rule_id}|{person_id}'.encode(),
                       hashlib.sha256).hexdigest()[:20].upper()
    """
    if not secret:
        raise ValueError("run.warning_id_secret must not be empty")
    message = F.concat(rule_id, F.lit("|"), person_id)  # null if either is null
    digest = hmac_sha256_hex(message, secret)
    return F.concat(F.lit(WARNING_ID_PREFIX), F.upper(F.substring(digest, 1, WARNING_ID_HEX_CHARS)))


# ---------------------------------------------------------------------------------
# Name and place
# ---------------------------------------------------------------------------------
def _first_per_person(df: DataFrame, order: list[Column], cols: list[str]) -> DataFrame:
    w = Window.partitionBy("person_id").orderBy(*order)
    return (df.withColumn("_rn", F.row_number().over(w))
              .filter(F.col("_rn") == 1)
              .select("person_id", *cols))


def with_resolved_place_and_name(candidates: DataFrame, enrollment: DataFrame,
                                 household: DataFrame, check_date: dt.date) -> DataFrame:
    """Add ``person_name``, ``county_code`` and ``township_code`` to the candidates.

    Only the candidates' persons are looked up (a semi join first, so the big enrollment
    table is reduced before any window).
    """
    persons = candidates.select("person_id").where(F.col("person_id").isNotNull()).distinct()
    enr = (enrollment.select("enrollment_id", "person_id", "name", "county_code",
                             "township_code", "start_date", "end_date")
                     .join(F.broadcast(persons), "person_id", "left_semi"))
    hh = (household.select("person_id", F.col("name").alias("_hh_name"),
                           F.col("county_code").alias("_hh_county"),
                           F.col("township_code").alias("_hh_township"))
                   .join(F.broadcast(persons), "person_id", "left_semi"))
    hh = _first_per_person(hh, [F.col("_hh_name").asc_nulls_last(), F.col("_hh_county")],
                           ["_hh_name", "_hh_county", "_hh_township"])  # key: one row anyway

    latest_name = _first_per_person(
        enr.where(F.col("name").isNotNull()),
        [F.col("start_date").desc_nulls_last(), F.col("enrollment_id").asc()],
        [F.col("name").alias("_enr_name")])
    active_place = _first_per_person(
        enr.where(is_between_dates("start_date", "end_date", check_date) & F.col("county_code").isNotNull()),
        [F.col("start_date").desc(), F.col("enrollment_id").asc()],
        [F.col("county_code").alias("_act_county"), F.col("township_code").alias("_act_township")])

    out = (candidates.join(hh, "person_id", "left")
                     .join(latest_name, "person_id", "left")
                     .join(active_place, "person_id", "left"))
    has_active = F.col("_act_county").isNotNull()
    has_hh = F.col("_hh_county").isNotNull()
    return (out
            .withColumn("person_name", F.coalesce("_hh_name", "_enr_name", "source_name"))
            .withColumn("county_code", F.when(has_active, F.col("_act_county"))
                                        .when(has_hh, F.col("_hh_county"))
                                        .otherwise(F.col("source_county")))
            .withColumn("township_code", F.when(has_active, F.col("_act_township"))
                                          .when(has_hh, F.col("_hh_township"))
                                          .otherwise(F.lit(None).cast("string")))
            .drop("_hh_name", "_hh_county", "_hh_township", "_enr_name",
                  "_act_county", "_act_township"))


# ---------------------------------------------------------------------------------
# Score, category, evidence
# ---------------------------------------------------------------------------------
def _map_literal(mapping: dict, value_type: str) -> Column:
    if not mapping:
        return F.create_map().cast(f"map<string,{value_type}>")
    items = []
    for k, v in sorted(mapping.items()):
        items += [F.lit(k), F.lit(v)]
    return F.create_map(*items).cast(f"map<string,{value_type}>")


def score_column(base_score: Column, amount_at_risk: Column, score: ScoreSettings) -> Column:
    """min(100, base + min(max_points, floor(amount / step))); a null amount adds 0 points."""
    step = score.amount_step
    if step > 0:
        points = F.floor(amount_at_risk.cast("decimal(18,2)") / F.lit(step).cast("decimal(18,2)"))
        points = F.least(F.lit(score.amount_max_points).cast("long"),
                         F.greatest(F.coalesce(points.cast("long"), F.lit(0).cast("long")),
                                    F.lit(0).cast("long")))
    else:
        points = F.lit(0).cast("long")
    total = F.coalesce(base_score.cast("long"), F.lit(0).cast("long")) + points
    return F.least(F.lit(100).cast("long"), F.greatest(F.lit(0).cast("long"), total)).cast("int")


def build_detected(candidates: DataFrame, tables: dict[str, DataFrame], cfg: Config,
                   check_date: dt.date) -> DataFrame:
    """Warnings-shaped rows for the candidates firing at ``check_date``.

    ``tables`` holds the silver frames (``enrollment`` and ``household`` are used).
    ``status``, ``first_detected``, ``last_detected`` and ``run_id`` are null: the
    lifecycle fills them. Columns and types are exactly :data:`WARNINGS_SCHEMA`.
    """
    rules = cfg.rules
    base = _map_literal({r: s.base_score for r, s in rules.rules.items()}, "int")
    category = _map_literal({r: s.category for r, s in rules.rules.items()}, "string")
    resolved = with_resolved_place_and_name(candidates, tables["enrollment"], tables["household"],
                                            check_date)
    amount = F.col("amount_at_risk").cast(AMOUNT)
    null_str = F.lit(None).cast("string")
    null_date = F.lit(None).cast("date")
    return resolved.select(
        warning_id_column(F.col("rule_id"), F.col("person_id"), cfg.run.warning_id_secret)
        .alias("warning_id"),
        F.col("rule_id").cast("string").alias("rule_id"),
        F.try_element_at(category, F.col("rule_id")).alias("category"),
        F.col("person_id").cast("string").alias("person_id"),
        F.col("person_name").cast("string").alias("person_name"),
        F.col("county_code").cast("string").alias("county_code"),
        F.col("township_code").cast("string").alias("township_code"),
        score_column(F.try_element_at(base, F.col("rule_id")), amount, rules.score).alias("score"),
        amount.alias("amount_at_risk"),
        evidence_json(F.col("evidence")).alias("evidence"),
        null_str.alias("status"),
        null_date.alias("first_detected"),
        null_date.alias("last_detected"),
        null_str.alias("run_id"),
    )
