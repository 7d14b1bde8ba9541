"""The generator's plain-Python oracle against RULES.md's worked examples (no Spark)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from jobs.generate import oracle
from jobs.generate.common import make_id

D = dt.date(2026, 10, 15)
P = make_id("532901", dt.date(1960, 5, 1), 901)
Q = make_id("532901", dt.date(1962, 7, 2), 902)
KID = make_id("532901", dt.date(2016, 3, 3), 903)


def rows(source, *items, batch="2026-10-05"):
    return [(source, batch, {k: (None if v is None else str(v)) for k, v in item.items()}) for item in items]


def enrollment(eid, pid, program, start, end=None):
    return {"enrollment_id": eid, "person_id": pid, "program": program, "county_code": "532901",
            "start_date": start, "end_date": end}


def payment(pid, month, amount, program="DIBAO", n=[0]):
    n[0] += 1
    return {"payment_id": f"F{n[0]}", "person_id": pid, "program": program, "county_code": "532901",
            "pay_month": month, "amount": amount}


def run(cfg, delivered):
    return oracle.evaluate(oracle.ingest(delivered, cfg.contract, D), cfg.rules, D)


def test_deceased_worked_example(cfg):
    base = rows("enrollment", enrollment("E1", P, "DIBAO", "2020-01-01")) + rows(
        "deaths", {"report_id": "R1", "person_id": P, "death_date": "2026-07-20"}) + rows(
        "payments", *[payment(P, m, "500.00") for m in ("2026-07", "2026-08", "2026-09")])
    assert run(cfg, base)[("DECEASED", P)] == Decimal("1000.00")
    ended = rows("enrollment", enrollment("E1", P, "DIBAO", "2020-01-01", "2026-07-31")) + rows(
        "deaths", {"report_id": "R1", "person_id": P, "death_date": "2026-07-20"}) + rows(
        "payments", payment(P, "2026-07", "500.00"))
    assert ("DECEASED", P) not in run(cfg, ended)
    assert run(cfg, ended + rows("payments", payment(P, "2026-08", "500.00")))[("DECEASED", P)] == Decimal("500.00")


def test_imprisoned_worked_example(cfg):
    d = rows("enrollment", enrollment("E1", P, "DIBAO", "2020-01-01")) + rows(
        "prison", {"record_id": "Z1", "person_id": P, "admission_date": "2026-03-10", "release_date": "2026-09-30"}) + rows(
        "payments", *[payment(P, f"2026-{m:02d}", "500.00") for m in range(1, 11)])
    assert run(cfg, d)[("IMPRISONED", P)] == Decimal("2500.00")


def test_duplicate_payment_and_payment_without_enrollment_examples(cfg):
    d = rows("enrollment", enrollment("E1", P, "DIBAO", "2025-01-15", "2026-03-31")) + rows(
        "payments", payment(P, "2025-01", "500.00"), payment(P, "2026-04", "500.00"), payment(P, "2024-10", "500.00"),
        payment(P, "2026-11", "500.00"))
    assert run(cfg, d) == {("PAYMENT_WITHOUT_ENROLLMENT", P): Decimal("500.00")}
    d = rows("enrollment", enrollment("E1", Q, "DIBAO", "2025-01-01")) + rows(
        "payments", payment(Q, "2026-05", "500.00"), payment(Q, "2026-05", "480.00"), payment(Q, "2026-06", "500.00"),
        payment(Q, "2026-06", "500.00"))
    assert run(cfg, d) == {("DUPLICATE_PAYMENT", Q): Decimal("980.00")}


@pytest.mark.parametrize("total, fires", [("60000.00", True), ("59999.99", False)])
def test_high_income_threshold(cfg, total, fires):
    d = rows("enrollment", enrollment("E1", P, "DIBAO", "2024-01-01")) + rows(
        "tax", {"record_id": "T1", "person_id": P, "tax_month": "2025-11", "income": total})
    assert (("HIGH_INCOME", P) in run(cfg, d)) is fires


def test_child_unsupported_example_and_dirty_forms(cfg):
    household = rows("household", {"person_id": KID, "county_code": "532901", "household_id": "H1",
                                   "relation_to_head": "CHILD", "father_id": P[:6] + P[8:17],  # 15 digits
                                   "mother_id": " " + Q.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
                                   "status": "正常"})
    father = rows("prison", {"record_id": "Z1", "person_id": P, "admission_date": "20250101"})
    for level, dtype, fires in [(2, "PHYSICAL", True), (3, "PHYSICAL", False), (3, "精神残疾", True)]:
        mother = rows("disability", {"cert_no": "C1", "person_id": Q, "disability_type": dtype, "level": level,
                                     "issue_date": "2019/03/01", "status": "有效"})
        assert (("CHILD_UNSUPPORTED", KID) in run(cfg, household + father + mother)) is fires


def test_key_conflicts_are_quarantined_and_later_batches_win(cfg):
    a = enrollment("E1", P, "DIBAO", "2020-01-01")
    conflict = rows("enrollment", a, dict(a, start_date="2020-02-01"))
    assert run(cfg, conflict + rows("payments", payment(P, "2026-09", "500.00"))) == {
        ("PAYMENT_WITHOUT_ENROLLMENT", P): Decimal("500.00")}
    later = rows("enrollment", a) + rows("enrollment", dict(a, end_date="2026-10-14"), batch="2026-10-15")
    tables = oracle.ingest(later, cfg.contract, D)
    assert tables["enrollment"][0]["end_date"] == dt.date(2026, 10, 14)


def with_rule(cfg, rule_id, **changes):
    spec = dataclasses.replace(cfg.rules.rules[rule_id], **changes)
    return dataclasses.replace(cfg.rules, rules=dict(cfg.rules.rules, **{rule_id: spec}))


def test_only_enabled_rules_run_each_with_its_own_parameters(cfg):
    d = rows("enrollment", enrollment("E1", P, "DIBAO", "2024-01-01")) + rows(
        "tax", {"record_id": "T1", "person_id": P, "tax_month": "2025-11", "income": "50000.00"}) + rows(
        "deaths", {"report_id": "R1", "person_id": P, "death_date": "2026-07-20"})
    tables = oracle.ingest(d, cfg.contract, D)
    assert set(oracle.evaluate(tables, cfg.rules, D)) == {("DECEASED", P)}
    lower = with_rule(cfg, "HIGH_INCOME", params={"income_threshold": Decimal("50000")})
    assert set(oracle.evaluate(tables, lower, D)) == {("DECEASED", P), ("HIGH_INCOME", P)}
    off = with_rule(cfg, "DECEASED", enabled=False)
    assert oracle.evaluate(tables, off, D) == {}


def test_the_payment_window_is_the_shared_lookback(cfg):
    d = rows("enrollment", enrollment("E1", P, "DIBAO", "2025-01-01", "2025-12-31")) + rows(
        "payments", payment(P, "2024-10", "500.00"))   # M(D) - 24: just before the 24-month window
    assert run(cfg, d) == {}
    longer = dataclasses.replace(cfg.rules, shared=dataclasses.replace(cfg.rules.shared, lookback_months=36))
    assert oracle.evaluate(oracle.ingest(d, cfg.contract, D), longer, D) == {
        ("PAYMENT_WITHOUT_ENROLLMENT", P): Decimal("500.00")}
