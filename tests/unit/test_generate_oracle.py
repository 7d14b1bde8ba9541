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
    # DIBAO_EDGE: covered (HIGH_INCOME) and active (DECEASED), but not DIBAO (no FAMILY_INCOME)
    d = rows("enrollment", enrollment("E1", P, "DIBAO_EDGE", "2024-01-01")) + rows(
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


# ---------------------------------------------------------------------------------
# Worked examples 9-13 (the new rules), each boundary both ways
# ---------------------------------------------------------------------------------
WIFE = make_id("532923", dt.date(1969, 4, 8), 902)
HUSBAND = make_id("532923", dt.date(1966, 2, 1), 901)
SON = make_id("532923", dt.date(1995, 9, 9), 903)
LAST_12 = [f"{y}-{m:02d}" for y, m in [(2025, 11), (2025, 12)] + [(2026, k) for k in range(1, 11)]]


def member(pid, household, relation, status="NORMAL"):
    return {"person_id": pid, "county_code": "532923", "household_id": household, "relation_to_head": relation,
            "status": status}


def insurance(pid, item, month, amount, n=[0]):
    n[0] += 1
    return {"record_id": f"S{n[0]}", "person_id": pid, "item": item, "month": month, "amount": amount}


def tax(pid, month, income, n=[0]):
    n[0] += 1
    return {"record_id": f"T{n[0]}", "person_id": pid, "tax_month": month, "income": income}


def marriage(a, b, date="2000-05-01", kind="MARRIAGE", n=[0]):
    n[0] += 1
    return {"registration_id": f"M{n[0]}", "person_id_a": a, "person_id_b": b, "kind": kind, "reg_date": date}


def family_of_three(pension: str):
    """Worked example 9: she is on DIBAO; the husband is her spouse and in her household."""
    return (rows("household", member(HUSBAND, "H1", "HEAD"), member(WIFE, "H1", "SPOUSE"), member(SON, "H1", "CHILD"))
            + rows("marriage", marriage(HUSBAND, WIFE))
            + rows("enrollment", enrollment("E1", WIFE, "DIBAO", "2020-01-01"))
            + rows("tax", *[tax(HUSBAND, m, "2500.00") for m in LAST_12], tax(SON, "2025-10", "5000.00"))
            + rows("social_insurance", *[insurance(WIFE, "PENSION", m, pension) for m in LAST_12]))


def test_family_income_worked_example(cfg):
    assert ("FAMILY_INCOME", WIFE) in run(cfg, family_of_three("600.00"))      # 37200.00 >= 36000
    low = family_of_three("400.00")                                            # 34800.00: the husband once,
    assert ("FAMILY_INCOME", WIFE) not in run(cfg, low)                        # the son's 2025-10 never
    assert ("FAMILY_INCOME", WIFE) in run(cfg, low + rows("tax", tax(SON, "2026-10", "1200.00")))   # 36000.00


@pytest.mark.parametrize("son_income, fires", [("12000.00", True), ("11999.99", False)])
def test_family_income_exactly_at_the_standard(cfg, son_income, fires):
    """Two persons: 24000.00 fires, 23999.99 does not; two PENSION rows of a month add up."""
    d = (rows("household", member(HUSBAND, "H2", "HEAD"), member(SON, "H2", "CHILD"))
         + rows("enrollment", enrollment("E1", HUSBAND, "DIBAO", "2023-01-01"))
         + rows("social_insurance", *[insurance(HUSBAND, "PENSION", m, "500.00") for m in LAST_12 for _ in (1, 2)])
         + rows("tax", tax(SON, "2026-03", son_income)))
    assert (("FAMILY_INCOME", HUSBAND) in run(cfg, d)) is fires


def test_family_income_spouse_elsewhere_dead_or_without_household(cfg):
    alone = rows("household", member(WIFE, "H3", "HEAD"), member(HUSBAND, "H4", "HEAD")) + rows(
        "marriage", marriage(HUSBAND, WIFE)) + rows("enrollment", enrollment("E1", WIFE, "DIBAO", "2022-01-01"))
    # the spouse in another household: his income counts ...
    assert ("FAMILY_INCOME", WIFE) in run(cfg, alone + rows("tax", tax(HUSBAND, "2026-01", "24000.00")))
    # ... and he is a person: her own 12000.00 is under 2 x 12000; contributions and benefits are no income
    own = rows("social_insurance", *[insurance(WIFE, "PENSION", m, "1000.00") for m in LAST_12],
               *[insurance(WIFE, "EMPLOYEE_CONTRIBUTION", m, "1000.00") for m in LAST_12],
               insurance(WIFE, "UNEMPLOYMENT_BENEFIT", "2026-09", "1548.00"))
    assert ("FAMILY_INCOME", WIFE) not in run(cfg, alone + own)
    divorced = rows("marriage", marriage(HUSBAND, WIFE, "2010-01-01", "DIVORCE"))
    assert ("FAMILY_INCOME", WIFE) in run(cfg, alone + own + divorced)        # alone again: 12000 >= 12000
    # no household row: herself and her spouse, who counts although dead (and his pension before the death)
    d = rows("marriage", marriage(HUSBAND, WIFE)) + rows("enrollment", enrollment("E1", WIFE, "DIBAO", "2022-01-01")) + rows(
        "deaths", {"report_id": "R1", "person_id": HUSBAND, "death_date": "2026-07-07"}) + rows(
        "social_insurance", *[insurance(HUSBAND, "PENSION", m, "3000.00") for m in LAST_12[:8]])
    assert ("FAMILY_INCOME", WIFE) in run(cfg, d)                              # 24000.00 for 2 persons
    assert ("FAMILY_INCOME", WIFE) not in run(cfg, d[:-1])                     # 21000.00


def collapse(wife_item_month: str | None, benefit_month: str = "2026-09", wife_amount: str = "416.00"):
    """Worked example 10: he is not covered and draws a benefit; his wife lives with him."""
    d = rows("household", member(HUSBAND, "H5", "HEAD"), member(WIFE, "H5", "SPOUSE")) + rows(
        "marriage", marriage(HUSBAND, WIFE)) + rows(
        "social_insurance", insurance(HUSBAND, "UNEMPLOYMENT_BENEFIT", benefit_month, "1710.00"))
    if wife_item_month:
        d += rows("social_insurance", insurance(WIFE, "EMPLOYEE_CONTRIBUTION", wife_item_month, wife_amount))
    return d


@pytest.mark.parametrize("wife_month, benefit_month, wife_amount, fires", [
    ("2026-07", "2026-09", "416.00", True),    # her contribution is one month before 2026-08 .. 2026-10
    ("2026-08", "2026-09", "416.00", False),   # inside the 3 months
    ("2026-10", "2026-08", "0.00", True),      # a contribution of 0.00 is none
    (None, "2026-07", "", False),              # the benefit is outside the 3 months
    (None, "2026-10", "", True),
])
def test_income_collapse_worked_example(cfg, wife_month, benefit_month, wife_amount, fires):
    d = collapse(wife_month, benefit_month, wife_amount)
    assert (("INCOME_COLLAPSE", HUSBAND) in run(cfg, d)) is fires
    covered = rows("enrollment", enrollment("E1", HUSBAND, "DIBAO_EDGE", "2024-01-01"))
    assert ("INCOME_COLLAPSE", HUSBAND) not in run(cfg, d + covered)


def test_income_collapse_any_benefit_amount_and_the_spouse_elsewhere(cfg):
    zero = rows("social_insurance", insurance(P, "UNEMPLOYMENT_BENEFIT", "2026-08", "0.00"))
    assert run(cfg, zero) == {("INCOME_COLLAPSE", P): None}
    spouse = rows("marriage", marriage(P, Q)) + rows("social_insurance", insurance(Q, "EMPLOYEE_CONTRIBUTION", "2026-10", "500.00"))
    assert run(cfg, zero + spouse) == {}


@pytest.mark.parametrize("event, hazard, damage, loss, fires", [
    ("2026-07-18", "EARTHQUAKE", "COLLAPSED", None, True),   # the first day of (D - 90 days, D]
    ("2026-07-17", "EARTHQUAKE", "COLLAPSED", None, False),
    ("2026-10-15", "地震", "倒塌", None, True),
    ("2026-09-01", "FLOOD", "DAMAGED", "30000.00", True),
    ("2026-09-01", "FLOOD", "DAMAGED", "29999.99", False),
    ("2026-09-01", "FIRE", "NONE", "30000.00", True),
    ("2026-09-01", "LANDSLIDE", None, "30000.00", True),
    ("2026-09-01", "LANDSLIDE", None, None, False),
])
def test_disaster_hardship_worked_example(cfg, event, hazard, damage, loss, fires):
    d = rows("disasters", {"record_id": "Z1", "person_id": P, "event_date": event, "hazard": hazard,
                           "house_damage": damage, "direct_loss": loss})
    assert (("DISASTER_HARDSHIP", P) in run(cfg, d)) is fires
    if fires:
        for program, start, end, still in [("TEMP_AID", "2026-09-05", None, False), ("TEMP_AID", "2026-01-01", "2026-10-14", True),
                                           ("DIBAO", "2021-01-01", None, False)]:
            aid = rows("enrollment", enrollment("E1", P, program, start, end))
            assert (("DISASTER_HARDSHIP", P) in run(cfg, d + aid)) is still, program


@pytest.mark.parametrize("birth, end, fires", [
    (dt.date(1946, 10, 15), None, True),                 # 80 on D
    (dt.date(1946, 10, 16), None, False),                # 79
    (dt.date(1940, 2, 29), "2026-10-14", True),          # the allowance ended the day before D
    (dt.date(1940, 2, 29), "2026-10-15", False),         # active on D
])
def test_elderly_allowance_missing_worked_example(cfg, birth, end, fires):
    old = make_id("532901", birth, 905)
    d = rows("household", member(old, "H6", "HEAD"))
    if end:
        d += rows("enrollment", enrollment("E1", old, "ELDERLY_ALLOWANCE", "2020-03-01", end))
    assert (("ELDERLY_ALLOWANCE_MISSING", old) in run(cfg, d)) is fires
    if fires:
        dead = rows("deaths", {"report_id": "R1", "person_id": old, "death_date": "2026-10-01"})
        assert ("ELDERLY_ALLOWANCE_MISSING", old) not in run(cfg, d + dead)
        moved = rows("household", dict(member(old, "H6", "HEAD"), status="MOVED_OUT"), batch="2026-10-15")
        assert ("ELDERLY_ALLOWANCE_MISSING", old) not in run(cfg, d + moved)


def test_elderly_age_of_a_29_february_birthday(cfg):
    """A 29 February birthday falls on 1 March in other years (81 in 2025, a common year)."""
    leap = make_id("532901", dt.date(1944, 2, 29), 907)
    d = rows("household", member(leap, "H7", "HEAD"))
    at_81 = with_rule(cfg, "ELDERLY_ALLOWANCE_MISSING", params={"elderly_age": 81})

    def fires(day, rules):
        return ("ELDERLY_ALLOWANCE_MISSING", leap) in oracle.evaluate(oracle.ingest(d, cfg.contract, day), rules, day)

    assert fires(dt.date(2024, 2, 29), cfg.rules) and not fires(dt.date(2024, 2, 28), cfg.rules)
    assert fires(dt.date(2025, 3, 1), at_81) and not fires(dt.date(2025, 2, 28), at_81)


@pytest.mark.parametrize("identified, eliminated, fires", [
    ("2026-03-01", None, True),
    ("2026-03-01", "2026-10-15", False),     # eliminated on D: not after it
    ("2026-03-01", "2026-10-16", True),
    ("2026-10-15", None, True),              # identified on D
    ("2026-10-16", None, False),
])
def test_rural_monitored_worked_example(cfg, identified, eliminated, fires):
    d = rows("rural_monitoring", {"monitor_id": "J1", "person_id": P, "monitor_type": "脱贫不稳定户",
                                  "identified_date": identified, "eliminated_date": eliminated})
    assert (("RURAL_MONITORED", P) in run(cfg, d)) is fires
    if fires:
        assert run(cfg, d + rows("enrollment", enrollment("E1", P, "TEKUN", "2025-01-01"))) == {}
        assert run(cfg, d + rows("funeral", {"record_id": "F1", "person_id": P, "death_date": "2026-09-30"})) == {}
