"""INELIGIBLE and DUPLICATE rules without payments: IN_CUSTODY, PUBLIC_EMPLOYEE,
PROVIDENT_FUND, HIGH_INCOME, VEHICLE, BUSINESS, EXCLUSIVE_PROGRAMS, DUPLICATE_ENROLLMENT.

D = 2026-10-15. One detect() call covers every case (one person or family per case);
RULES.md worked examples 5 (HIGH_INCOME, PROVIDENT_FUND windows) and 8 (VEHICLE) included.
"""
from __future__ import annotations

import pytest

from rules_fixtures import People, Scenario, Silver, fires_by_name

people = People()
P = people
RULE_IDS = ("IN_CUSTODY", "PUBLIC_EMPLOYEE", "PROVIDENT_FUND", "HIGH_INCOME", "VEHICLE", "BUSINESS",
            "EXCLUSIVE_PROGRAMS", "DUPLICATE_ENROLLMENT")
LAST_12 = [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]


def recipient(s: Silver, name: str, program: str = "DIBAO", household: str | None = None, **kw) -> str:
    """An active enrollee (since 2020) with a household row (HEAD) when ``household`` is given."""
    p = P(name)
    s.enrollment(p, program, "2020-01-01", name=f"name-{name}", **kw)
    if household:
        s.household(p, household)
    return p


