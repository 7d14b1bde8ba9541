"""Payment rules: DECEASED, IMPRISONED, DUPLICATE_PAYMENT, PAYMENT_WITHOUT_ENROLLMENT.

D = 2026-10-15: M(D) = 2026-10, payments in window 2024-11 .. 2026-10. One detect()
call covers every case (one person per case); RULES.md worked examples 1-4 included.
"""
from __future__ import annotations

from decimal import Decimal

from rules_fixtures import People, Scenario, Silver

people = People()
P = people
MONTHS_2026 = [f"2026-{m:02d}" for m in range(1, 11)]


def build(s: Silver) -> None:
    # ---- DECEASED --------------------------------------------------------------
    # Worked example 1: active and dead; paid July-September; amount = Aug + Sep.
    p = P("ex1")
    s.enrollment(p, "DIBAO", "2020-01-01", name="张三", enrollment_id="E-EX1")
    s.death(p, "2026-07-20", report_id="D-EX1")
    for m in ("2026-07", "2026-08", "2026-09"):
        s.payment(p, "DIBAO", m, "500.00", payment_id=f"P-EX1-{m}")
    # ... with end_date 2026-07-31 and only the July payment: does not fire
    p = P("ex1_ended_july_only")
    s.enrollment(p, "DIBAO", "2020-01-01", "2026-07-31")
    s.death(p, "2026-07-20")
    s.payment(p, "DIBAO", "2026-07")
    # ... add a payment for 2026-08: fires with 500.00
    p = P("ex1_ended_plus_august")
    s.enrollment(p, "DIBAO", "2020-01-01", "2026-07-31")
    s.death(p, "2026-07-20")
    s.payments(p, "DIBAO", ["2026-07", "2026-08"])
    # death on D, active, the October payment is not after the month of death: 0.00
    p = P("dead_on_d")
    s.enrollment(p, "TEMP_AID", "2026-01-01")
    s.death(p, "2026-10-15")
    s.payment(p, "TEMP_AID", "2026-10")
    # death after D counts for nothing
    p = P("dies_after_d")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.death(p, "2026-10-16")
    # household DECEASED without status_date gives no date; with one it does
    p = P("hh_deceased_undated")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.household(p, "H-UNDATED", status="DECEASED")
    p = P("hh_deceased_dated")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.household(p, "H-DATED", status="DECEASED", status_date="2026-05-03")
    # the earliest date of all sources counts: funeral 2026-06-05 before deaths 2026-09-10
    p = P("earliest_death")
    s.enrollment(p, "DIBAO", "2020-01-01", "2026-06-30")
    s.death(p, "2026-09-10")
    s.funeral(p, "2026-06-05")
    s.payments(p, "DIBAO", ["2026-06", "2026-07", "2026-08"])
    # dead, not active, payments only before the window or after M(D): nothing
    p = P("dead_payments_outside_window")
    s.enrollment(p, "DIBAO", "2020-01-01", "2024-05-31")
    s.death(p, "2024-05-01")
    s.payments(p, "DIBAO", ["2024-10", "2026-11"])
    # first month of the window counts
    p = P("dead_first_window_month")
    s.enrollment(p, "DIBAO", "2020-01-01", "2024-09-30")
    s.death(p, "2024-09-15")
    s.payments(p, "DIBAO", ["2024-10", "2024-11"])
    # to the cent
    p = P("dead_cents")
    s.enrollment(p, "DIBAO", "2020-01-01", "2026-03-31")
    s.death(p, "2026-03-02")
    s.payment(p, "DIBAO", "2026-04", "333.33")
    s.payment(p, "TEMP_AID", "2026-05", "0.01")
    # alive, active and paid: nothing
    p = P("alive")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.payments(p, "DIBAO", MONTHS_2026)

    # ---- IMPRISONED ------------------------------------------------------------
    # Worked example 2: stay 2026-03-10 .. 2026-09-30, paid every month: April-August.
    p = P("ex2")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.prison(p, "2026-03-10", "2026-09-30", record_id="PR-EX2")
    s.payments(p, "DIBAO", MONTHS_2026)
    # serving on D (admitted on D) and active: fires, no payment inside a stay: 0.00
    p = P("admitted_on_d")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.prison(p, "2026-10-15")
    s.payment(p, "DIBAO", "2026-10")
    # admitted after D: not serving
    p = P("admitted_after_d")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.prison(p, "2026-10-16")
    # released on D: not serving on D
    p = P("released_on_d")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.prison(p, "2026-10-02", "2026-10-15")
    # serving but not active and not paid
    p = P("serving_not_active")
    s.enrollment(p, "DIBAO", "2020-01-01", "2025-12-31")
    s.prison(p, "2025-12-01")
    # admitted on the first day of May: May counts, April does not
    p = P("admitted_first_of_month")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.prison(p, "2026-05-01")
    s.payments(p, "DIBAO", ["2026-04", "2026-05"])
    # released on the first of February: December and January count, February does not
    p = P("released_first_of_month")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.prison(p, "2025-12-01", "2026-02-01")
    s.payments(p, "DIBAO", ["2025-11", "2025-12", "2026-01", "2026-02"], "300.00")
    # a month inside two overlapping stays counts once
    p = P("overlapping_stays")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.prison(p, "2025-03-01", "2025-06-15")
    s.prison(p, "2025-04-01", "2025-05-31")
    s.payments(p, "DIBAO", ["2025-04", "2025-05"])
    # a stay wholly before the window: its payments are out of the window
    p = P("stay_before_window")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.prison(p, "2024-01-01", "2024-10-31")
    s.payments(p, "DIBAO", ["2024-09", "2024-10"])

    # ---- DUPLICATE_PAYMENT -------------------------------------------------------
    # Worked example 3: 2026-05 paid 500 + 480, 2026-06 paid 500 twice: 480 + 500.
    p = P("ex3")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.payment(p, "DIBAO", "2026-05", "500.00", payment_id="P-EX3-1")
    s.payment(p, "DIBAO", "2026-05", "480.00", payment_id="P-EX3-2")
    s.payment(p, "DIBAO", "2026-06", "500.00", payment_id="P-EX3-3")
    s.payment(p, "DIBAO", "2026-06", "500.00", payment_id="P-EX3-4")
    s.payment(p, "DIBAO", "2026-07", "500.00", payment_id="P-EX3-5")
    # the same month in two programmes is not a duplicate
    p = P("dup_other_programme")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.enrollment(p, "TEMP_AID", "2020-01-01")
    s.payment(p, "DIBAO", "2026-05")
    s.payment(p, "TEMP_AID", "2026-05")
    # duplicates before the window or after M(D) are ignored
    p = P("dup_outside_window")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.payments(p, "DIBAO", ["2024-10", "2024-10", "2026-11", "2026-11"])
    # duplicates in the first window month, to the cent
    p = P("dup_first_month_cents")
    s.enrollment(p, "DIBAO", "2020-01-01")
    s.payment(p, "DIBAO", "2024-11", "250.50")
    s.payment(p, "DIBAO", "2024-11", "250.49")

    # ---- PAYMENT_WITHOUT_ENROLLMENT -----------------------------------------------
    # Worked example 4: enrollment 2025-01-15 .. 2026-03-31.
    p = P("ex4")
    s.enrollment(p, "DIBAO", "2025-01-15", "2026-03-31")
    s.payment(p, "DIBAO", "2025-01", payment_id="P-EX4-JAN")
    s.payment(p, "DIBAO", "2026-04", payment_id="P-EX4-APR")
    s.payment(p, "DIBAO", "2024-10", payment_id="P-EX4-OLD")
    s.payment(p, "DIBAO", "2026-11", payment_id="P-EX4-NEW")
    # enrolled in another programme only
    p = P("pwe_other_programme")
    s.enrollment(p, "TEKUN", "2020-01-01")
    s.payment(p, "DIBAO", "2026-09", "700.00")
    # overlap to the day: starts on the month's last day / ends on its first day
    p = P("pwe_edges")
    s.enrollment(p, "DIBAO", "2026-02-28", "2026-03-31")
    s.enrollment(p, "DIBAO", "2026-06-01", "2026-06-01")
    s.payment(p, "DIBAO", "2026-02", "100.00")
    s.payment(p, "DIBAO", "2026-06", "100.00")
    s.payment(p, "DIBAO", "2026-07", "123.45")
    # no enrollment at all: every payment in window, to the cent
    p = P("pwe_never_enrolled")
    s.payment(p, "TEMP_AID", "2026-01", "100.10", county="532922")
    s.payment(p, "TEMP_AID", "2026-02", "200.20", county="532923")


