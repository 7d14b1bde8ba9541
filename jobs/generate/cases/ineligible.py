"""Rules of category INELIGIBLE (不符合条件): people who receive help they should not.

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
from jobs.generate.common import add_months, month_first, month_last, month_str
from jobs.generate.oracle import ZERO, Facts
from jobs.generate.world import NM, ONE_DAY, POS, World, m_ago


@planted("DECEASED")
def deceased(w: World, i: int, positive: bool):
    D = w.D
    p = w.alone(age=70 + i % 10)    # under 80: the living ones hold no ELDERLY_ALLOWANCE
    if positive:
        v = i % 4
        if v == 0:
            w.enroll(p, "DIBAO", dt.date(2020, 1, 1))
            w.died(p, m_ago(D, 3) + 19 * ONE_DAY)
            return [(POS, "DECEASED", p, "active DIBAO, died 3 months ago, still paid")]
        if v == 1:
            dd = m_ago(D, 5) + 9 * ONE_DAY
            w.enroll(p, "ELDERLY_ALLOWANCE", dt.date(2019, 1, 1), end=month_last(m_ago(D, 2)), amount=Decimal("100.00"))
            w.died(p, dd, how="funeral")
            return [(POS, "DECEASED", p, "exit recorded 3 months after the death, paid until then (funeral record)")]
        if v == 2:
            dd = m_ago(D, 4) + 4 * ONE_DAY
            w.rows["household"] = [(b, r) for b, r in w.rows["household"] if r["person_id"] != p.id]
            w.household([(p, "HEAD")], statuses={p.id: ("DECEASED", dd)})
            w.enroll(p, "DIBAO_EDGE", dt.date(2022, 6, 1), amount=Decimal("180.00"))
            return [(POS, "DECEASED", p, "death known only from the household registry")]
        dd = add_months(D, -30)
        w.enroll(p, "TEKUN", dt.date(2018, 1, 1), amount=Decimal("1100.00"))
        w.died(p, dd)
        w.died(p, dd + 40 * ONE_DAY, how="funeral")
        return [(POS, "DECEASED", p, "died 30 months ago; only payments in the 24-month window count")]
    v = i % 4
    if v == 0:
        dd = m_ago(D, 3) + 19 * ONE_DAY
        w.enroll(p, "DIBAO", dt.date(2020, 1, 1), end=month_last(dd))
        w.died(p, dd)
        return [(NM, "DECEASED", p, "enrollment ended at the end of the death month, paid for that month only")]
    if v == 1:
        w.enroll(p, "DIBAO", dt.date(2020, 1, 1))
        w.died(p, D + 10 * ONE_DAY, batch=2)
        return [(NM, "DECEASED", p, "death date after D does not count")]
    if v == 2:
        w.rows["household"] = [(b, r) for b, r in w.rows["household"] if r["person_id"] != p.id]
        w.household([(p, "HEAD")], statuses={p.id: ("DECEASED", None)})
        w.enroll(p, "DIBAO", dt.date(2020, 1, 1))
        return [(NM, "DECEASED", p, "DECEASED household row without a status date gives no date")]
    # a death report for the wrong person, corrected in the later batch
    other = w.alone(age=80)
    w.enroll(p, "DIBAO", dt.date(2020, 1, 1))
    rid = f"PSW{w.next():010d}"
    w.died(p, m_ago(D, 2) + 5 * ONE_DAY, batch=1, rid=rid)
    w.died(other, m_ago(D, 2) + 5 * ONE_DAY, batch=2, rid=rid)
    return [(NM, "DECEASED", p, "death report corrected to another person in the later batch")]


@truth("DECEASED")
def deceased_truth(o: Facts) -> dict:
    """Dead by D and still active, or paid for a month after the death month: the amount paid after it."""
    out = {}
    for p, d in o.death.items():
        dm = f"{d.year:04d}-{d.month:02d}"
        post = [r["amount"] for r in o.payments.get(p, []) if r["pay_month"] > dm]
        if o.any_active(p) or post:
            out[p] = sum(post, ZERO)
    return out


@planted("IMPRISONED")
def imprisoned(w: World, i: int, positive: bool):
    D = w.D
    p = w.alone(age=30 + i % 20, male=True)
    v = i % 4
    if positive:
        if v == 0:
            w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
            w.prison(p, m_ago(D, 6) + 9 * ONE_DAY, None)
            return [(POS, "IMPRISONED", p, "serving since 6 months ago, DIBAO still paid")]
        if v == 1:
            adm = m_ago(D, 7) + 9 * ONE_DAY
            rel = month_last(m_ago(D, 1))
            w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
            w.prison(p, adm, rel)
            return [(POS, "IMPRISONED", p, "released last month; months wholly inside the stay were paid")]
        if v == 2:
            adm = m_ago(D, 4)
            w.enroll(p, "DIBAO_EDGE", dt.date(2021, 1, 1), amount=Decimal("200.00"), pay_to=m_ago(D, 5))
            w.prison(p, adm, None)
            return [(POS, "IMPRISONED", p, "serving and active, payments stopped: amount 0.00")]
        adm = m_ago(D, 10)
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
        w.prison(p, adm, month_first(m_ago(D, 2)) + ONE_DAY)
        return [(POS, "IMPRISONED", p, "admitted on the 1st of a month: that month counts")]
    if v == 0:
        adm = m_ago(D, 6) + 9 * ONE_DAY
        rel = month_last(m_ago(D, 3))
        inside = {month_str(m_ago(D, k)) for k in (5, 4)}
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1), skip=inside)
        w.prison(p, adm, rel)
        return [(NM, "IMPRISONED", p, "paid only for the admission month and the release month")]
    if v == 1:
        w.enroll(p, "DIBAO", dt.date(2019, 1, 1), end=month_last(m_ago(D, 26)), pay_from=dt.date(2019, 1, 1))
        w.prison(p, m_ago(D, 40), month_last(m_ago(D, 27)))
        return [(NM, "IMPRISONED", p, "paid while in prison, but before the payment window")]
    if v == 2:
        adm = m_ago(D, 3)
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1), end=adm - ONE_DAY)
        w.prison(p, adm, None)
        return [(NM, "IMPRISONED", p, "enrollment ended the day before admission")]
    w.enroll(p, "DIBAO", dt.date(2021, 1, 1), skip={month_str(m_ago(D, k)) for k in range(1, 8)})
    w.prison(p, m_ago(D, 8) + 14 * ONE_DAY, D)
    return [(NM, "IMPRISONED", p, "released on D: not serving on D, no payment in a month inside the stay")]


@truth("IMPRISONED")
def imprisoned_truth(o: Facts) -> dict:
    """Serving on D and active, or paid for a month wholly inside a stay: the amount of those months."""
    out = {}
    for p, stays in o.prison.items():
        amt, hit = ZERO, False
        for r in o.payments.get(p, []):
            first = dt.date(int(r["pay_month"][:4]), int(r["pay_month"][5:]), 1)
            last = month_last(first)
            if any(s["admission_date"] <= first and (s["release_date"] is None or s["release_date"] > last) for s in stays):
                amt += r["amount"]
                hit = True
        if (o.serving(p) and o.any_active(p)) or hit:
            out[p] = amt
    return out


@planted("IN_CUSTODY")
def in_custody(w: World, i: int, positive: bool):
    D = w.D
    p = w.alone(age=35 + i % 10)
    v = i % 3
    if positive:
        w.enroll(p, ["DIBAO", "TEKUN", "DISABLED_LIVING"][v], dt.date(2022, 1, 1))
        kind = "DRUG_REHAB" if v != 1 else "DETENTION"
        end = None if v == 0 else (D if v == 1 else D + 60 * ONE_DAY)
        w.correction(p, kind, D - 40 * ONE_DAY, end)
        return [(POS, "IN_CUSTODY", p, f"{kind} on D and an active programme")]
    w.enroll(p, "DIBAO", dt.date(2022, 1, 1))
    if v == 0:
        w.correction(p, "DRUG_REHAB", D - 400 * ONE_DAY, D - ONE_DAY)
        return [(NM, "IN_CUSTODY", p, "custody ended the day before D")]
    if v == 1:
        w.correction(p, "DETENTION", D + ONE_DAY, None)
        return [(NM, "IN_CUSTODY", p, "detention starts the day after D")]
    w.correction(p, "COMMUNITY_CORRECTION", D - 100 * ONE_DAY, None)
    return [(NM, "IN_CUSTODY", p, "community correction is not custody (and the person is covered)")]


@truth("IN_CUSTODY")
def in_custody_truth(o: Facts) -> dict:
    """In drug rehabilitation or detention on D, with any active programme."""
    return {p: None for p in o.corrections if o.in_kind(p, ("DRUG_REHAB", "DETENTION")) and o.any_active(p)}


@planted("PUBLIC_EMPLOYEE")
def public_employee(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    if positive:
        if v == 0:
            head, wife = w.couple("DIBAO")
            w.public_employee(wife, dt.date(2012, 9, 1))
            return [(POS, "PUBLIC_EMPLOYEE", head, "wife in the household is a public employee")]
        if v == 1:
            head = w.alone(male=True)
            wife = w.alone(male=False)
            w.marry(head, wife, dt.date(2019, 3, 3))
            w.enroll(head, "DIBAO", dt.date(2022, 1, 1))
            w.public_employee(wife, dt.date(2010, 1, 1))
            return [(POS, "PUBLIC_EMPLOYEE", head, "spouse by marriage registration lives elsewhere")]
        if v == 2:
            p = w.alone()
            w.enroll(p, "DIBAO_EDGE", dt.date(2022, 1, 1), amount=Decimal("200.00"))
            w.public_employee(p, dt.date(2011, 1, 1), end=D)
            return [(POS, "PUBLIC_EMPLOYEE", p, "the recipient is a public employee until D")]
        head, wife = w.couple("TEKUN")
        w.public_employee(wife, D)
        return [(POS, "PUBLIC_EMPLOYEE", head, "spouse employed from D")]
    if v == 0:
        head, wife = w.couple("DIBAO")
        w.public_employee(wife, dt.date(2012, 9, 1), end=D - ONE_DAY)
        return [(NM, "PUBLIC_EMPLOYEE", head, "spouse left public employment the day before D")]
    if v == 1:
        head = w.person(male=True)
        son = w.person(age=25, male=True, county=head.county)
        w.household([(head, "HEAD"), (son, "CHILD")], statuses={son.id: ("MOVED_OUT", dt.date(2024, 3, 1))})
        w.enroll(head, "DIBAO", dt.date(2022, 1, 1))
        w.public_employee(son, dt.date(2023, 1, 1))
        return [(NM, "PUBLIC_EMPLOYEE", head, "public employee moved out of the household")]
    if v == 2:
        head = w.alone(male=True)
        ex = w.alone(male=False)
        w.marry(head, ex, dt.date(2016, 1, 1))
        w.marry(head, ex, dt.date(2020, 6, 1), "DIVORCE")
        w.marry(head, ex, dt.date(2020, 6, 1))
        w.enroll(head, "DIBAO", dt.date(2022, 1, 1))
        w.public_employee(ex, dt.date(2010, 1, 1))
        return [(NM, "PUBLIC_EMPLOYEE", head, "a divorce on the same date as a marriage counts as the later")]
    head, wife = w.couple(None)
    w.enroll(head, "DISABLED_LIVING", dt.date(2022, 1, 1), amount=Decimal("80.00"))
    w.public_employee(wife, dt.date(2010, 1, 1))
    return [(NM, "PUBLIC_EMPLOYEE", head, "DISABLED_LIVING is not means-tested")]


@truth("PUBLIC_EMPLOYEE")
def public_employee_truth(o: Facts) -> dict:
    """Covered, and someone of the family is a public employee on D."""
    return {p: None for p in o.enrollments if o.covered(p) and any(o.public_employee(q) for q in o.family(p))}


@planted("PROVIDENT_FUND")
def provident_fund(w: World, i: int, positive: bool):
    D = w.D
    p = w.alone()
    v = i % 4
    prog = "TEKUN" if (positive and v == 2) else ("DIBAO_EDGE" if (not positive and v == 3) else "DIBAO")
    w.enroll(p, prog, dt.date(2022, 1, 1))
    if positive:
        months = [[5, 3, 0], [0, 1, 2, 3, 4, 5], [5, 4, 3], [2, 2, 1, 0]][v]
        for k in months:
            w.pf(p, m_ago(D, k))
        return [(POS, "PROVIDENT_FUND", p, f"contributions in {len(set(months))} of the last 6 months")]
    months, amounts = [([0, 0, 1], ["720.00"] * 3), ([6, 1, 0], ["720.00"] * 3), ([0, 1, 2], ["720.00", "720.00", "0.00"]),
                       ([0, 1, 2, 3], ["720.00"] * 4)][v]
    for k, a in zip(months, amounts):
        w.pf(p, m_ago(D, k), a)
    note = ["two rows in one month: 2 distinct months", "one month is 6 months before M(D)",
            "a zero contribution does not count", "DIBAO_EDGE is not checked"][v]
    return [(NM, "PROVIDENT_FUND", p, note)]


@truth("PROVIDENT_FUND")
def provident_fund_truth(o: Facts, pf_min_months: int, pf_window_months: int) -> dict:
    """DIBAO or TEKUN, with contributions above 0 in pf_min_months of the last pf_window_months months."""
    window = {o.m_minus(i) for i in range(pf_window_months)}
    months = defaultdict(set)
    for r in o.rows("provident_fund"):
        if r["amount"] > 0 and r["contribution_month"] in window:
            months[r["person_id"]].add(r["contribution_month"])
    return {p: None for p, ms in months.items()
            if (o.active(p, "DIBAO") or o.active(p, "TEKUN")) and len(ms) >= pf_min_months}


@planted("HIGH_INCOME")
def high_income(w: World, i: int, positive: bool):
    D = w.D
    v = i % 3
    if v == 0:
        # a DIBAO family of six: 60000 a year is 10000 a person, under the DIBAO standard (FAMILY_INCOME)
        p = w.person(age=46)
        others = [(47, "SPOUSE"), (17, "CHILD"), (14, "CHILD"), (72, "PARENT"), (70, "PARENT")]
        w.household([(p, "HEAD")] + [(w.person(age=a, county=p.county), rel) for a, rel in others])
    else:
        p = w.alone()
    w.enroll(p, "DISABLED_LIVING" if (not positive and v == 2) else ["DIBAO", "DIBAO_EDGE", "TEKUN"][v], dt.date(2022, 1, 1))
    if positive:
        totals = [Decimal("60000.00"), Decimal("72000.00"), Decimal("61200.00")]
        for k in range(12):
            w.tax(p, m_ago(D, k), (totals[v] / 12).quantize(Decimal("0.01")))
        return [(POS, "HIGH_INCOME", p, f"income {totals[v]} over the 12 months ending at M(D)")]
    if v == 0:
        for k in range(11):
            w.tax(p, m_ago(D, k), "5000.00")
        w.tax(p, m_ago(D, 11), "4999.99")
        return [(NM, "HIGH_INCOME", p, "income 59999.99")]
    if v == 1:
        for k in range(1, 13):
            w.tax(p, m_ago(D, k), "5400.00")
        return [(NM, "HIGH_INCOME", p, "64800 over 12 months, but one of them is 12 months before M(D)")]
    for k in range(12):
        w.tax(p, m_ago(D, k), "8000.00")
    return [(NM, "HIGH_INCOME", p, "not covered (DISABLED_LIVING only)")]


@truth("HIGH_INCOME")
def high_income_truth(o: Facts, income_threshold: Decimal) -> dict:
    """Covered, with taxed income of at least income_threshold over the 12 months ending at M(D)."""
    window = {o.m_minus(i) for i in range(12)}
    income = defaultdict(Decimal)
    for r in o.rows("tax"):
        if r["tax_month"] in window:
            income[r["person_id"]] += r["income"]
    return {p: None for p, total in income.items() if o.covered(p) and total >= income_threshold}


@planted("VEHICLE")
def vehicle(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    if positive:
        head, wife = w.couple("DIBAO" if v != 2 else "TEKUN", married=dt.date(2019, 4, 1))
        owner, vt, price, reg = [(wife, "CAR", "45000.00", dt.date(2024, 5, 1)), (head, "TRUCK", None, dt.date(2020, 1, 1)),
                                 (wife, "CAR", "30000.01", dt.date(2023, 1, 1)), (wife, "CAR", "88000.00", D)][v]
        w.vehicle(owner, vt, price, reg)
        return [(POS, "VEHICLE", head, f"{vt} of {price or 'unknown'} in the family")]
    head, wife = w.couple("DIBAO" if v != 3 else "DIBAO_EDGE", married=dt.date(2019, 4, 1))
    vt, price, dereg = [("MOTORCYCLE", "50000.00", None), ("CAR", "30000.00", None), ("CAR", "90000.00", D),
                        ("CAR", "90000.00", None)][v]
    w.vehicle(wife, vt, price, dt.date(2022, 1, 1), dereg)
    note = ["a motorcycle", "a car bought for exactly 30000.00", "deregistered on D", "DIBAO_EDGE is not checked"][v]
    return [(NM, "VEHICLE", head, note)]


@truth("VEHICLE")
def vehicle_truth(o: Facts, vehicle_exempt_price: Decimal) -> dict:
    """DIBAO or TEKUN, and the family owns a car or truck on D above vehicle_exempt_price (or of unknown price)."""
    D = o.D
    owners = {r["person_id"] for r in o.rows("vehicles")
              if r["registration_date"] <= D and (r["deregistration_date"] is None or r["deregistration_date"] > D)
              and r["vehicle_type"] in ("CAR", "TRUCK")
              and (r["purchase_price"] is None or r["purchase_price"] > vehicle_exempt_price)}
    return {p: None for p in o.enrollments
            if (o.active(p, "DIBAO") or o.active(p, "TEKUN")) and any(q in owners for q in o.family(p))}


@planted("BUSINESS")
def business(w: World, i: int, positive: bool):
    D = w.D
    v = i % 3
    head, wife = w.couple("DIBAO")
    if positive:
        owner, role, share = [(wife, "LEGAL_REP", None), (head, "SHAREHOLDER", "50.00"), (wife, "SHAREHOLDER", "80.00")][v]
        w.business(owner, "ENTERPRISE", role, share, dt.date(2018, 1, 1))
        return [(POS, "BUSINESS", head, f"enterprise {role}{' ' + share if share else ''} in the family")]
    btype, role, share, dereg = [("INDIVIDUAL", "LEGAL_REP", None, None), ("ENTERPRISE", "SHAREHOLDER", "49.99", None),
                                 ("ENTERPRISE", "LEGAL_REP", None, D)][v]
    w.business(wife, btype, role, share, dt.date(2018, 1, 1), dereg)
    return [(NM, "BUSINESS", head, ["individual business", "share 49.99", "deregistered on D"][v])]


@truth("BUSINESS")
def business_truth(o: Facts, controlling_share: Decimal) -> dict:
    """DIBAO or TEKUN, and someone of the family is an enterprise's legal representative or
    holds at least controlling_share of it on D."""
    D = o.D
    owners = {r["person_id"] for r in o.rows("business")
              if r["reg_date"] <= D and (r["dereg_date"] is None or r["dereg_date"] > D) and r["business_type"] == "ENTERPRISE"
              and (r["role"] == "LEGAL_REP" or (r["share_pct"] is not None and r["share_pct"] >= controlling_share))}
    return {p: None for p in o.enrollments
            if (o.active(p, "DIBAO") or o.active(p, "TEKUN")) and any(q in owners for q in o.family(p))}


@planted("FAMILY_INCOME")
def family_income(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    window = [m_ago(D, k) for k in range(12)]
    if v == 0 or (v == 3 and not positive):
        # worked example 9: the husband is in the household and her spouse; the son's income is old
        husband = w.person(age=60, male=True)
        wife = w.person(age=57, male=False, county=husband.county)
        son = w.person(age=31, male=True, county=husband.county)
        w.household([(husband, "HEAD"), (wife, "SPOUSE"), (son, "CHILD")], parents={son.id: (husband.id, wife.id)})
        w.marry(husband, wife, dt.date(1994, 5, 1))
        w.enroll(wife, "DIBAO", dt.date(2022, 3, 1), end=D - ONE_DAY if v == 3 else None)
        for m in window:
            w.tax(husband, m, "2500.00")
            w.insurance(wife, "PENSION", m, "400.00" if (v == 0 and not positive) else "600.00")
        w.tax(son, m_ago(D, 12), "5000.00")
        if positive:
            return [(POS, "FAMILY_INCOME", wife, "worked example: 30000.00 + 12 x 600.00 >= 36000 (3 persons)")]
        if v == 0:
            return [(NM, "FAMILY_INCOME", wife, "worked example: 30000.00 + 12 x 400.00 < 36000; the husband counted once")]
        return [(NM, "FAMILY_INCOME", wife, "worked example's income, but DIBAO ended the day before D")]
    if v == 1:
        # two persons; his two pension rows a month add up
        p = w.person(age=62, male=True)
        son = w.person(age=35, male=True, county=p.county)
        w.household([(p, "HEAD"), (son, "CHILD")], parents={son.id: (p.id, None)})
        w.enroll(p, "DIBAO", dt.date(2023, 2, 1))
        for k, m in enumerate(window):
            w.insurance(p, "PENSION", m, "500.00")
            w.insurance(p, "PENSION", m, "500.00")
            w.tax(son, m, "999.99" if (not positive and k == 11) else "1000.00")
        if positive:
            return [(POS, "FAMILY_INCOME", p, "family income exactly 24000.00 for 2 persons (two pensions a month)")]
        return [(NM, "FAMILY_INCOME", p, "family income 23999.99 for 2 persons")]
    if v == 3:
        # no household row: the family is p and the spouse, who counts although dead
        p = w.person(age=66, male=False)
        husband = w.alone(age=69, male=True)
        w.marry(husband, p, dt.date(1982, 1, 10))
        w.enroll(p, "DIBAO", dt.date(2021, 9, 1))
        for k in range(4, 12):
            w.insurance(husband, "PENSION", m_ago(D, k), "3000.00")
        w.died(husband, m_ago(D, 3) + 6 * ONE_DAY)
        return [(POS, "FAMILY_INCOME", p, "no household row; the late husband's 8 pensions make 24000.00 (2 persons)")]
    # a spouse in another household counts: as income (positive), as a person (near miss)
    p = w.alone(age=61, male=False)
    spouse = w.alone(age=63, male=True)
    w.marry(spouse, p, dt.date(1990, 10, 1))
    w.enroll(p, "DIBAO", dt.date(2022, 6, 1))
    if positive:
        for m in window:
            w.tax(spouse, m, "2000.00")
        return [(POS, "FAMILY_INCOME", p, "the spouse in another household earns 24000.00 (2 persons)")]
    for m in window:
        w.insurance(p, "PENSION", m, "1000.00")
        w.insurance(p, "EMPLOYEE_CONTRIBUTION", m, "1000.00")
    for k in (2, 1):
        w.insurance(p, "UNEMPLOYMENT_BENEFIT", m_ago(D, k), "1548.00")
    return [(NM, "FAMILY_INCOME", p, "12000.00 of pension for 2 persons (the spouse elsewhere); contributions "
                                     "and benefits are not income")]


@truth("FAMILY_INCOME")
def family_income_truth(o: Facts, dibao_standard: Decimal) -> dict:
    """Active in DIBAO, and the family's tax income and pensions over the 12 months ending at
    M(D) reach dibao_standard x 12 x the persons in the family."""
    window = o.months_ending(12)
    income = defaultdict(Decimal)
    for r in o.rows("tax"):
        if r["tax_month"] in window:
            income[r["person_id"]] += r["income"]
    for r in o.rows("social_insurance"):
        if r["item"] == "PENSION" and r["month"] in window:
            income[r["person_id"]] += r["amount"]
    out = {}
    for p in o.enrollments:
        if o.active(p, "DIBAO"):
            family = o.family(p)
            if sum((income.get(q, ZERO) for q in family), ZERO) >= dibao_standard * 12 * len(family):
                out[p] = None
    return out