def build(s: Silver) -> None:
    # ---- IN_CUSTODY ------------------------------------------------------------
    s.corrections(recipient(s, "rehab_open"), "DRUG_REHAB", "2026-09-01")
    s.corrections(recipient(s, "detention_ends_on_d"), "DETENTION", "2026-10-01", "2026-10-15")
    s.corrections(recipient(s, "detention_ended_before_d"), "DETENTION", "2026-10-01", "2026-10-14")
    s.corrections(recipient(s, "detention_starts_on_d"), "DETENTION", "2026-10-15")
    s.corrections(recipient(s, "community_correction_only"), "COMMUNITY_CORRECTION", "2026-01-01")
    p = P("custody_not_enrolled_yet")
    s.enrollment(p, "DIBAO", "2026-10-16")
    s.corrections(p, "DRUG_REHAB", "2026-09-01")

    # ---- PUBLIC_EMPLOYEE -------------------------------------------------------
    p = recipient(s, "pe_household", household="H-PE1")
    q = P("pe_household_member")
    s.household(q, "H-PE1", relation="CHILD", name="member-name")
    s.public_employee(q, "2019-03-01", record_id="PE-1", name="member-name")
    p = recipient(s, "pe_moved_out", household="H-PE2")
    q = P("pe_moved_out_member")
    s.household(q, "H-PE2", relation="CHILD", status="MOVED_OUT")
    s.public_employee(q, "2019-03-01")
    s.public_employee(recipient(s, "pe_self", program="DIBAO_EDGE"), "2020-06-01", "2026-10-15")
    s.public_employee(recipient(s, "pe_self_ended"), "2020-06-01", "2026-10-14")
    s.public_employee(recipient(s, "pe_self_temp_aid", program="TEMP_AID"), "2020-06-01")
    p = recipient(s, "pe_spouse", program="TEKUN")
    q = P("pe_spouse_partner")
    s.marriage(q, p, "2015-05-20", registration_id="M-PE")
    s.public_employee(q, "2010-01-01")
    # married and divorced on the same date: the DIVORCE counts as the later
    p = recipient(s, "pe_divorced_same_day")
    q = P("pe_divorced_same_day_partner")
    s.marriage(p, q, "2020-01-01", "DIVORCE")
    s.marriage(p, q, "2020-01-01", "MARRIAGE")
    s.public_employee(q, "2010-01-01")
    # divorced, then remarried: spouse again
    p = recipient(s, "pe_remarried")
    q = P("pe_remarried_partner")
    s.marriage(p, q, "2010-01-01")
    s.marriage(p, q, "2015-01-01", "DIVORCE")
    s.marriage(q, p, "2018-01-01")
    s.public_employee(q, "2010-01-01")
    # registered after D: not a spouse yet
    p = recipient(s, "pe_marries_after_d")
    q = P("pe_marries_after_d_partner")
    s.marriage(p, q, "2026-10-16")
    s.public_employee(q, "2010-01-01")

    # ---- PROVIDENT_FUND: 2026-05 .. 2026-10 ----------------------------------------
    p = recipient(s, "pf_three_months")
    for m in ("2026-05", "2026-07", "2026-10"):
        s.provident_fund(p, m)
    p = recipient(s, "pf_april_outside", program="TEKUN")
    for m in ("2026-04", "2026-07", "2026-10"):
        s.provident_fund(p, m)
    p = recipient(s, "pf_zero_amount")
    for m, amount in (("2026-05", "800.00"), ("2026-06", "0.00"), ("2026-07", "800.00")):
        s.provident_fund(p, m, amount)
    p = recipient(s, "pf_same_month_twice")
    for m in ("2026-05", "2026-05", "2026-06"):
        s.provident_fund(p, m)
    p = recipient(s, "pf_november_outside", program="TEKUN")
    for m in ("2026-08", "2026-09", "2026-11"):
        s.provident_fund(p, m)
    p = recipient(s, "pf_dibao_edge", program="DIBAO_EDGE")
    for m in ("2026-05", "2026-06", "2026-07", "2026-08"):
        s.provident_fund(p, m)
    p = recipient(s, "pf_cents")
    for m in ("2026-08", "2026-09", "2026-10"):
        s.provident_fund(p, m, "0.01")

    # ---- HIGH_INCOME: tax_month 2025-11 .. 2026-10, >= 60000 --------------------------
    p = recipient(s, "income_exactly")
    for m in LAST_12:
        s.tax(p, m, "5000.00")
    p = recipient(s, "income_one_cent_short")
    for m in LAST_12[:-1]:
        s.tax(p, m, "5000.00")
    s.tax(p, LAST_12[-1], "4999.99")
    p = recipient(s, "income_outside_window")
    for m in ["2025-10"] + LAST_12[1:] + ["2026-11"]:
        s.tax(p, m, "5000.00")
    p = recipient(s, "income_not_covered", program="TEMP_AID")
    s.tax(p, "2026-01", "100000.00")
    p = recipient(s, "income_dibao_edge", program="DIBAO_EDGE")
    s.tax(p, "2026-01", "60000.00")

    # ---- VEHICLE -----------------------------------------------------------------
    # Worked example 8: a DIBAO recipient whose spouse (married 2019) owns a CAR for 45000.
    def spouse_owns(name: str, **vehicle) -> None:
        p = recipient(s, name)
        q = P(name + "_spouse")
        s.marriage(p, q, "2019-06-01", registration_id=f"M-{name}")
        s.vehicle(q, **vehicle)

    spouse_owns("ex8", vtype="CAR", price="45000.00", registered="2024-05-01", record_id="V-EX8")
    spouse_owns("ex8_motorcycle", vtype="MOTORCYCLE", price="45000.00")
    spouse_owns("ex8_car_30000", vtype="CAR", price="30000.00")
    spouse_owns("car_30000_01", vtype="CAR", price="30000.01")
    spouse_owns("car_unpriced", vtype="CAR", price=None)
    spouse_owns("car_deregistered_on_d", deregistered="2026-10-15")
    spouse_owns("car_deregistered_after_d", deregistered="2026-10-16")
    spouse_owns("car_registered_after_d", registered="2026-10-16")
    p = recipient(s, "truck_household", program="TEKUN", household="H-TRUCK")
    q = P("truck_household_member")
    s.household(q, "H-TRUCK", relation="SIBLING")
    s.vehicle(q, vtype="TRUCK", price="120000.00")
    s.vehicle(recipient(s, "car_dibao_edge", program="DIBAO_EDGE"))

    # ---- BUSINESS ----------------------------------------------------------------
    s.business(recipient(s, "biz_legal_rep"), role="LEGAL_REP")

    def member_holds(name: str, **business) -> None:
        recipient(s, name, household=f"H-{name}")
        q = P(name + "_member")
        s.household(q, f"H-{name}", relation="SPOUSE")
        s.business(q, **business)

    member_holds("biz_share_50", role="SHAREHOLDER", share="50.00")
    member_holds("biz_share_49_99", role="SHAREHOLDER", share="49.99")
    member_holds("biz_share_unknown", role="SHAREHOLDER", share=None)
    member_holds("biz_individual", role="LEGAL_REP", btype="INDIVIDUAL")
    member_holds("biz_deregistered_on_d", role="LEGAL_REP", dereg="2026-10-15")
    member_holds("biz_registered_after_d", role="LEGAL_REP", reg="2026-10-16")

    # ---- EXCLUSIVE_PROGRAMS --------------------------------------------------------
    p = recipient(s, "excl_dibao_tekun", enrollment_id="E-X1")
    s.enrollment(p, "TEKUN", "2024-01-01", enrollment_id="E-X2")
    s.enrollment(p, "TEMP_AID", "2024-01-01", enrollment_id="E-X3")
    p = recipient(s, "excl_not_a_pair")
    s.enrollment(p, "DISABLED_LIVING", "2024-01-01")
    p = recipient(s, "excl_ended_before_d")
    s.enrollment(p, "TEKUN", "2024-01-01", "2026-10-14")
    p = recipient(s, "excl_orphan_living", program="ORPHAN")
    s.enrollment(p, "DISABLED_LIVING", "2026-10-15")

    # ---- DUPLICATE_ENROLLMENT ------------------------------------------------------
    p = recipient(s, "dup_two_counties", county="532901", enrollment_id="E-D1")
    s.enrollment(p, "DIBAO", "2023-01-01", county="532922", enrollment_id="E-D2")
    p = recipient(s, "dup_one_ended")
    s.enrollment(p, "DIBAO", "2023-01-01", "2026-10-14")
    p = recipient(s, "dup_one_ends_on_d")
    s.enrollment(p, "DIBAO", "2023-01-01", "2026-10-15")
    p = recipient(s, "dup_other_programme")
    s.enrollment(p, "DIBAO_EDGE", "2023-01-01")


