"""The rules API: detect()'s schema and rows, the registry, enabling, the shared facts,
the evidence helpers, and the payment window (partition pruning, one scan, release)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from chispa import assert_df_equality
from chispa.schema_comparer import assert_schema_equality
from pyspark.sql import functions as F

from jobs.errors import ConfigError
from jobs.rules.registry import RuleSpec
from jobs.rules import CANDIDATE_SCHEMA, RULES, Facts, candidates, detect, rule
from jobs.rules.evidence import canonical_evidence
from jobs.rules.facts import academic_year, add_months, age_on, month_of
from jobs.tables import silver_schema
from rules_fixtures import People, Silver, id_number, only

PAYMENT_RULES = ("DECEASED", "IMPRISONED", "DUPLICATE_PAYMENT", "PAYMENT_WITHOUT_ENROLLMENT")


# ---- registry and configuration ----------------------------------------------------------
def test_every_configured_rule_has_one_function_and_back(cfg):
    assert set(RULES) == set(cfg.rules.rules) and RULES


def test_a_rule_id_registers_once():
    with pytest.raises(ValueError, match="twice"):
        rule("DECEASED")(lambda f: None)


def test_an_enabled_rule_without_a_function_is_a_configuration_error(cfg, check_date):
    specs = {**cfg.rules.rules, "NO_SUCH_RULE": RuleSpec("NO_SUCH_RULE", "PAYMENT", "无", 10)}
    rules = dataclasses.replace(cfg.rules, rules=specs)
    with pytest.raises(ConfigError, match="NO_SUCH_RULE"):
        candidates(Facts({}, check_date, rules.shared, cfg.contract), rules)


# ---- calendar helpers --------------------------------------------------------------------
def test_months_and_academic_years():
    assert month_of(dt.date(2026, 10, 15)) == "2026-10"
    assert add_months("2026-10", -23) == "2024-11"
    assert add_months("2026-10", -11) == "2025-11"
    assert add_months("2026-01", -1) == "2025-12"
    assert add_months("2026-12", 1) == "2027-01"
    assert academic_year(dt.date(2026, 10, 15)) == "2026-2027"
    assert academic_year(dt.date(2026, 9, 1)) == "2026-2027"
    assert academic_year(dt.date(2026, 8, 31)) == "2025-2026"


def test_age_from_the_id_number_with_29_february(spark):
    leap = id_number("20080229", 7)
    plain = id_number("20101015", 8)
    df = spark.createDataFrame([(leap,), (plain,), (None,)], "pid string")
    ages = lambda d: [r.age for r in df.select(age_on("pid", d).alias("age")).collect()]  # noqa: E731
    assert ages(dt.date(2026, 2, 28)) == [17, 15, None]      # the 29 Feb birthday falls on 1 March
    assert ages(dt.date(2026, 3, 1)) == [18, 15, None]
    assert ages(dt.date(2028, 2, 29)) == [20, 17, None]      # a leap year: on the day itself
    assert ages(dt.date(2026, 10, 15)) == [18, 16, None]
    assert ages(dt.date(2026, 10, 14)) == [18, 15, None]


# ---- evidence helpers -------------------------------------------------------------------
def test_evidence_is_sorted_by_source_then_key_each_row_once(spark):
    entries = [("payments", "P2", {"a": "1"}), ("deaths", "D1", {"b": "2"}), ("payments", "P1", {"a": "3"}),
               ("deaths", "D1", {"b": "2"}), ("enrollment", "E1", {"c": None})]
    df = spark.createDataFrame([(entries,)], "e array<struct<source:string,key:string,values:map<string,string>>>")
    got = df.select(canonical_evidence(F.col("e")).alias("e")).first().e
    assert [(x.source, x.key) for x in got] == [("deaths", "D1"), ("enrollment", "E1"), ("payments", "P1"),
                                                ("payments", "P2")]
    assert got[1]["values"] == {"c": None}


# ---- shared facts -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def facts_silver(spark, cfg):
    people = People()
    s = Silver(spark, cfg)
    p = people("p")
    s.death(p, "2026-05-01")
    s.funeral(p, "2026-04-30")
    s.household(p, "H1", status="DECEASED", status_date="2026-04-29")
    q = people("q")
    s.death(q, "2026-10-16")                       # after D: ignored
    s.household(q, "H2", status="DECEASED")         # no status_date: no date
    s.funeral(q, "2026-10-15")                      # on D: counts
    a, b, c, e = people("a"), people("b"), people("c"), people("e")
    s.marriage(a, b, "2010-01-01")                  # a-b married
    s.marriage(a, c, "2011-01-01")
    s.marriage(c, a, "2011-01-01", "DIVORCE")       # same day: divorced
    s.marriage(a, e, "2026-10-16")                  # after D
    s.household(a, "H3")
    s.household(people("a_child"), "H3", relation="CHILD")
    s.household(people("a_moved"), "H3", relation="CHILD", status="MOVED_OUT")
    return people, s.tables()


def test_death_date_is_the_earliest_date_up_to_d(spark, cfg, check_date, facts_silver):
    people, tables = facts_silver
    with Facts(tables, check_date, cfg.rules.shared, cfg.contract) as facts:
        dead = {r.person_id: (r.death_date, r.death_month) for r in facts.dead.collect()}
    assert dead == {people("p"): (dt.date(2026, 4, 29), "2026-04"), people("q"): (dt.date(2026, 10, 15), "2026-10")}


def test_spouse_and_family(spark, cfg, check_date, facts_silver):
    people, tables = facts_silver
    a = people("a")
    with Facts(tables, check_date, cfg.rules.shared, cfg.contract) as facts:
        spouses = {(r.person_id, r.spouse_id) for r in facts.spouses.collect()}
        family = facts.family(spark.createDataFrame([(a,)], "person_id string"))
        members = {(r.member_id, r.link_source) for r in family.collect()}
    assert spouses == {(a, people("b")), (people("b"), a)}
    assert members == {(a, None), (people("b"), "marriage"), (people("a_child"), "household")}


# ---- detect() ----------------------------------------------------------------------------
def deceased_example(s: Silver, p: str) -> None:
    """Worked example 1, with counties and a name to show where they come from."""
    s.enrollment(p, "DIBAO", "2020-01-01", county="532901", name="张三", enrollment_id="E1")
    s.death(p, "2026-07-20", report_id="D1")
    s.payment(p, "DIBAO", "2026-07", "500.00", county="532901", payment_id="P07")
    s.payment(p, "DIBAO", "2026-08", "500.00", county="532922", payment_id="P08")
    s.payment(p, "DIBAO", "2026-09", "500.00", county="532923", payment_id="P09")


def test_detect_schema_and_row_with_spark_created_frames_and_union_partitioning_on(spark, cfg, check_date):
    """The brief's createDataFrame tables, and the Spark 4.2 union workaround: detect()
    works even when the session has spark.sql.unionOutputPartitioning on, and leaves the
    setting as it found it."""
    p = People()("ex1")
    s = Silver(spark, cfg)
    deceased_example(s, p)
    key = "spark.sql.unionOutputPartitioning"
    before = spark.conf.get(key)
    spark.conf.set(key, "true")
    try:
        found = detect(s.tables(local=False), check_date, only(cfg.rules, "DECEASED"), cfg.contract)
        assert spark.conf.get(key) == "true"
    finally:
        spark.conf.set(key, before)
    expected = spark.createDataFrame([(
        "DECEASED", p, Decimal("1000.00"),
        [("deaths", "D1", {"death_date": "2026-07-20"}),
         ("enrollment", "E1", {"program": "DIBAO", "county_code": "532901", "start_date": "2020-01-01",
                               "end_date": None}),
         ("payments", "P08", {"program": "DIBAO", "pay_month": "2026-08", "amount": "500.00",
                              "county_code": "532922"}),
         ("payments", "P09", {"program": "DIBAO", "pay_month": "2026-09", "amount": "500.00",
                              "county_code": "532923"})],
        "532923", "张三")], CANDIDATE_SCHEMA)
    try:
        assert_schema_equality(found.schema, CANDIDATE_SCHEMA, ignore_nullable=True)
        assert_df_equality(found, expected, ignore_nullable=True)   # one row: no ordering (maps do not sort)
    finally:
        found.unpersist()


def test_detect_runs_only_enabled_rules(spark, cfg, check_date):
    p = People()("ex1")
    s = Silver(spark, cfg)
    deceased_example(s, p)
    s.payment(p, "TEMP_AID", "2026-09", "99.99")          # no TEMP_AID enrollment
    both = s.detect(check_date, only(cfg.rules, "DECEASED", "PAYMENT_WITHOUT_ENROLLMENT"))
    assert set(both.rows) == {("DECEASED", p), ("PAYMENT_WITHOUT_ENROLLMENT", p)}
    assert both.amount("DECEASED", p) == Decimal("1099.99")
    assert both.amount("PAYMENT_WITHOUT_ENROLLMENT", p) == Decimal("99.99")
    one = s.detect(check_date, only(cfg.rules, "PAYMENT_WITHOUT_ENROLLMENT"))
    assert set(one.rows) == {("PAYMENT_WITHOUT_ENROLLMENT", p)}
    none = s.detect(check_date, only(cfg.rules))
    assert none.rows == {}


def test_all_rules_on_empty_silver_tables(spark, cfg, check_date):
    found = detect(Silver(spark, cfg).tables(), check_date, cfg.rules, cfg.contract)
    try:
        assert found.count() == 0
        assert_schema_equality(found.schema, CANDIDATE_SCHEMA, ignore_nullable=True)
    finally:
        found.unpersist()


def test_exclusive_pairs_come_from_configuration(spark, cfg, check_date):
    people = People()
    s = Silver(spark, cfg)
    s.enrollment(people("a"), "DIBAO", "2020-01-01")
    s.enrollment(people("a"), "TEMP_AID", "2020-01-01")
    s.enrollment(people("b"), "DIBAO", "2020-01-01")
    s.enrollment(people("b"), "TEKUN", "2020-01-01")
    rules = only(cfg.rules, "EXCLUSIVE_PROGRAMS")
    spec = rules.rules["EXCLUSIVE_PROGRAMS"]
    rules = dataclasses.replace(rules, rules={**rules.rules, "EXCLUSIVE_PROGRAMS": dataclasses.replace(
        spec, params={**spec.params, "exclusive_pairs": (("TEMP_AID", "DIBAO"),)})})
    assert set(s.detect(check_date, rules).rows) == {("EXCLUSIVE_PROGRAMS", people("a"))}


# ---- the payment window: partition pruning, one scan for all payment rules, release ----------
def test_payment_window_prunes_years_is_scanned_once_and_released(spark, cfg, check_date, tmp_path):
    people = People()
    s = Silver(spark, cfg)
    p = people("p")
    deceased_example(s, p)
    for month in ("2023-12", "2024-10", "2024-11", "2026-10", "2026-11", "2027-01"):
        s.payment(people("other"), "DIBAO", month)
    s.medical(p, "2024-12-31", "1.00")
    s.medical(p, "2025-10-16", "2.00")
    tables = s.tables()
    for source in ("payments", "medical"):
        path = str(tmp_path / "silver" / source)
        (spark.createDataFrame(tables[source].collect(), silver_schema(cfg.contract[source]))
         .write.format("delta").partitionBy("_year").save(path))
        tables[source] = spark.read.format("delta").load(path)

    with Facts(tables, check_date, cfg.rules.shared, cfg.contract) as facts:
        window = facts.payments_window
        assert sorted(r.pay_month for r in window.collect()) == [
            "2024-11", "2026-07", "2026-08", "2026-09", "2026-10"]
        assert "PartitionFilters: [isnotnull(_year" in window._jdf.queryExecution().executedPlan().toString()
        assert [r.settle_date for r in facts.medical_window.collect()] == [dt.date(2025, 10, 16)]
        assert "PartitionFilters: [isnotnull(_year" in \
            facts.medical_window._jdf.queryExecution().executedPlan().toString()

        found = candidates(facts, only(cfg.rules, *PAYMENT_RULES))
        leaves = found._jdf.queryExecution().executedPlan().collectLeaves()
        leaves = [leaves.apply(i) for i in range(leaves.size())]
        cached = [leaf for leaf in leaves if leaf.nodeName() == "InMemoryTableScan"]
        raw = [leaf for leaf in leaves if leaf.nodeName() != "InMemoryTableScan"]
        assert not [leaf for leaf in raw if "silver/payments" in leaf.toString()]
        assert len(cached) >= len(PAYMENT_RULES)
        assert {r.rule_id for r in found.collect()} == {"DECEASED", "PAYMENT_WITHOUT_ENROLLMENT"}
        assert window.is_cached
    assert not window.is_cached and not facts.medical_window.is_cached


def test_detect_result_never_reads_the_sources_again(spark, cfg, check_date, tmp_path):
    """detect() releases the windows; its result must not be rebuilt from the sources
    afterwards (a frame persisted over the windows would be, running every rule twice).
    Deleting the payments table after detect() proves it: the rows still come back."""
    import shutil

    p = People()("ex1")
    s = Silver(spark, cfg)
    deceased_example(s, p)
    tables = s.tables()
    path = str(tmp_path / "silver" / "payments")
    (spark.createDataFrame(tables["payments"].collect(), silver_schema(cfg.contract["payments"]))
     .write.format("delta").partitionBy("_year").save(path))
    tables["payments"] = spark.read.format("delta").load(path)
    found = detect(tables, check_date, only(cfg.rules, "DECEASED", "PAYMENT_WITHOUT_ENROLLMENT"), cfg.contract)
    shutil.rmtree(path)
    rows = {(r.rule_id, r.person_id): r.amount_at_risk for r in found.collect()}
    assert rows == {("DECEASED", p): Decimal("1000.00")}
    plan = found._jdf.queryExecution().executedPlan().toString()
    assert "silver/payments" not in plan and "InMemoryTableScan" not in plan
