"""Rules of category DUPLICATE (重复享受): the same help twice.

For each rule of the category (conf/rules.yaml), side by side: its case function,
registered with ``@planted`` (``(world, i, positive)`` -> ``[(kind, rule_id, person,
note)]``, the variants cycling with the case index ``i``), and its oracle predicate,
registered with ``@truth`` (the shared :class:`~jobs.generate.oracle.Facts` and the
rule's parameters -> ``{person_id: amount_at_risk or None}``).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from jobs.generate.cases.registry import planted, truth
from jobs.generate.common import month_last, month_str
from jobs.generate.oracle import ZERO, Facts
from jobs.generate.world import NM, ONE_DAY, POS, World, m_ago


@planted("EXCLUSIVE_PROGRAMS")
def exclusive(w: World, i: int, positive: bool):
    D = w.D
    v = i % 3
    if positive:
        if v == 2:
            p = w.alone(age=9)
            w.enroll(p, "ORPHAN", dt.date(2022, 1, 1), amount=Decimal("1300.00"))
            w.enroll(p, "UNSUPPORTED_CHILD", dt.date(2023, 1, 1), amount=Decimal("1300.00"))
            return [(POS, "EXCLUSIVE_PROGRAMS", p, "ORPHAN and UNSUPPORTED_CHILD")]
        p = w.alone(age=70)
        a, b = [("DIBAO", "TEKUN"), ("TEKUN", "DISABLED_CARE")][v]
        w.enroll(p, a, dt.date(2021, 1, 1))
        w.enroll(p, b, dt.date(2023, 1, 1), amount=Decimal("90.00"))
        return [(POS, "EXCLUSIVE_PROGRAMS", p, f"{a} and {b}")]
    p = w.alone(age=82 if v == 2 else 76)   # 80 or over only with its ELDERLY_ALLOWANCE
    if v == 0:
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
        w.enroll(p, "DISABLED_LIVING", dt.date(2021, 1, 1), amount=Decimal("80.00"))
        w.disability(p, "PHYSICAL", 4, dt.date(2020, 5, 1))
        return [(NM, "EXCLUSIVE_PROGRAMS", p, "DIBAO with DISABLED_LIVING is allowed")]
    if v == 1:
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1), end=D - ONE_DAY)
        w.enroll(p, "TEKUN", D, amount=Decimal("1100.00"))
        return [(NM, "EXCLUSIVE_PROGRAMS", p, "DIBAO ended the day before TEKUN started on D")]
    w.enroll(p, "TEKUN", dt.date(2021, 1, 1))
    w.enroll(p, "ELDERLY_ALLOWANCE", dt.date(2021, 1, 1), amount=Decimal("50.00"))
    return [(NM, "EXCLUSIVE_PROGRAMS", p, "TEKUN with ELDERLY_ALLOWANCE is allowed")]


@truth("EXCLUSIVE_PROGRAMS")
def exclusive_programs_truth(o: Facts, exclusive_pairs: tuple[tuple[str, str], ...]) -> dict:
    """Active on D in both programmes of an exclusive pair."""
    return {p: None for p in o.enrollments if any(o.active(p, x) and o.active(p, y) for x, y in exclusive_pairs)}


@planted("DUPLICATE_ENROLLMENT")
def duplicate_enrollment(w: World, i: int, positive: bool):
    D = w.D
    v = i % 3
    p = w.alone()
    if positive:
        other = [p.county, w.rng.choice([c for c in w.counties if c != p.county]), p.county][v]
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
        w.enroll(p, "DIBAO", dt.date(2023, 7, 1), county=other, pay=False)
        return [(POS, "DUPLICATE_ENROLLMENT", p, "two DIBAO enrollments active on D" + (" in two counties" if v == 1 else ""))]
    if v == 0:
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1), end=D - ONE_DAY)
        w.enroll(p, "DIBAO", D, pay=False)
        return [(NM, "DUPLICATE_ENROLLMENT", p, "the first ended the day before the second started")]
    if v == 1:
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
        w.enroll(p, "DIBAO", D + ONE_DAY, pay=False, batch=2)
        return [(NM, "DUPLICATE_ENROLLMENT", p, "the second starts the day after D")]
    eid = w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
    row = next(r for b, r in w.rows["enrollment"] if r["enrollment_id"] == eid)
    w.add("enrollment", dict(row), batch=1)
    w.add("enrollment", dict(row, start_date=dt.date(2021, 2, 1)), batch=2)
    return [(NM, "DUPLICATE_ENROLLMENT", p, "the same enrollment delivered twice and corrected later")]


@truth("DUPLICATE_ENROLLMENT")
def duplicate_enrollment_truth(o: Facts) -> dict:
    """Two enrollments in one programme active on D."""
    D = o.D
    out = {}
    for p, rows in o.enrollments.items():
        per_program = defaultdict(set)
        for r in rows:
            if r["start_date"] <= D and (r["end_date"] is None or r["end_date"] >= D):
                per_program[r["program"]].add(r["enrollment_id"])
        if any(len(ids) >= 2 for ids in per_program.values()):
            out[p] = None
    return out


@planted("DUPLICATE_PAYMENT")
def duplicate_payment(w: World, i: int, positive: bool):
    D = w.D
    v = i % 3
    p = w.alone()
    w.enroll(p, "DIBAO", dt.date(2021, 1, 1), skip={month_str(m_ago(D, 5)), month_str(m_ago(D, 4))})
    if positive:
        if v == 0:
            w.pay(p, "DIBAO", m_ago(D, 5), "500.00")
            w.pay(p, "DIBAO", m_ago(D, 5), "480.00")
            w.pay(p, "DIBAO", m_ago(D, 4), "500.00")
            w.pay(p, "DIBAO", m_ago(D, 4), "500.00")
            return [(POS, "DUPLICATE_PAYMENT", p, "worked example: (980-500) + (1000-500)")]
        w.pay(p, "DIBAO", m_ago(D, 5), "500.00")
        w.pay(p, "DIBAO", m_ago(D, 4), "500.00")
        w.pay(p, "DIBAO", m_ago(D, 4), "500.00", batch=2 if v == 1 else 1)
        return [(POS, "DUPLICATE_PAYMENT", p, "paid twice for one month" + (" (second in the later batch)" if v == 1 else ""))]
    w.pay(p, "DIBAO", m_ago(D, 5), "500.00")
    if v == 0:
        row = w.pay(p, "DIBAO", m_ago(D, 4), "500.00")
        w.add("payments", dict(row), batch=1)
        return [(NM, "DUPLICATE_PAYMENT", p, "an exact duplicate row collapses into one")]
    if v == 1:
        row = w.pay(p, "DIBAO", m_ago(D, 4), "500.00")
        w.add("payments", dict(row, amount=Decimal("520.00")), batch=2)
        return [(NM, "DUPLICATE_PAYMENT", p, "a correction in the later batch replaces the payment")]
    w.pay(p, "DIBAO", m_ago(D, 4), "500.00")
    w.enroll(p, "DIBAO", dt.date(2020, 1, 1), end=month_last(m_ago(D, 26)), pay_from=m_ago(D, 26), pay_to=m_ago(D, 26))
    w.pay(p, "DIBAO", m_ago(D, 26), "500.00")
    return [(NM, "DUPLICATE_PAYMENT", p, "paid twice for a month before the payment window")]


@truth("DUPLICATE_PAYMENT")
def duplicate_payment_truth(o: Facts) -> dict:
    """Paid twice or more for one programme and month in the window: all but the largest payment."""
    out = {}
    for p, rows in o.payments.items():
        groups = defaultdict(list)
        for r in rows:
            groups[(r["program"], r["pay_month"])].append(r["amount"])
        dups = [v for v in groups.values() if len(v) >= 2]
        if dups:
            out[p] = sum((sum(v, ZERO) - max(v) for v in dups), ZERO)
    return out
