"""jobs.gold.warnings: warning_id (HMAC), name and place resolution, score, evidence."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.rules.evidence import evidence_json
from jobs.rules.registry import ScoreSettings
from jobs.gold.warnings import (WARNING_COLUMNS, WARNINGS_SCHEMA, build_detected,
                                score_column, warning_id_column,
                                with_resolved_place_and_name)
from jobs.tables import silver_schema

CANDIDATES = ("rule_id string, person_id string, amount_at_risk decimal(14,2), "
              "evidence array<struct<source:string,key:string,values:map<string,string>>>, "
              "source_county string, source_name string")


def make_id(area: str = "532901", birth: str = "19800101", seq: str = "001") -> str:
    body = area + birth + seq
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def py_warning_id(secret: str, rule_id: str, person_id: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{rule_id}|{person_id}".encode("utf-8"),
                      hashlib.sha256).hexdigest()
    return "W" + digest[:20].upper()


def enrollment_df(spark, cfg, rows):
    schema = silver_schema(cfg.contract["enrollment"])
    full = []
    for r in rows:
        base = {f.name: None for f in schema.fields}
        base.update({"_batch": "b1", "_file": "f.csv", "_run_id": "r0",
                     "_ingested_at": dt.datetime(2026, 10, 1), "program": "DIBAO"})
        base.update(r)
        full.append(base)
    return spark.createDataFrame(full, schema)


def household_df(spark, cfg, rows):
    schema = silver_schema(cfg.contract["household"])
    full = []
    for r in rows:
        base = {f.name: None for f in schema.fields}
        base.update({"_batch": "b1", "_file": "f.csv", "_run_id": "r0",
                     "_ingested_at": dt.datetime(2026, 10, 1), "status": "NORMAL",
                     "household_id": "H1"})
        base.update(r)
        full.append(base)
    return spark.createDataFrame(full, schema)


# ---------------------------------------------------------------------------------
# warning_id
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("secret", ["hedui-demo-secret-change-me", "k", "大理州民政局-密钥",
                                    "x" * 64, "long-secret-" * 10])
def test_warning_id_is_hmac_sha256(spark, secret):
    pids = [make_id(seq="001"), make_id(birth="20121231", seq="123"), None]
    df = spark.createDataFrame([("DECEASED", p) for p in pids] + [(None, pids[0])],
                               "rule_id string, person_id string")
    got = [r[0] for r in df.select(warning_id_column(F.col("rule_id"), F.col("person_id"),
                                                     secret)).collect()]
    assert got[0] == py_warning_id(secret, "DECEASED", pids[0])
    assert got[1] == py_warning_id(secret, "DECEASED", pids[1])
    assert got[2] is None and got[3] is None  # a null part gives no id


def test_warning_id_stable_keyed_and_does_not_reveal_the_id(spark):
    pid = make_id()
    df = spark.createDataFrame([("DECEASED", pid), ("IMPRISONED", pid), ("DECEASED", pid)],
                               "rule_id string, person_id string")
    ids = [r[0] for r in df.select(warning_id_column(F.col("rule_id"), F.col("person_id"), "s1"))
           .collect()]
    other = df.select(warning_id_column(F.col("rule_id"), F.col("person_id"), "s2")).first()[0]
    assert ids[0] == ids[2]                       # stable
    assert ids[0] != ids[1]                       # per rule
    assert other != ids[0]                        # keyed
    assert len(ids[0]) == 21 and ids[0].startswith("W")
    assert pid not in ids[0] and pid[-4:] not in ids[0]
    assert ids[0] != "W" + hashlib.sha256(f"DECEASED|{pid}".encode()).hexdigest()[:20].upper()
    with pytest.raises(ValueError):
        warning_id_column(F.col("rule_id"), F.col("person_id"), "")


# ---------------------------------------------------------------------------------
# name and place
# ---------------------------------------------------------------------------------
def test_name_and_place_resolution_order(spark, cfg, check_date):
    p1, p2, p3, p4, p5, p6 = (make_id(seq=f"00{i}") for i in range(1, 7))
    cands = spark.createDataFrame([
        ("DECEASED", p1, None, [], "532923", "源甲"),
        ("DECEASED", p2, None, [], "532923", "源乙"),
        ("DECEASED", p3, None, [], "532923", "源丙"),
        ("DECEASED", p4, None, [], None, None),
        ("DECEASED", p5, None, [], None, None),
        ("DECEASED", p6, None, [], "532924", None),
    ], CANDIDATES)
    d = check_date
    enr = enrollment_df(spark, cfg, [
        # p1: two active enrollments -> latest start_date; a later one not active yet
        {"enrollment_id": "E1", "person_id": p1, "name": "旧名", "county_code": "532922",
         "township_code": "532922100", "start_date": dt.date(2020, 1, 1)},
        {"enrollment_id": "E2", "person_id": p1, "name": "登记名", "county_code": "532925",
         "township_code": "532925100", "start_date": dt.date(2024, 1, 1)},
        {"enrollment_id": "E3", "person_id": p1, "name": "未来名", "county_code": "532926",
         "township_code": "532926100", "start_date": d + dt.timedelta(days=1)},
        # p2: ended enrollment only -> household's place; its name is the latest enrollment's
        {"enrollment_id": "E4", "person_id": p2, "name": "乙一", "county_code": "532922",
         "start_date": dt.date(2015, 1, 1), "end_date": dt.date(2018, 1, 1)},
        {"enrollment_id": "E5", "person_id": p2, "name": "乙二", "county_code": "532922",
         "start_date": dt.date(2019, 1, 1), "end_date": d - dt.timedelta(days=1)},
        # p4: same start_date twice, both active -> smallest enrollment_id; ends on D counts
        {"enrollment_id": "E9", "person_id": p4, "name": "丁九", "county_code": "532927",
         "township_code": "532927100", "start_date": dt.date(2022, 1, 1), "end_date": d},
        {"enrollment_id": "E8", "person_id": p4, "name": "丁八", "county_code": "532928",
         "township_code": None, "start_date": dt.date(2022, 1, 1)},
        # p6: enrollment starting after D: not active; no household -> source county
        {"enrollment_id": "E7", "person_id": p6, "name": None, "county_code": "532929",
         "start_date": d + dt.timedelta(days=30)},
    ])
    hh = household_df(spark, cfg, [
        {"person_id": p1, "name": "户籍名", "county_code": "532901", "township_code": "532901003"},
        {"person_id": p2, "name": None, "county_code": "532923", "township_code": "532923101"},
        {"person_id": p5, "name": "戊", "county_code": "532930", "township_code": None,
         "status": "DECEASED"},
    ])
    out = {r["person_id"]: r for r in
           with_resolved_place_and_name(cands, enr, hh, d).collect()}
    assert len(out) == 6
    assert (out[p1]["person_name"], out[p1]["county_code"], out[p1]["township_code"]) == \
        ("户籍名", "532925", "532925100")
    assert (out[p2]["person_name"], out[p2]["county_code"], out[p2]["township_code"]) == \
        ("乙二", "532923", "532923101")
    assert (out[p3]["person_name"], out[p3]["county_code"], out[p3]["township_code"]) == \
        ("源丙", "532923", None)
    assert (out[p4]["person_name"], out[p4]["county_code"], out[p4]["township_code"]) == \
        ("丁八", "532928", None)  # same start_date: smallest enrollment_id (E8) for both
    assert (out[p5]["person_name"], out[p5]["county_code"], out[p5]["township_code"]) == \
        ("戊", "532930", None)
    assert (out[p6]["person_name"], out[p6]["county_code"], out[p6]["township_code"]) == \
        (None, "532924", None)


# ---------------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------------
def test_score(spark):
    settings = ScoreSettings(amount_step=Decimal("500"), amount_max_points=20)
    df = spark.createDataFrame([
        (80, None), (80, Decimal("0.00")), (80, Decimal("499.99")), (80, Decimal("500.00")),
        (80, Decimal("1000.00")), (60, Decimal("9999.99")), (60, Decimal("10000.00")),
        (60, Decimal("123456.00")), (95, Decimal("5000.00")), (None, Decimal("500.00")),
    ], "base int, amount decimal(14,2)")
    got = [r[0] for r in df.select(score_column(F.col("base"), F.col("amount"), settings)).collect()]
    assert got == [80, 80, 80, 81, 82, 79, 80, 80, 100, 1]


# ---------------------------------------------------------------------------------
# evidence and build_detected
# ---------------------------------------------------------------------------------
def test_evidence_json_is_sorted_and_deterministic(spark):
    df = spark.createDataFrame([
        ([("payments", "P2", {"b": "1", "a": "2"}), ("deaths", "D1", {"z": None, "c": "大理"}),
          ("payments", "P10", {})],),
        (None,),
    ], "e array<struct<source:string,key:string,values:map<string,string>>>")
    got = [r[0] for r in df.select(evidence_json(F.col("e"))).collect()]
    assert json.loads(got[0]) == [
        {"source": "deaths", "key": "D1", "values": {"c": "大理", "z": None}},
        {"source": "payments", "key": "P10", "values": {}},
        {"source": "payments", "key": "P2", "values": {"a": "2", "b": "1"}},
    ]
    assert got[0].index('"c"') < got[0].index('"z"') and got[0].index('"a"') < got[0].index('"b"')
    assert "大理" in got[0]  # readable, not \\u-escaped
    assert got[1] == "[]"


def test_build_detected_columns_and_values(spark, cfg, check_date):
    pid = make_id()
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, warning_id_secret="t-secret"))
    cands = spark.createDataFrame([
        ("DECEASED", pid, Decimal("1000.00"),
         [("payments", "P1", {"pay_month": "2026-08", "amount": "500.00"})], "532901", "甲"),
        ("IN_CUSTODY", pid, None, [("corrections", "C1", {"kind": "DETENTION"})], None, None),
    ], CANDIDATES)
    empty = {"enrollment": enrollment_df(spark, cfg, []), "household": household_df(spark, cfg, [])}
    out = build_detected(cands, empty, cfg, check_date)
    assert [(f.name, f.dataType) for f in out.schema.fields] == \
        [(f.name, f.dataType) for f in WARNINGS_SCHEMA.fields]
    assert out.columns == WARNING_COLUMNS
    rows = {r["rule_id"]: r for r in out.collect()}
    dec = rows["DECEASED"]
    assert dec["warning_id"] == py_warning_id("t-secret", "DECEASED", pid)
    assert dec["category"] == "INELIGIBLE"
    assert dec["score"] == cfg.rules.rules["DECEASED"].base_score + 2
    assert dec["amount_at_risk"] == Decimal("1000.00")
    assert dec["county_code"] == "532901" and dec["township_code"] is None
    assert dec["person_name"] == "甲"
    assert json.loads(dec["evidence"]) == [
        {"source": "payments", "key": "P1", "values": {"amount": "500.00", "pay_month": "2026-08"}}]
    assert dec["status"] is None and dec["first_detected"] is None and dec["run_id"] is None
    cus = rows["IN_CUSTODY"]
    assert cus["score"] == cfg.rules.rules["IN_CUSTODY"].base_score
    assert cus["amount_at_risk"] is None and cus["county_code"] is None

    again = build_detected(cands, empty, cfg, check_date)
    assert_df_equality(out, again, ignore_row_order=True)