SCENARIO = Scenario(build, *RULE_IDS)

found = SCENARIO.fixture()

fires = fires_by_name(P)


# ---- IN_CUSTODY ---------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("rehab_open", True), ("detention_ends_on_d", True), ("detention_starts_on_d", True),
    ("detention_ended_before_d", False), ("community_correction_only", False),
    ("custody_not_enrolled_yet", False),
])
def test_in_custody(found, name, expected):
    assert fires(found, "IN_CUSTODY", name) is expected


def test_in_custody_amount_is_null_and_evidence_names_custody_and_enrollment(found):
    row = found.row("IN_CUSTODY", P("rehab_open"))
    assert row.amount_at_risk is None
    assert [src for src, _ in found.keys("IN_CUSTODY", P("rehab_open"))] == ["corrections", "enrollment"]
    assert row.source_name == "name-rehab_open"


# ---- PUBLIC_EMPLOYEE -----------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("pe_household", True), ("pe_moved_out", False), ("pe_self", True), ("pe_self_ended", False),
    ("pe_self_temp_aid", False), ("pe_spouse", True), ("pe_divorced_same_day", False),
    ("pe_remarried", True), ("pe_marries_after_d", False),
])
def test_public_employee(found, name, expected):
    assert fires(found, "PUBLIC_EMPLOYEE", name) is expected


def test_public_employee_evidence_names_the_member_and_the_link(found):
    p, q = P("pe_household"), P("pe_household_member")
    evidence = found.evidence("PUBLIC_EMPLOYEE", p)
    assert [(src, key) for src, key, _ in evidence] == [
        ("enrollment", found.keys("PUBLIC_EMPLOYEE", p)[0][1]), ("household", q), ("public_employees", "PE-1")]
    assert evidence[2][2]["person_id"] == q
    assert evidence[1][2] == {"household_id": "H-PE1", "relation_to_head": "CHILD", "status": "NORMAL"}
    row = found.row("PUBLIC_EMPLOYEE", p)
    assert row.source_name == "name-pe_household"          # never the member's name
    assert row.amount_at_risk is None