SCENARIO = Scenario(build, "DECEASED", "IMPRISONED", "DUPLICATE_PAYMENT", "PAYMENT_WITHOUT_ENROLLMENT")

found = SCENARIO.fixture()


# ---- DECEASED ---------------------------------------------------------------------
def test_example_1_deceased_active_and_paid_after_death(found):
    assert found.amount("DECEASED", P("ex1")) == Decimal("1000.00")
    assert found.keys("DECEASED", P("ex1")) == [
        ("deaths", "D-EX1"), ("enrollment", "E-EX1"),
        ("payments", "P-EX1-2026-08"), ("payments", "P-EX1-2026-09")]


def test_example_1_ended_in_month_of_death_with_only_that_payment_does_not_fire(found):
    assert not found.fires("DECEASED", P("ex1_ended_july_only"))


def test_example_1_ended_with_an_august_payment_fires_for_it(found):
    assert found.amount("DECEASED", P("ex1_ended_plus_august")) == Decimal("500.00")


def test_deceased_on_d_active_without_later_payment_is_zero(found):
    assert found.amount("DECEASED", P("dead_on_d")) == Decimal("0.00")


def test_deceased_ignores_death_dates_after_d(found):
    assert not found.fires("DECEASED", P("dies_after_d"))


def test_deceased_household_status_needs_a_status_date(found):
    assert not found.fires("DECEASED", P("hh_deceased_undated"))
    assert found.amount("DECEASED", P("hh_deceased_dated")) == Decimal("0.00")
    assert found.keys("DECEASED", P("hh_deceased_dated"))[-1] == ("household", P("hh_deceased_dated"))


