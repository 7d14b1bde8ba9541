"""The rules of RULES.md as pure transforms over the silver tables.

Public API::

    from jobs.rules import detect
    found = detect(tables, check_date, cfg.rules, cfg.contract)   # DataFrame, CANDIDATE_SCHEMA
    ...                                             # use it (MERGE into gold, counts)

``detect`` returns one row per (rule_id, person_id) that fires, for the enabled rules
only: ``rule_id``, ``person_id``, ``amount_at_risk`` decimal(14,2) (null where RULES.md
says null), ``evidence`` (array of (source, key, values map) sorted by source then key),
``source_county`` and ``source_name`` (from a source row about the person; null if none).

Plan (see :mod:`jobs.rules.facts`):

1. :class:`~jobs.rules.facts.Facts` derives the shared per-person facts lazily, once.
   The payment window is one DataFrame filtered on the partition column ``_year`` and on
   ``pay_month``, then persisted; all four payment rules read it, so the payments table
   is scanned once per run. The medical window likewise.
2. Each enabled rule's function (:mod:`jobs.rules.catalogue`, registered with
   ``@rule("RULE_ID")``, :mod:`jobs.rules.registry`), called with its parameters from
   conf/rules.yaml, returns a :class:`~jobs.rules.evidence.Finding`;
3. :func:`candidates` gathers them (lazy): :func:`~jobs.rules.evidence.assemble` groups
   every rule's hits and evidence by (rule, person) in one aggregation and attaches the
   sorted evidence, county and name. :func:`detect` materialises the union as a
   local checkpoint (one pass over the sources; its plan no longer refers to them) and
   then unpersists the windows, so nothing but the (small) candidates stays in memory.
   A persisted frame would not do: unpersisting the windows it was planned over makes
   Spark drop and rebuild it, running every rule a second time.

Callers that want the lazy plan use ``with Facts(tables, d, rules.shared, contract) as facts:
candidates(facts, rules)`` and act on it inside the ``with`` block.

:func:`detect` plans and materialises the candidates with unions that advertise no
output partitioning (a Spark 4.2 bug: :func:`jobs.spark.workarounds.union_partitioning_off`).
"""
from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import DataFrame

from jobs.contract import Contract
from jobs.errors import ConfigError
from jobs.spark import workarounds
from jobs.spark.workarounds import union_partitioning_off
from jobs.rules import catalogue  # noqa: F401  (registers the rule functions)
from jobs.rules.registry import RULES, RulesConfig, build_rules, rule
from jobs.rules.evidence import CANDIDATE_SCHEMA, Finding, assemble
from jobs.rules.facts import Facts

log = logging.getLogger(__name__)

__all__ = ["CANDIDATE_SCHEMA", "Facts", "Finding", "RULES", "candidates", "detect", "enabled_rules", "rule",
           "union_partitioning_off"]


def load_rules(raw: dict) -> RulesConfig:
    """conf/rules.yaml checked against the catalogue's functions (:mod:`.registry`)."""
    return build_rules(raw, RULES)


def enabled_rules(rules: RulesConfig) -> list[str]:
    """The enabled rule ids, in configuration order; each must have a function."""
    missing = [r for r in rules.enabled if r not in RULES]
    if missing:
        raise ConfigError(f"rules.rules.{missing[0]}: no rule function is registered under this id "
                          f"(jobs/rules/catalogue.py)")
    return list(rules.enabled)


def candidates(facts: Facts, rules: RulesConfig) -> DataFrame:
    """The lazy union of the enabled rules' candidates (valid while ``facts`` is open)."""
    findings = {rule_id: RULES[rule_id](facts, **rules.params(rule_id)) for rule_id in enabled_rules(rules)}
    if not findings:
        spark = next(iter(facts.tables.values())).sparkSession
        return spark.createDataFrame([], CANDIDATE_SCHEMA)
    return assemble(findings)


def detect(tables: dict[str, DataFrame], check_date: dt.date, rules: RulesConfig, contract: Contract) -> DataFrame:
    """The candidates of all enabled rules for check date ``check_date``, materialised
    (a local checkpoint: later actions never read the sources again). The windows are
    released before return."""
    if not tables:
        raise ValueError("detect() needs the silver tables (one DataFrame per source)")
    spark = next(iter(tables.values())).sparkSession
    with union_partitioning_off(spark), Facts(tables, check_date, rules.shared, contract) as facts:
        # detached, not persisted: releasing the windows below would make Spark rebuild
        # a cached frame that was planned over them (and rerun every rule)
        found = workarounds.detached(candidates(facts, rules))
        count = found.count()
    log.info("rules: %d candidates from %d enabled rules", count, len(rules.enabled))
    return found