def test_public_employee_spouse_link_is_the_marriage_row(found):
    assert ("marriage", "M-PE") in found.keys("PUBLIC_EMPLOYEE", P("pe_spouse"))


# ---- PROVIDENT_FUND -------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("pf_three_months", True), ("pf_april_outside", False), ("pf_zero_amount", False),
    ("pf_same_month_twice", False), ("pf_november_outside", False), ("pf_dibao_edge", False),
    ("pf_cents", True),
])
def test_example_5_provident_fund_window_2026_05_to_2026_10(found, name, expected):
    assert fires(found, "PROVIDENT_FUND", name) is expected


# ---- HIGH_INCOME ----------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("income_exactly", True), ("income_one_cent_short", False), ("income_outside_window", False),
    ("income_not_covered", False), ("income_dibao_edge", True),
])
def test_example_5_high_income_2025_11_to_2026_10_at_60000(found, name, expected):
    assert fires(found, "HIGH_INCOME", name) is expected


def test_high_income_evidence_is_the_window_only(found):
    months = [v["tax_month"] for src, _, v in found.evidence("HIGH_INCOME", P("income_exactly")) if src == "tax"]
    assert sorted(months) == LAST_12


# ---- VEHICLE --------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("ex8", True), ("ex8_motorcycle", False), ("ex8_car_30000", False), ("car_30000_01", True),
    ("car_unpriced", True), ("car_deregistered_on_d", False), ("car_deregistered_after_d", True),
    ("car_registered_after_d", False), ("truck_household", True), ("car_dibao_edge", False),
])
def test_example_8_vehicle(found, name, expected):
    assert fires(found, "VEHICLE", name) is expected


def test_example_8_vehicle_evidence(found):
    p, q = P("ex8"), P("ex8_spouse")
    evidence = {(src, key): values for src, key, values in found.evidence("VEHICLE", p)}
    assert evidence[("vehicles", "V-EX8")] == {
        "person_id": q, "vehicle_type": "CAR", "purchase_price": "45000.00",
        "registration_date": "2024-05-01", "deregistration_date": None}
    assert evidence[("marriage", "M-ex8")]["kind"] == "MARRIAGE"
    assert found.row("VEHICLE", p).source_county == "532901"


def test_vehicle_not_for_the_owner_unless_enrolled(found):
    assert not fires(found, "VEHICLE", "ex8_spouse")


# ---- BUSINESS -------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("biz_legal_rep", True), ("biz_share_50", True), ("biz_share_49_99", False), ("biz_share_unknown", False),
    ("biz_individual", False), ("biz_deregistered_on_d", False), ("biz_registered_after_d", False),
])
def test_business(found, name, expected):
    assert fires(found, "BUSINESS", name) is expected


# ---- EXCLUSIVE_PROGRAMS ----------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("excl_dibao_tekun", True), ("excl_not_a_pair", False), ("excl_ended_before_d", False),
    ("excl_orphan_living", True),
])
def test_exclusive_programs(found, name, expected):
    assert fires(found, "EXCLUSIVE_PROGRAMS", name) is expected


def test_exclusive_programs_evidence_is_the_clashing_enrollments(found):
    assert found.keys("EXCLUSIVE_PROGRAMS", P("excl_dibao_tekun")) == [("enrollment", "E-X1"), ("enrollment", "E-X2")]


# ---- DUPLICATE_ENROLLMENT --------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("dup_two_counties", True), ("dup_one_ended", False), ("dup_one_ends_on_d", True),
    ("dup_other_programme", False),
])
def test_duplicate_enrollment(found, name, expected):
    assert fires(found, "DUPLICATE_ENROLLMENT", name) is expected


def test_duplicate_enrollment_county_is_the_latest_enrollment(found):
    row = found.row("DUPLICATE_ENROLLMENT", P("dup_two_counties"))
    assert found.keys("DUPLICATE_ENROLLMENT", P("dup_two_counties")) == [("enrollment", "E-D1"), ("enrollment", "E-D2")]
    assert row.source_county == "532922"     # started 2023, after the 2020 enrollment
    assert row.amount_at_risk is None
