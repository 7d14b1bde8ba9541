"""Rules of category PAYMENT (资金发放异常): payments without grounds.

For each rule of the category (conf/rules.yaml), side by side: its case function,
registered with ``@planted`` (``(world, i, positive)`` -> ``[(kind, rule_id, person,
note)]``, the variants cycling with the case index ``i``), and its oracle predicate,
registered with ``@truth`` (the shared :class:`~jobs.generate.oracle.Facts` and the
rule's parameters -> ``{person_id: amount_at_risk or None}``).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jobs.generate.cases.registry import planted, truth
from jobs.generate.common import month_last
from jobs.generate.oracle import ZERO, Facts
from jobs.generate.world import NM, ONE_DAY, POS, World, m_ago


@planted("PAYMENT_WITHOUT_ENROLLMENT")
def payment_without_enrollment(w: World, i: int, positive: bool):
    D = w.D
    v = i % 3
    p = w.alone()
    if positive:
        if v == 0:
            start, end = m_ago(D, 21) + 14 * ONE_DAY, month_last(m_ago(D, 7))
            w.enroll(p, "DIBAO", start, end=end)
            w.pay(p, "DIBAO", m_ago(D, 6), "500.00")
            w.pay(p, "DIBAO", m_ago(D, 24), "500.00")
            return [(POS, "PAYMENT_WITHOUT_ENROLLMENT", p, "worked example: a month after the end is flagged")]
        if v == 1:
            for k in (3, 2, 1):
                w.pay(p, "TEMP_AID", m_ago(D, k), "800.00")
            return [(POS, "PAYMENT_WITHOUT_ENROLLMENT", p, "TEMP_AID paid with no enrollment at all")]
        w.enroll(p, "DIBAO_EDGE", dt.date(2022, 1, 1), amount=Decimal("200.00"))
        w.pay(p, "DIBAO", m_ago(D, 2), "600.00")
        return [(POS, "PAYMENT_WITHOUT_ENROLLMENT", p, "paid as DIBAO while enrolled in DIBAO_EDGE")]
    if v == 0:
        w.enroll(p, "DIBAO", month_last(m_ago(D, 6)), end=None, pay=False)
        for k in range(6, -1, -1):
            w.pay(p, "DIBAO", m_ago(D, k), "500.00")
        return [(NM, "PAYMENT_WITHOUT_ENROLLMENT", p, "enrollment starts on the last day of the first paid month")]
    if v == 1:
        w.enroll(p, "DIBAO", dt.date(2022, 1, 1), end=m_ago(D, 3), pay_to=m_ago(D, 3))
        return [(NM, "PAYMENT_WITHOUT_ENROLLMENT", p, "enrollment ends on the 1st of the last paid month")]
    w.enroll(p, "DIBAO", m_ago(D, 12), pay=True)
    w.pay(p, "DIBAO", m_ago(D, 24), "500.00")
    return [(NM, "PAYMENT_WITHOUT_ENROLLMENT", p, "an unbacked payment just before the window")]


@truth("PAYMENT_WITHOUT_ENROLLMENT")
def payment_without_enrollment_truth(o: Facts) -> dict:
    """Paid in the window for a month no enrollment in that programme overlaps: those payments."""
    out = {}
    for p, rows in o.payments.items():
        amt, hit = ZERO, False
        for r in rows:
            first = dt.date(int(r["pay_month"][:4]), int(r["pay_month"][5:]), 1)
            last = month_last(first)
            if not any(e["program"] == r["program"] and e["start_date"] <= last
                       and (e["end_date"] is None or e["end_date"] >= first) for e in o.enrollments.get(p, [])):
                amt += r["amount"]
                hit = True
        if hit:
            out[p] = amt
    return out
