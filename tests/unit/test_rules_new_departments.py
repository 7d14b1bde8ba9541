"""The rules over social insurance, rural revitalisation, emergency management and old age:
FAMILY_INCOME, INCOME_COLLAPSE, RURAL_MONITORED, DISASTER_HARDSHIP, ELDERLY_ALLOWANCE_MISSING.

D = 2026-10-15. RULES.md worked examples 9-13, each boundary both ways, and the Notes
("the new rules read literally"). One detect() call covers every case.
"""
from __future__ import annotations

import pytest

from rules_fixtures import People, Scenario, Silver, fires_by_name

people = People()
P = people
RULE_IDS = ("FAMILY_INCOME", "INCOME_COLLAPSE", "RURAL_MONITORED", "DISASTER_HARDSHIP", "ELDERLY_ALLOWANCE_MISSING")
MONTHS_12 = [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]   # 2025-11 .. 2026-10


def pensions(s: Silver, pid: str, amount: str, months=MONTHS_12) -> None:
    for m in months:
        s.add("social_insurance", person_id=pid, item="PENSION", month=m, amount=amount)


def insurance(s: Silver, pid: str, item: str, month: str, amount: str = "1500.00", **kw) -> str:
    return s.add("social_insurance", person_id=pid, item=item, month=month, amount=amount, **kw)


