"""jobs.gold.summary: the run's text summary names no person."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from jobs.gold.lifecycle import warnings_path
from jobs.gold.summary import summarize
from jobs.gold.warnings import WARNINGS_SCHEMA

D = dt.date(2026, 10, 15)
PID = "532901198001010010"
OTHER = "532923195505057770"


def row(wid, rule, status, county, amount, name):
    return {"warning_id": wid, "rule_id": rule, "category": "INELIGIBLE", "person_id": PID,
            "person_name": name, "county_code": county, "township_code": None, "score": 80,
            "amount_at_risk": amount,
            "evidence": json.dumps([{"source": "household", "key": PID, "values": {}}]),
            "status": status, "first_detected": D, "last_detected": D, "run_id": "r1"}


def test_summary(spark, cfg, tmp_path):
    wh = str(tmp_path / "wh")
    spark.createDataFrame([
        row("W1", "DECEASED", "NEW", "532901", Decimal("1000.00"), "王小明"),
        row("W2", "DECEASED", "OPEN", "532923", Decimal("500.50"), "赵大"),
        row("W3", "DECEASED", "RESOLVED", "532923", Decimal("9999.00"), "钱二"),
        row("W4", "IN_CUSTODY", "DISMISSED", None, None, "孙三"),
        row("W5", "IN_CUSTODY", "NEW", None, None, None),
    ], WARNINGS_SCHEMA).write.format("delta").save(warnings_path(wh))

    text = summarize(spark, wh, D, ["tax", "medical"],
                     {"run_id": "r9", "rows": {"enrollment": 12, "payments": 40},
                      "note": f"checked {OTHER}"}, cfg=cfg)
    lines = text.splitlines()
    assert "2026-10-15" in lines[0]
    deceased = next(x for x in lines if x.strip().startswith("DECEASED"))
    assert deceased.split()[-6:] == ["1", "1", "1", "0", "0", "3"]   # NEW OPEN RESOLVED CONF DISM total
    custody = next(x for x in lines if x.strip().startswith("IN_CUSTODY"))
    assert custody.split()[-6:] == ["1", "0", "0", "0", "1", "2"]
    assert any("大理市" in x and "1000.00" in x for x in lines)
    assert any("祥云县" in x and "500.50" in x for x in lines)
    assert any(x.strip().startswith("unassigned") for x in lines)
    assert "1,500.50" in text                     # open amount: RESOLVED not counted
    assert "Open warnings: 3" in text
    assert "medical, tax" in text
    assert "enrollment=12" in text and "r9" in text
    for secret in (PID, OTHER, "王小明", "赵大", "钱二", "孙三"):
        assert secret not in text

    # without the table and without cfg: still a summary
    empty = summarize(spark, str(tmp_path / "none"), D, [], {})
    assert "(no warnings)" in empty and "Stale sources" in empty and "none" in empty