def test_deceased_uses_the_earliest_death_date_of_all_sources(found):
    assert found.amount("DECEASED", P("earliest_death")) == Decimal("1000.00")
    sources = [src for src, _ in found.keys("DECEASED", P("earliest_death"))]
    assert sources == ["deaths", "funeral", "payments", "payments"]


def test_deceased_ignores_payments_outside_the_window(found):
    assert not found.fires("DECEASED", P("dead_payments_outside_window"))


def test_deceased_counts_the_first_month_of_the_window(found):
    assert found.amount("DECEASED", P("dead_first_window_month")) == Decimal("500.00")


def test_deceased_amount_to_the_cent(found):
    assert found.amount("DECEASED", P("dead_cents")) == Decimal("333.34")


def test_deceased_not_for_the_living(found):
    assert not found.fires("DECEASED", P("alive"))
    assert not found.fires("IMPRISONED", P("alive"))
    assert not found.fires("DUPLICATE_PAYMENT", P("alive"))
    assert not found.fires("PAYMENT_WITHOUT_ENROLLMENT", P("alive"))


# ---- IMPRISONED ------------------------------------------------------------------
def test_example_2_imprisoned_months_wholly_inside_the_stay(found):
    assert found.amount("IMPRISONED", P("ex2")) == Decimal("2500.00")
    months = sorted(v["pay_month"] for src, _, v in found.evidence("IMPRISONED", P("ex2")) if src == "payments")
    assert months == ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    assert ("prison", "PR-EX2") in found.keys("IMPRISONED", P("ex2"))


def test_imprisoned_serving_from_d_and_active_fires_with_zero(found):
    assert found.amount("IMPRISONED", P("admitted_on_d")) == Decimal("0.00")


def test_imprisoned_not_serving_before_admission_or_on_release(found):
    assert not found.fires("IMPRISONED", P("admitted_after_d"))
    assert not found.fires("IMPRISONED", P("released_on_d"))


def test_imprisoned_serving_needs_an_active_enrollment(found):
    assert not found.fires("IMPRISONED", P("serving_not_active"))


def test_imprisoned_admission_on_the_first_day_covers_that_month(found):
    assert found.amount("IMPRISONED", P("admitted_first_of_month")) == Decimal("500.00")


def test_imprisoned_release_after_the_last_day_covers_that_month(found):
    assert found.amount("IMPRISONED", P("released_first_of_month")) == Decimal("600.00")


def test_imprisoned_overlapping_stays_count_a_payment_once(found):
    assert found.amount("IMPRISONED", P("overlapping_stays")) == Decimal("1000.00")


def test_imprisoned_ignores_payments_before_the_window(found):
    assert not found.fires("IMPRISONED", P("stay_before_window"))


# ---- DUPLICATE_PAYMENT ------------------------------------------------------------
def test_example_3_duplicate_payment_sum_minus_max(found):
    assert found.amount("DUPLICATE_PAYMENT", P("ex3")) == Decimal("980.00")
    assert found.keys("DUPLICATE_PAYMENT", P("ex3")) == [
        ("payments", "P-EX3-1"), ("payments", "P-EX3-2"), ("payments", "P-EX3-3"), ("payments", "P-EX3-4")]


def test_duplicate_payment_needs_the_same_programme(found):
    assert not found.fires("DUPLICATE_PAYMENT", P("dup_other_programme"))


def test_duplicate_payment_ignores_months_outside_the_window(found):
    assert not found.fires("DUPLICATE_PAYMENT", P("dup_outside_window"))


def test_duplicate_payment_first_window_month_to_the_cent(found):
    assert found.amount("DUPLICATE_PAYMENT", P("dup_first_month_cents")) == Decimal("250.49")


# ---- PAYMENT_WITHOUT_ENROLLMENT ---------------------------------------------------
def test_example_4_payment_without_enrollment(found):
    assert found.amount("PAYMENT_WITHOUT_ENROLLMENT", P("ex4")) == Decimal("500.00")
    assert found.keys("PAYMENT_WITHOUT_ENROLLMENT", P("ex4")) == [("payments", "P-EX4-APR")]


def test_payment_without_enrollment_in_that_programme(found):
    assert found.amount("PAYMENT_WITHOUT_ENROLLMENT", P("pwe_other_programme")) == Decimal("700.00")


def test_payment_without_enrollment_overlap_to_the_day(found):
    assert found.amount("PAYMENT_WITHOUT_ENROLLMENT", P("pwe_edges")) == Decimal("123.45")


def test_payment_without_any_enrollment_sums_to_the_cent_and_takes_latest_county(found):
    row = found.row("PAYMENT_WITHOUT_ENROLLMENT", P("pwe_never_enrolled"))
    assert row.amount_at_risk == Decimal("300.30")
    assert row.source_county == "532923"