def build(s: Silver) -> None:
    # ---- 9. FAMILY_INCOME: family income >= 1000 x 12 x persons ----------------------
    def family_of_three(name: str, pension: str, husband_income: str = "30000.00", son_oct_2025: str | None = None):
        she, husband, son = P(name), P(f"{name}-husband"), P(f"{name}-son")
        hid = f"H-{name}"
        s.household(she, hid, relation="HEAD")
        s.household(husband, hid, relation="SPOUSE")
        s.household(son, hid, relation="CHILD")
        s.marriage(husband, she, "2000-05-01")       # spouse and household member: counted once
        s.enrollment(she, "DIBAO", "2020-01-01")
        per_month = f"{float(husband_income) / 12:.2f}"
        for m in MONTHS_12:
            s.tax(husband, m, per_month)
        pensions(s, she, pension)
        if son_oct_2025:
            s.tax(son, "2025-10", son_oct_2025)      # outside the 12 months: never counts
        return she

    family_of_three("fi_example_fires", "600.00")                        # 30000 + 7200 = 37200 >= 36000
    family_of_three("fi_example_400", "400.00")                          # 34800 < 36000
    family_of_three("fi_son_outside_window", "400.00", son_oct_2025="5000.00")
    family_of_three("fi_exactly", "500.00")                              # 30000 + 6000 = 36000: fires
    family_of_three("fi_one_cent_short", "500.00", husband_income="29999.88")   # 12 x 2499.99 + 6000 < 36000
    # a spouse in another household counts, and so does a spouse's pension; alone: 1 + 1 persons
    p, q = P("fi_spouse_elsewhere"), P("fi_spouse_elsewhere-wife")
    s.household(p, "H-FI-A", relation="HEAD")
    s.household(q, "H-FI-B", relation="HEAD")
    s.marriage(p, q, "2010-01-01")
    s.enrollment(p, "DIBAO", "2021-01-01")
    pensions(s, q, "2000.00")                                            # 24000 >= 1000 x 12 x 2
    # no household row: a family of oneself (and a spouse, none here)
    p = P("fi_no_household")
    s.enrollment(p, "DIBAO", "2021-01-01")
    pensions(s, p, "1000.00")                                            # 12000 >= 12000
    # other programmes are not tested; contributions and benefits are no income
    p = P("fi_tekun_not_dibao")
    s.enrollment(p, "TEKUN", "2021-01-01")
    pensions(s, p, "3000.00")
    p = P("fi_contributions_no_income")
    s.enrollment(p, "DIBAO", "2021-01-01")
    for m in MONTHS_12:
        insurance(s, p, "EMPLOYEE_CONTRIBUTION", m, "2000.00")
        insurance(s, p, "UNEMPLOYMENT_BENEFIT", m, "2000.00")
    # several pensions in one month add up
    p = P("fi_two_pensions_a_month")
    s.enrollment(p, "DIBAO", "2021-01-01")
    pensions(s, p, "500.00")
    pensions(s, p, "500.00")                                             # 12000 >= 12000

    # ---- 10. INCOME_COLLAPSE: benefit in 2026-08 .. 2026-10, no contribution there -----
    def couple(name: str) -> tuple[str, str]:
        he, wife = P(name), P(f"{name}-wife")
        s.household(he, f"H-{name}", relation="HEAD")
        s.household(wife, f"H-{name}", relation="SPOUSE")
        return he, wife

    he, wife = couple("ic_example_fires")
    insurance(s, he, "UNEMPLOYMENT_BENEFIT", "2026-09", record_id="SI-IC-1")
    insurance(s, wife, "EMPLOYEE_CONTRIBUTION", "2026-07")
    he, wife = couple("ic_wife_contributes_in_window")
    insurance(s, he, "UNEMPLOYMENT_BENEFIT", "2026-09")
    insurance(s, wife, "EMPLOYEE_CONTRIBUTION", "2026-08")
    he, _ = couple("ic_benefit_before_window")
    insurance(s, he, "UNEMPLOYMENT_BENEFIT", "2026-07")
    he, _ = couple("ic_benefit_in_last_month")
    insurance(s, he, "UNEMPLOYMENT_BENEFIT", "2026-10", "0.00")           # whatever its amount
    he, wife = couple("ic_zero_contribution")
    insurance(s, he, "UNEMPLOYMENT_BENEFIT", "2026-08")
    insurance(s, wife, "EMPLOYEE_CONTRIBUTION", "2026-09", "0.00")        # amount > 0 required
    he, _ = couple("ic_own_contribution")
    insurance(s, he, "UNEMPLOYMENT_BENEFIT", "2026-08")
    insurance(s, he, "EMPLOYEE_CONTRIBUTION", "2026-10")                  # p included
    he, _ = couple("ic_covered")
    insurance(s, he, "UNEMPLOYMENT_BENEFIT", "2026-09")
    s.enrollment(he, "DIBAO_EDGE", "2026-01-01")
    he, _ = couple("ic_dead")
    insurance(s, he, "UNEMPLOYMENT_BENEFIT", "2026-09")
    s.death(he, "2026-10-01")

    # ---- 11. DISASTER_HARDSHIP: event_date in (2026-07-17, 2026-10-15] ----------------
    def disaster(name: str, date: str, hazard: str, damage: str | None, loss: str | None, **kw) -> str:
        p = P(name)
        s.add("disasters", person_id=p, event_date=date, hazard=hazard, house_damage=damage, direct_loss=loss, **kw)
        return p

    disaster("dh_collapsed_first_day", "2026-07-18", "EARTHQUAKE", "COLLAPSED", None, record_id="ZQ-1")
    disaster("dh_collapsed_day_before", "2026-07-17", "EARTHQUAKE", "COLLAPSED", None)
    disaster("dh_loss_at_threshold", "2026-09-01", "FLOOD", "DAMAGED", "30000.00")
    disaster("dh_loss_one_cent_short", "2026-09-01", "FLOOD", "DAMAGED", "29999.99")
    disaster("dh_loss_no_damage", "2026-09-01", "FIRE", "NONE", "45000.00")
    disaster("dh_loss_damage_null", "2026-09-01", "LANDSLIDE", None, "45000.00")
    disaster("dh_on_d", "2026-10-15", "FLOOD", "COLLAPSED", "1000.00")
    disaster("dh_after_d", "2026-10-16", "FLOOD", "COLLAPSED", None)
    p = disaster("dh_temp_aid", "2026-09-01", "EARTHQUAKE", "COLLAPSED", None)
    s.enrollment(p, "TEMP_AID", "2026-09-05", "2026-12-31")
    p = disaster("dh_temp_aid_ended", "2026-09-01", "EARTHQUAKE", "COLLAPSED", None)
    s.enrollment(p, "TEMP_AID", "2026-09-05", "2026-10-14")
    p = disaster("dh_covered", "2026-09-01", "EARTHQUAKE", "COLLAPSED", None)
    s.enrollment(p, "TEKUN", "2016-01-01")

    # ---- 12. ELDERLY_ALLOWANCE_MISSING: 80 on D ----------------------------------------
    def elder(name: str, born: str, status: str = "NORMAL", **kw) -> str:
        p = P(name, born)
        s.household(p, f"H-{name}", status=status, **kw)
        return p

    elder("ea_eighty_on_d", "19461015")
    elder("ea_seventy_nine", "19461016")
    p = elder("ea_allowance_ended", "19400101")
    s.enrollment(p, "ELDERLY_ALLOWANCE", "2020-01-01", "2026-10-14")
    p = elder("ea_allowance_active", "19400101")
    s.enrollment(p, "ELDERLY_ALLOWANCE", "2020-01-01")
    elder("ea_moved_out", "19400101", status="MOVED_OUT")
    p = elder("ea_dead", "19300101")
    s.death(p, "2026-09-01")
    p = elder("ea_covered_still_fires", "19350101")                       # no "not covered"
    s.enrollment(p, "TEKUN", "2015-01-01")
    P("ea_leap_day", "19460229")
    s.household(P("ea_leap_day"), "H-ea_leap_day")                        # 80 on 2026-03-01

    # ---- 13. RURAL_MONITORED -----------------------------------------------------------
    def monitored(name: str, identified: str, eliminated: str | None, **kw) -> str:
        p = P(name)
        s.add("rural_monitoring", person_id=p, monitor_type="UNSTABLE", identified_date=identified,
              eliminated_date=eliminated, **kw)
        return p

    monitored("rm_example_fires", "2026-03-01", None, monitor_id="JC-1", county_code="532923")
    monitored("rm_eliminated_on_d", "2026-03-01", "2026-10-15")
    monitored("rm_eliminated_after_d", "2026-03-01", "2026-10-16")
    monitored("rm_identified_on_d", "2026-10-15", None)
    monitored("rm_identified_after_d", "2026-10-16", None)
    p = monitored("rm_covered", "2026-03-01", None)
    s.enrollment(p, "DIBAO", "2026-04-01")
    p = monitored("rm_dead", "2026-03-01", None)
    s.funeral(p, "2026-08-01")


