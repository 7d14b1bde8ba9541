"""jobs.gold.export: per-county CSVs (BOM, Chinese headers, masking, order) and feedback templates."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from decimal import Decimal

import pytest

from jobs.gold.export import (FEEDBACK_HEADERS, WARNING_HEADERS, ExportError, evidence_summary,
                              export_counties, mask_id, mask_ids_in_text)
from jobs.gold.lifecycle import apply_detection, warnings_path
from jobs.gold.warnings import WARNINGS_SCHEMA, build_detected
from jobs.tables import silver_schema

D1 = dt.date(2026, 10, 15)
D2 = dt.date(2026, 11, 15)


def make_id(area: str = "532901", birth: str = "19800101", seq: str = "001") -> str:
    body = area + birth + seq
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


PA, PB, PC, PD, PE, PF, PG, PH = (make_id(seq=f"10{i}") for i in range(8))
FATHER = make_id(birth="19550505", seq="777")


def ev(*rows) -> str:
    return json.dumps([{"source": s, "key": k, "values": v} for s, k, v in rows],
                      ensure_ascii=False, separators=(",", ":"))


def warning(wid, pid, status, score, county, township=None, amount=None, rule="DECEASED",
            category="INELIGIBLE", name="张三", evidence=None, last=D2):
    return {"warning_id": wid, "rule_id": rule, "category": category, "person_id": pid,
            "person_name": name, "county_code": county, "township_code": township, "score": score,
            "amount_at_risk": amount, "evidence": evidence or ev(("payments", "P1", {"amount": "500.00"})),
            "status": status, "first_detected": D1, "last_detected": last, "run_id": "r1"}


@pytest.fixture
def warehouse(spark, tmp_path):
    wh = str(tmp_path / "wh")
    rows = [
        warning("W0000000000000000000B", PB, "OPEN", 70, "532901", "532901003"),
        warning("W0000000000000000000A", PA, "NEW", 90, "532901", "532901004", Decimal("1000.00"),
                evidence=ev(("household", PA, {"father_id": FATHER, "status": "NORMAL"}),
                            ("payments", "P9", {"amount": "500.00", "pay_month": "2026-08"}))),
        warning("W0000000000000000000C", PC, "NEW", 70, "532901", None, rule="CHILD_UNSUPPORTED",
                category="PROACTIVE", name="李,四"),
        warning("W0000000000000000000D", PD, "OPEN", 55, "532923", "532923999", rule="HIGH_INCOME"),
        warning("W0000000000000000000E", PE, "NEW", 40, None, rule="MEDICAL_BURDEN",
                category="PROACTIVE"),
        warning("W0000000000000000000F", PF, "OPEN", 60, "999999", rule="DUPLICATE_PAYMENT",
                category="DUPLICATE", amount=Decimal("20.50")),
        warning("W0000000000000000000G", PG, "RESOLVED", 99, "532901", last=D1),
        warning("W0000000000000000000H", PH, "CONFIRMED", 99, "532901"),
        warning("W0000000000000000000I", PH, "DISMISSED", 99, None),
    ]
    spark.createDataFrame(rows, WARNINGS_SCHEMA).write.format("delta").save(warnings_path(wh))
    return wh


def read_csv(path: str) -> tuple[bytes, list[list[str]]]:
    with open(path, "rb") as fh:
        raw = fh.read()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_mask_helpers():
    assert mask_id(PA) == PA[:6] + "********" + PA[-4:]
    assert mask_id(None) is None and mask_id("12345") == "********"
    text = f"household {PA}: father_id={FATHER}, amount=500.00, long=12345678901234567890"
    masked = mask_ids_in_text(text)
    assert PA not in masked and FATHER not in masked
    assert mask_id(PA) in masked and mask_id(FATHER) in masked
    # any long run of digits may be a dirty ID number: masked too (jobs.masking)
    assert "12345678901234567890" not in masked and "500.00" in masked
    assert mask_ids_in_text("11010519491231002X") == "110105********002X"
    line = evidence_summary(ev(("payments", "P1", {"b": "2", "a": None}), ("deaths", "D1", {})))
    assert line == "payments P1: a=, b=2; deaths D1"
    assert evidence_summary(None) == ""


def test_export_files_per_county(spark, cfg, warehouse, tmp_path):
    out = str(tmp_path / "out")
    result = export_counties(spark, cfg, warehouse, out)
    assert result["check_date"] == "2026-11-15"          # latest check date in the table
    assert result["masked"] is True and result["rows"] == 6
    assert sorted(os.listdir(out)) == sorted([*cfg.geo.counties, "unassigned"])
    assert len(cfg.geo.counties) == 12
    for folder in os.listdir(out):
        assert sorted(os.listdir(os.path.join(out, folder))) == \
            ["feedback_2026-11-15.csv", "warnings_2026-11-15.csv"]   # no .crc side files
    assert result["counties"]["532901"] == 3 and result["counties"]["532923"] == 1
    assert result["unassigned"] == 2

    raw, rows = read_csv(os.path.join(out, "532901", "warnings_2026-11-15.csv"))
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    assert rows[0] == WARNING_HEADERS
    assert [r[0] for r in rows[1:]] == ["W0000000000000000000A", "W0000000000000000000B",
                                        "W0000000000000000000C"]   # score desc, then id
    rec = dict(zip(WARNING_HEADERS, rows[1]))
    assert rec["规则"] == "死亡人员仍享受救助" and rec["类别"] == "不符合条件"
    assert rec["姓名"] == "张三"
    assert rec["身份证号"] == PA[:6] + "********" + PA[-4:]
    assert rec["区县"] == "大理市" and rec["乡镇"] == cfg.geo.townships["532901004"]
    assert (rec["风险分"], rec["涉及金额"], rec["状态"]) == ("90", "1000.00", "NEW")
    assert (rec["首次发现"], rec["最近发现"]) == ("2026-10-15", "2026-11-15")
    assert "household" in rec["证据摘要"] and "pay_month=2026-08" in rec["证据摘要"]
    assert mask_id(FATHER) in rec["证据摘要"] and "\n" not in rec["证据摘要"]
    text = raw.decode("utf-8-sig")
    for pid in (PA, PB, PC, FATHER):
        assert pid not in text
    third = dict(zip(WARNING_HEADERS, rows[3]))
    assert (third["规则"], third["类别"], third["姓名"], third["乡镇"], third["涉及金额"]) == \
        ("疑似事实无人抚养儿童", "主动发现", "李,四", "", "")

    _, rows = read_csv(os.path.join(out, "532923", "warnings_2026-11-15.csv"))
    rec = dict(zip(WARNING_HEADERS, rows[1]))
    assert (rec["区县"], rec["乡镇"], rec["规则"]) == ("祥云县", "532923999", "收入超标")

    raw, rows = read_csv(os.path.join(out, "532922", "warnings_2026-11-15.csv"))
    assert raw.startswith(b"\xef\xbb\xbf") and rows == [WARNING_HEADERS]      # empty county

    _, rows = read_csv(os.path.join(out, "unassigned", "warnings_2026-11-15.csv"))
    got = {r[0]: dict(zip(WARNING_HEADERS, r)) for r in rows[1:]}
    assert list(got) == ["W0000000000000000000F", "W0000000000000000000E"]
    assert got["W0000000000000000000F"]["区县"] == "999999"
    assert got["W0000000000000000000F"]["涉及金额"] == "20.50"
    assert got["W0000000000000000000E"]["区县"] == ""


def test_feedback_templates(spark, cfg, warehouse, tmp_path):
    out = str(tmp_path / "out")
    export_counties(spark, cfg, warehouse, out)
    ids = []
    for folder in sorted(os.listdir(out)):
        _, warnings = read_csv(os.path.join(out, folder, "warnings_2026-11-15.csv"))
        raw, rows = read_csv(os.path.join(out, folder, "feedback_2026-11-15.csv"))
        assert raw.startswith(b"\xef\xbb\xbf")
        assert rows[0] == FEEDBACK_HEADERS
        assert [r[1] for r in rows[1:]] == [w[0] for w in warnings[1:]]
        for r in rows[1:]:
            assert r[0] and r[2:] == ["", "", "", ""]
            ids.append(r[0])
    assert len(ids) == 6 and len(set(ids)) == 6
    export_counties(spark, cfg, warehouse, str(tmp_path / "again"))
    _, rows = read_csv(str(tmp_path / "again" / "532901" / "feedback_2026-11-15.csv"))
    assert not {r[0] for r in rows[1:]} & set(ids)          # fresh ids at every export


def test_unmasked_as_of_and_uri(spark, cfg, warehouse, tmp_path):
    out = tmp_path / "plain"
    result = export_counties(spark, cfg, warehouse, f"file://{out}", as_of=D1, unmasked=True)
    assert result["masked"] is False and result["check_date"] == "2026-10-15"
    _, rows = read_csv(str(out / "532901" / "warnings_2026-10-15.csv"))
    rec = dict(zip(WARNING_HEADERS, rows[1]))
    assert rec["身份证号"] == PA and FATHER in rec["证据摘要"]


def test_export_without_table(spark, cfg, tmp_path):
    with pytest.raises(ExportError):
        export_counties(spark, cfg, str(tmp_path / "nowh"), str(tmp_path / "out"))
    result = export_counties(spark, cfg, str(tmp_path / "nowh"), str(tmp_path / "out"), as_of=D1)
    assert result["rows"] == 0
    _, rows = read_csv(str(tmp_path / "out" / "unassigned" / "warnings_2026-10-15.csv"))
    assert rows == [WARNING_HEADERS]


@pytest.mark.slow
def test_from_candidates_to_export(spark, cfg, check_date, run_id, tmp_path):
    wh, out = str(tmp_path / "wh"), str(tmp_path / "out")
    cands = spark.createDataFrame([
        ("DECEASED", PA, Decimal("1000.00"),
         [("payments", "P2", {"pay_month": "2026-09", "amount": "500.00"}),
          ("deaths", PA, {"death_date": "2026-07-20"})], "532901", "付款名"),
        ("MEDICAL_BURDEN", PB, None, [("medical", "M1", {"out_of_pocket": "25000.00"})], None, None),
    ], "rule_id string, person_id string, amount_at_risk decimal(14,2), "
       "evidence array<struct<source:string,key:string,values:map<string,string>>>, "
       "source_county string, source_name string")
    household = spark.createDataFrame(
        [{"person_id": PA, "name": "户籍名", "county_code": "532923", "township_code": None,
          "household_id": "H1", "status": "NORMAL", "_batch": "b1", "_file": "f", "_run_id": "r0",
          "_ingested_at": dt.datetime(2026, 10, 1)}], silver_schema(cfg.contract["household"]))
    enrollment = spark.createDataFrame([], silver_schema(cfg.contract["enrollment"]))
    detected = build_detected(cands, {"household": household, "enrollment": enrollment}, cfg,
                              check_date)
    apply_detection(spark, wh, detected, check_date, run_id)
    result = export_counties(spark, cfg, wh, out)
    assert result["check_date"] == check_date.isoformat()
    assert (result["counties"]["532923"], result["unassigned"]) == (1, 1)
    _, rows = read_csv(os.path.join(out, "532923", f"warnings_{check_date.isoformat()}.csv"))
    rec = dict(zip(WARNING_HEADERS, rows[1]))
    assert (rec["姓名"], rec["区县"], rec["状态"], rec["风险分"]) == \
        ("户籍名", "祥云县", "NEW", str(cfg.rules.rules["DECEASED"].base_score + 2))
    assert rec["证据摘要"] == (f"deaths {mask_id(PA)}: death_date=2026-07-20; "
                              "payments P2: amount=500.00, pay_month=2026-09")
    assert rec["预警编号"].startswith("W") and len(rec["预警编号"]) == 21