SCENARIO = Scenario(build, *RULE_IDS)

found = SCENARIO.fixture()

fires = fires_by_name(P)


@pytest.mark.parametrize("name, expected", [
    ("fi_example_fires", True), ("fi_example_400", False), ("fi_son_outside_window", False),
    ("fi_exactly", True), ("fi_one_cent_short", False), ("fi_spouse_elsewhere", True),
    ("fi_no_household", True), ("fi_tekun_not_dibao", False), ("fi_contributions_no_income", False),
    ("fi_two_pensions_a_month", True),
])
def test_example_9_family_income(found, name, expected):
    assert fires(found, "FAMILY_INCOME", name) is expected


def test_example_9_fires_for_the_recipient_only_with_the_incomes_behind_it(found):
    assert found.persons("FAMILY_INCOME") & {P("fi_example_fires-husband"), P("fi_example_fires-son")} == set()
    rows = found.evidence("FAMILY_INCOME", P("fi_example_fires"))
    sources = [src for src, _, _ in rows]
    assert sources.count("tax") == 12 and sources.count("social_insurance") == 12
    assert {v.get("person_id") for src, _, v in rows if src == "tax"} == {P("fi_example_fires-husband")}
    assert "enrollment" in sources and "household" in sources
    assert found.amount("FAMILY_INCOME", P("fi_example_fires")) is None


@pytest.mark.parametrize("name, expected", [
    ("ic_example_fires", True), ("ic_wife_contributes_in_window", False), ("ic_benefit_before_window", False),
    ("ic_benefit_in_last_month", True), ("ic_zero_contribution", True), ("ic_own_contribution", False),
    ("ic_covered", False), ("ic_dead", False),
])
def test_example_10_income_collapse(found, name, expected):
    assert fires(found, "INCOME_COLLAPSE", name) is expected


def test_example_10_evidence_is_the_benefit(found):
    assert found.keys("INCOME_COLLAPSE", P("ic_example_fires")) == [("social_insurance", "SI-IC-1")]


@pytest.mark.parametrize("name, expected", [
    ("dh_collapsed_first_day", True), ("dh_collapsed_day_before", False), ("dh_loss_at_threshold", True),
    ("dh_loss_one_cent_short", False), ("dh_loss_no_damage", True), ("dh_loss_damage_null", True),
    ("dh_on_d", True), ("dh_after_d", False), ("dh_temp_aid", False), ("dh_temp_aid_ended", True),
    ("dh_covered", False),
])
def test_example_11_disaster_hardship(found, name, expected):
    assert fires(found, "DISASTER_HARDSHIP", name) is expected


def test_example_11_evidence_is_the_disaster_record(found):
    assert found.evidence("DISASTER_HARDSHIP", P("dh_collapsed_first_day")) == [
        ("disasters", "ZQ-1", {"hazard": "EARTHQUAKE", "event_date": "2026-07-18", "house_damage": "COLLAPSED",
                               "direct_loss": None})]


@pytest.mark.parametrize("name, expected", [
    ("ea_eighty_on_d", True), ("ea_seventy_nine", False), ("ea_allowance_ended", True),
    ("ea_allowance_active", False), ("ea_moved_out", False), ("ea_dead", False),
    ("ea_covered_still_fires", True), ("ea_leap_day", True),
])
def test_example_12_elderly_allowance_missing(found, name, expected):
    assert fires(found, "ELDERLY_ALLOWANCE_MISSING", name) is expected


@pytest.mark.parametrize("name, expected", [
    ("rm_example_fires", True), ("rm_eliminated_on_d", False), ("rm_eliminated_after_d", True),
    ("rm_identified_on_d", True), ("rm_identified_after_d", False), ("rm_covered", False), ("rm_dead", False),
])
def test_example_13_rural_monitored(found, name, expected):
    assert fires(found, "RURAL_MONITORED", name) is expected


def test_example_13_county_comes_from_the_monitoring_row(found):
    row = found.row("RURAL_MONITORED", P("rm_example_fires"))
    assert row.source_county == "532923"
    assert found.keys("RURAL_MONITORED", P("rm_example_fires")) == [("rural_monitoring", "JC-1")]


def test_elderly_leap_day_birthday_is_reached_on_1_march(spark, cfg):
    """Born 1946-02-29: 79 on 2026-02-28, 80 on 2026-03-01 (RULES.md age)."""
    import datetime as dt

    from rules_fixtures import only
    p = P("ea_leap_day")
    s = Silver(spark, cfg)
    s.household(p, "H-leap")
    assert not s.detect(dt.date(2026, 2, 28), only(cfg.rules, "ELDERLY_ALLOWANCE_MISSING")).fires(
        "ELDERLY_ALLOWANCE_MISSING", p)
    assert s.detect(dt.date(2026, 3, 1), only(cfg.rules, "ELDERLY_ALLOWANCE_MISSING")).fires(
        "ELDERLY_ALLOWANCE_MISSING", p)
