"""Planted cases: fresh people, built on the driver, that fire each rule or barely miss it.

Every case creates its own people and household(s) (ID sequence numbers 900-949, which the
background never uses), so cases never interfere with each other or with the background.
Each case returns ``(kind, rule_id, person, note)`` rows; the truth file is then computed
by the oracle over all planted rows as they are delivered (dirt included), and the
generator checks that every POSITIVE fires its rule and no NEAR_MISS does.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from jobs.generate.common import (FULLWIDTH, add_months, check_char, make_id, month_first, month_index,
                                  month_last, month_str, name_py, to_id15)

ONE_DAY = dt.timedelta(days=1)


@dataclass
class Person:
    id: str
    name: str
    birth: dt.date
    male: bool
    county: str
    township: str
    household_id: str = ""


class World:
    """Accumulates planted rows: source -> list of (batch, row)."""

    def __init__(self, cfg, seed: int, D: dt.date, B1: dt.date, counties: list[str], weights: list[float]):
        self.cfg, self.D, self.B1 = cfg, D, B1
        self.rng = random.Random(seed * 1_000_003 + 11)
        self.rows: dict[str, list[tuple[int, dict]]] = {}
        self.counties, self.weights = counties, weights
        self.towns = {c: sorted(t for t, cc in cfg.geo.township_county.items() if cc == c) for c in counties}
        self.used: dict[tuple[str, dt.date], int] = {}
        self.serial = 0

    # ---------------------------------------------------------------- basics
    def next(self) -> int:
        self.serial += 1
        return self.serial

    def add(self, source: str, row: dict, batch: int | None = None) -> dict:
        if batch is None:
            dates = [v for v in row.values() if isinstance(v, dt.date)]
            batch = 2 if any(d > self.B1 for d in dates) else 1
        self.rows.setdefault(source, []).append((batch, row))
        return row

    def person(self, age: int | None = None, birth: dt.date | None = None, male: bool | None = None,
               county: str | None = None) -> Person:
        rng = self.rng
        if birth is None:
            age = rng.randint(25, 55) if age is None else age
            birth = add_months(self.D, -12 * age) - dt.timedelta(days=rng.randint(1, 360))
        if male is None:
            male = rng.random() < 0.5
        if county is None:
            county = rng.choices(self.counties, self.weights)[0]
        # sequence numbers 901-949 are the planted people's (the background stays below 900)
        for c in [county] + [x for x in self.counties if x != county]:
            seq = self.used.get((c, birth, male), 0)
            if seq < 24:
                county = c
                break
        else:
            raise RuntimeError("too many planted people share a birth date")
        self.used[(county, birth, male)] = seq + 1
        seq_no = 900 + 2 * seq + (1 if male else 2)
        pid = make_id(county, birth, seq_no)
        return Person(pid, name_py(rng, male), birth, male, county, rng.choice(self.towns[county]))

    def household(self, members: list[tuple[Person, str]], statuses: dict | None = None,
                  parents: dict | None = None) -> str:
        """Household rows (first member is the head); statuses: id -> (status, date)."""
        head = members[0][0]
        hid = f"{head.county}P{self.next():09d}"
        for p, rel in members:
            p.household_id = hid
            status, sdate = (statuses or {}).get(p.id, ("NORMAL", None))
            father, mother = (parents or {}).get(p.id, (None, None))
            self.add("household", {
                "person_id": p.id, "name": p.name, "gender": "M" if p.male else "F", "birth_date": p.birth,
                "ethnicity": "白族", "county_code": head.county, "township_code": head.township,
                "household_id": hid, "relation_to_head": rel, "father_id": father, "mother_id": mother,
                "status": status, "status_date": sdate}, batch=1)
        return hid

    def alone(self, **kw) -> Person:
        p = self.person(**kw)
        self.household([(p, "HEAD")])
        return p

    def enroll(self, p: Person, program: str, start: dt.date, end: dt.date | None = None,
               amount: Decimal = Decimal("500.00"), pay: bool = True, pay_from: dt.date | None = None,
               pay_to: dt.date | None = None, skip: set[str] = frozenset(), batch: int | None = None,
               county: str | None = None) -> str:
        eid = f"PJ{self.next():012d}"
        self.add("enrollment", {
            "enrollment_id": eid, "person_id": p.id, "name": p.name, "program": program,
            "county_code": county or p.county, "township_code": p.township, "household_id": p.household_id,
            "start_date": start, "end_date": end, "monthly_amount": amount}, batch=batch)
        if pay:
            first = month_first(pay_from or max(start, add_months(self.D, -30)))
            last = month_first(min(pay_to or end or self.D, end or self.D, self.D))
            m = first
            while m <= last:
                if month_str(m) not in skip:
                    self.pay(p, program, m, amount)
                m = add_months(m, 1)
        return eid

    def pay(self, p: Person, program: str, month: dt.date, amount, batch: int | None = None,
            pid: str | None = None) -> dict:
        return self.add("payments", {
            "payment_id": pid or f"PF{self.next():014d}", "person_id": p.id, "name": p.name, "program": program,
            "county_code": p.county, "pay_month": month_str(month), "amount": Decimal(str(amount)),
            "paid_date": month_first(month) + dt.timedelta(days=9)}, batch=batch)

    def died(self, p: Person, d: dt.date, how: str = "deaths", batch: int | None = None, rid: str | None = None):
        if how == "deaths":
            return self.add("deaths", {"report_id": rid or f"PSW{self.next():010d}", "person_id": p.id, "name": p.name,
                                       "death_date": d, "cause_code": "I21.9"}, batch=batch)
        return self.add("funeral", {"record_id": rid or f"PHZ{self.next():010d}", "person_id": p.id, "name": p.name,
                                    "death_date": d, "cremation_date": d + 2 * ONE_DAY, "funeral_home": "大理市殡仪馆"},
                        batch=batch)

    def prison(self, p: Person, adm: dt.date, rel: dt.date | None):
        self.add("prison", {"record_id": f"PZF{self.next():09d}", "person_id": p.id, "name": p.name,
                            "admission_date": adm, "release_date": rel, "prison_name": "云南省第一监狱"})

    def correction(self, p: Person, kind: str, start: dt.date, end: dt.date | None):
        self.add("corrections", {"record_id": f"PSJ{self.next():09d}", "person_id": p.id, "name": p.name,
                                 "kind": kind, "start_date": start, "end_date": end})

    def public_employee(self, p: Person, start: dt.date, end: dt.date | None = None):
        self.add("public_employees", {"record_id": f"PGZ{self.next():09d}", "person_id": p.id, "name": p.name,
                                      "employer": "大理市财政局", "employer_type": "GOV", "start_date": start,
                                      "end_date": end})

    def pf(self, p: Person, month: dt.date, amount="720.00"):
        self.add("provident_fund", {"record_id": f"PGJ{self.next():011d}", "person_id": p.id,
                                    "employer": "大理啤酒有限公司", "contribution_month": month_str(month),
                                    "base_salary": Decimal("3000.00"), "amount": Decimal(amount)})

    def tax(self, p: Person, month: dt.date, income):
        self.add("tax", {"record_id": f"PSS{self.next():011d}", "person_id": p.id, "tax_month": month_str(month),
                         "income": Decimal(str(income)), "tax_paid": Decimal("0.00")})

    def medical(self, p: Person, d: dt.date, oop):
        oop = Decimal(str(oop))
        self.add("medical", {"settlement_id": f"PYB{self.next():012d}", "person_id": p.id, "settle_date": d,
                             "hospital": "大理州人民医院", "total_cost": oop * 2, "fund_paid": oop, "out_of_pocket": oop})

    def disability(self, p: Person, dtype: str, level: int, issue: dt.date, status: str | None = "VALID"):
        self.add("disability", {"cert_no": f"PCJ{self.next():010d}", "person_id": p.id, "name": p.name,
                                "disability_type": dtype, "level": level, "issue_date": issue, "status": status})

    def education(self, p: Person, stage: str, year: str, tuition):
        self.add("education", {"record_id": f"PXJ{self.next():011d}", "person_id": p.id, "name": p.name,
                               "school": "大理大学", "stage": stage, "academic_year": year,
                               "tuition": None if tuition is None else Decimal(str(tuition))})

    def vehicle(self, p: Person, vtype: str, price, reg: dt.date, dereg: dt.date | None = None):
        self.add("vehicles", {"record_id": f"PLV{self.next():014d}", "person_id": p.id, "vehicle_type": vtype,
                              "purchase_price": None if price is None else Decimal(str(price)),
                              "registration_date": reg, "deregistration_date": dereg})

    def business(self, p: Person, btype: str, role: str, share, reg: dt.date, dereg: dt.date | None = None):
        self.add("business", {"record_id": f"PSC{self.next():011d}", "person_id": p.id,
                              "business_id": f"91{p.county}P{self.next():09d}", "business_name": "大理苍洱商贸有限公司",
                              "business_type": btype, "role": role,
                              "share_pct": None if share is None else Decimal(str(share)), "reg_date": reg,
                              "dereg_date": dereg})

    def marry(self, a: Person, b: Person, d: dt.date, kind: str = "MARRIAGE"):
        m, f = (a, b) if a.male else (b, a)
        self.add("marriage", {"registration_id": f"PHY{self.next():011d}", "person_id_a": m.id, "name_a": m.name,
                              "person_id_b": f.id, "name_b": f.name, "kind": kind, "reg_date": d,
                              "county_code": m.county})

    def couple(self, head_covered_program: str | None = "DIBAO", married: dt.date | None = None):
        """A two-person household, married; the head (returned first) optionally on a programme."""
        head = self.person(male=True)
        wife = self.person(male=False, county=head.county)
        self.household([(head, "HEAD"), (wife, "SPOUSE")])
        self.marry(head, wife, married or dt.date(2015, 5, 20))
        if head_covered_program:
            self.enroll(head, head_covered_program, dt.date(2021, 3, 1))
        return head, wife


# ---------------------------------------------------------------------------------
# Cases: each returns [(kind, rule, person, note)]; variants cycle with the case index
# ---------------------------------------------------------------------------------
POS, NM = "POSITIVE", "NEAR_MISS"


def _m(D: dt.date, n: int) -> dt.date:
    """First day of the month n months before M(D)."""
    return add_months(month_first(D), -n)


def deceased(w: World, i: int, positive: bool):
    D = w.D
    p = w.alone(age=70 + i % 15)
    if positive:
        v = i % 4
        if v == 0:
            w.enroll(p, "DIBAO", dt.date(2020, 1, 1))
            w.died(p, _m(D, 3) + 19 * ONE_DAY)
            return [(POS, "DECEASED", p, "active DIBAO, died 3 months ago, still paid")]
        if v == 1:
            dd = _m(D, 5) + 9 * ONE_DAY
            w.enroll(p, "ELDERLY_ALLOWANCE", dt.date(2019, 1, 1), end=month_last(_m(D, 2)), amount=Decimal("100.00"))
            w.died(p, dd, how="funeral")
            return [(POS, "DECEASED", p, "exit recorded 3 months after the death, paid until then (funeral record)")]
        if v == 2:
            dd = _m(D, 4) + 4 * ONE_DAY
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
        dd = _m(D, 3) + 19 * ONE_DAY
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
    w.died(p, _m(D, 2) + 5 * ONE_DAY, batch=1, rid=rid)
    w.died(other, _m(D, 2) + 5 * ONE_DAY, batch=2, rid=rid)
    return [(NM, "DECEASED", p, "death report corrected to another person in the later batch")]


def imprisoned(w: World, i: int, positive: bool):
    D = w.D
    p = w.alone(age=30 + i % 20, male=True)
    v = i % 4
    if positive:
        if v == 0:
            w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
            w.prison(p, _m(D, 6) + 9 * ONE_DAY, None)
            return [(POS, "IMPRISONED", p, "serving since 6 months ago, DIBAO still paid")]
        if v == 1:
            adm = _m(D, 7) + 9 * ONE_DAY
            rel = month_last(_m(D, 1))
            w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
            w.prison(p, adm, rel)
            return [(POS, "IMPRISONED", p, "released last month; months wholly inside the stay were paid")]
        if v == 2:
            adm = _m(D, 4)
            w.enroll(p, "DIBAO_EDGE", dt.date(2021, 1, 1), amount=Decimal("200.00"), pay_to=_m(D, 5))
            w.prison(p, adm, None)
            return [(POS, "IMPRISONED", p, "serving and active, payments stopped: amount 0.00")]
        adm = _m(D, 10)
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
        w.prison(p, adm, month_first(_m(D, 2)) + ONE_DAY)
        return [(POS, "IMPRISONED", p, "admitted on the 1st of a month: that month counts")]
    if v == 0:
        adm = _m(D, 6) + 9 * ONE_DAY
        rel = month_last(_m(D, 3))
        inside = {month_str(_m(D, k)) for k in (5, 4)}
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1), skip=inside)
        w.prison(p, adm, rel)
        return [(NM, "IMPRISONED", p, "paid only for the admission month and the release month")]
    if v == 1:
        w.enroll(p, "DIBAO", dt.date(2019, 1, 1), end=month_last(_m(D, 26)), pay_from=dt.date(2019, 1, 1))
        w.prison(p, _m(D, 40), month_last(_m(D, 27)))
        return [(NM, "IMPRISONED", p, "paid while in prison, but before the payment window")]
    if v == 2:
        adm = _m(D, 3)
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1), end=adm - ONE_DAY)
        w.prison(p, adm, None)
        return [(NM, "IMPRISONED", p, "enrollment ended the day before admission")]
    w.enroll(p, "DIBAO", dt.date(2021, 1, 1), skip={month_str(_m(D, k)) for k in range(1, 8)})
    w.prison(p, _m(D, 8) + 14 * ONE_DAY, D)
    return [(NM, "IMPRISONED", p, "released on D: not serving on D, no payment in a month inside the stay")]


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


def provident_fund(w: World, i: int, positive: bool):
    D = w.D
    p = w.alone()
    v = i % 4
    prog = "TEKUN" if (positive and v == 2) else ("DIBAO_EDGE" if (not positive and v == 3) else "DIBAO")
    w.enroll(p, prog, dt.date(2022, 1, 1))
    if positive:
        months = [[5, 3, 0], [0, 1, 2, 3, 4, 5], [5, 4, 3], [2, 2, 1, 0]][v]
        for k in months:
            w.pf(p, _m(D, k))
        return [(POS, "PROVIDENT_FUND", p, f"contributions in {len(set(months))} of the last 6 months")]
    months, amounts = [([0, 0, 1], ["720.00"] * 3), ([6, 1, 0], ["720.00"] * 3), ([0, 1, 2], ["720.00", "720.00", "0.00"]),
                       ([0, 1, 2, 3], ["720.00"] * 4)][v]
    for k, a in zip(months, amounts):
        w.pf(p, _m(D, k), a)
    note = ["two rows in one month: 2 distinct months", "one month is 6 months before M(D)",
            "a zero contribution does not count", "DIBAO_EDGE is not checked"][v]
    return [(NM, "PROVIDENT_FUND", p, note)]


def high_income(w: World, i: int, positive: bool):
    D = w.D
    p = w.alone()
    v = i % 3
    w.enroll(p, "DISABLED_LIVING" if (not positive and v == 2) else ["DIBAO", "DIBAO_EDGE", "TEKUN"][v], dt.date(2022, 1, 1))
    if positive:
        totals = [Decimal("60000.00"), Decimal("72000.00"), Decimal("61200.00")]
        for k in range(12):
            w.tax(p, _m(D, k), (totals[v] / 12).quantize(Decimal("0.01")))
        return [(POS, "HIGH_INCOME", p, f"income {totals[v]} over the 12 months ending at M(D)")]
    if v == 0:
        for k in range(11):
            w.tax(p, _m(D, k), "5000.00")
        w.tax(p, _m(D, 11), "4999.99")
        return [(NM, "HIGH_INCOME", p, "income 59999.99")]
    if v == 1:
        for k in range(1, 13):
            w.tax(p, _m(D, k), "5400.00")
        return [(NM, "HIGH_INCOME", p, "64800 over 12 months, but one of them is 12 months before M(D)")]
    for k in range(12):
        w.tax(p, _m(D, k), "8000.00")
    return [(NM, "HIGH_INCOME", p, "not covered (DISABLED_LIVING only)")]


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
    p = w.alone(age=82)
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


def duplicate_payment(w: World, i: int, positive: bool):
    D = w.D
    v = i % 3
    p = w.alone()
    w.enroll(p, "DIBAO", dt.date(2021, 1, 1), skip={month_str(_m(D, 5)), month_str(_m(D, 4))})
    if positive:
        if v == 0:
            w.pay(p, "DIBAO", _m(D, 5), "500.00")
            w.pay(p, "DIBAO", _m(D, 5), "480.00")
            w.pay(p, "DIBAO", _m(D, 4), "500.00")
            w.pay(p, "DIBAO", _m(D, 4), "500.00")
            return [(POS, "DUPLICATE_PAYMENT", p, "worked example: (980-500) + (1000-500)")]
        w.pay(p, "DIBAO", _m(D, 5), "500.00")
        w.pay(p, "DIBAO", _m(D, 4), "500.00")
        w.pay(p, "DIBAO", _m(D, 4), "500.00", batch=2 if v == 1 else 1)
        return [(POS, "DUPLICATE_PAYMENT", p, "paid twice for one month" + (" (second in the later batch)" if v == 1 else ""))]
    w.pay(p, "DIBAO", _m(D, 5), "500.00")
    if v == 0:
        row = w.pay(p, "DIBAO", _m(D, 4), "500.00")
        w.add("payments", dict(row), batch=1)
        return [(NM, "DUPLICATE_PAYMENT", p, "an exact duplicate row collapses into one")]
    if v == 1:
        row = w.pay(p, "DIBAO", _m(D, 4), "500.00")
        w.add("payments", dict(row, amount=Decimal("520.00")), batch=2)
        return [(NM, "DUPLICATE_PAYMENT", p, "a correction in the later batch replaces the payment")]
    w.pay(p, "DIBAO", _m(D, 4), "500.00")
    w.enroll(p, "DIBAO", dt.date(2020, 1, 1), end=month_last(_m(D, 26)), pay_from=_m(D, 26), pay_to=_m(D, 26))
    w.pay(p, "DIBAO", _m(D, 26), "500.00")
    return [(NM, "DUPLICATE_PAYMENT", p, "paid twice for a month before the payment window")]


def payment_without_enrollment(w: World, i: int, positive: bool):
    D = w.D
    v = i % 3
    p = w.alone()
    if positive:
        if v == 0:
            start, end = _m(D, 21) + 14 * ONE_DAY, month_last(_m(D, 7))
            w.enroll(p, "DIBAO", start, end=end)
            w.pay(p, "DIBAO", _m(D, 6), "500.00")
            w.pay(p, "DIBAO", _m(D, 24), "500.00")
            return [(POS, "PAYMENT_WITHOUT_ENROLLMENT", p, "worked example: a month after the end is flagged")]
        if v == 1:
            for k in (3, 2, 1):
                w.pay(p, "TEMP_AID", _m(D, k), "800.00")
            return [(POS, "PAYMENT_WITHOUT_ENROLLMENT", p, "TEMP_AID paid with no enrollment at all")]
        w.enroll(p, "DIBAO_EDGE", dt.date(2022, 1, 1), amount=Decimal("200.00"))
        w.pay(p, "DIBAO", _m(D, 2), "600.00")
        return [(POS, "PAYMENT_WITHOUT_ENROLLMENT", p, "paid as DIBAO while enrolled in DIBAO_EDGE")]
    if v == 0:
        w.enroll(p, "DIBAO", month_last(_m(D, 6)), end=None, pay=False)
        for k in range(6, -1, -1):
            w.pay(p, "DIBAO", _m(D, k), "500.00")
        return [(NM, "PAYMENT_WITHOUT_ENROLLMENT", p, "enrollment starts on the last day of the first paid month")]
    if v == 1:
        w.enroll(p, "DIBAO", dt.date(2022, 1, 1), end=_m(D, 3), pay_to=_m(D, 3))
        return [(NM, "PAYMENT_WITHOUT_ENROLLMENT", p, "enrollment ends on the 1st of the last paid month")]
    w.enroll(p, "DIBAO", _m(D, 12), pay=True)
    w.pay(p, "DIBAO", _m(D, 24), "500.00")
    return [(NM, "PAYMENT_WITHOUT_ENROLLMENT", p, "an unbacked payment just before the window")]


def medical_burden(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    p = w.alone(age=60 + i % 20)
    if positive:
        if v == 0:
            for k, a in enumerate(["8000.00", "7000.00", "5000.00"]):
                w.medical(p, D - (300 - 100 * k) * ONE_DAY, a)
            return [(POS, "MEDICAL_BURDEN", p, "out of pocket exactly 20000.00")]
        if v == 1:
            w.medical(p, D, "35000.00")
            return [(POS, "MEDICAL_BURDEN", p, "35000.00 settled on D")]
        if v == 2:
            w.medical(p, D - 364 * ONE_DAY, "12000.00")
            w.medical(p, D - 10 * ONE_DAY, "9000.00")
            return [(POS, "MEDICAL_BURDEN", p, "first claim 364 days before D")]
        w.enroll(p, "DIBAO", dt.date(2019, 1, 1), end=D - ONE_DAY)
        w.medical(p, D - 50 * ONE_DAY, "26000.00")
        return [(POS, "MEDICAL_BURDEN", p, "DIBAO ended the day before D")]
    if v == 0:
        for k, a in enumerate(["8000.00", "7000.00", "4999.99"]):
            w.medical(p, D - (300 - 100 * k) * ONE_DAY, a)
        return [(NM, "MEDICAL_BURDEN", p, "out of pocket 19999.99")]
    if v == 1:
        w.medical(p, D - 365 * ONE_DAY, "12000.00")
        w.medical(p, D - 10 * ONE_DAY, "9000.00")
        return [(NM, "MEDICAL_BURDEN", p, "the larger claim is exactly 365 days before D")]
    if v == 2:
        w.enroll(p, "DIBAO", dt.date(2019, 1, 1))
        w.medical(p, D - 50 * ONE_DAY, "40000.00")
        return [(NM, "MEDICAL_BURDEN", p, "covered by DIBAO")]
    w.medical(p, D - 80 * ONE_DAY, "30000.00")
    w.died(p, D - 30 * ONE_DAY)
    return [(NM, "MEDICAL_BURDEN", p, "died after the claims")]


def new_severe(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    p = w.alone(age=40 + i % 30)
    if positive:
        dtype, level, issue, status = [("VISUAL", 1, D - 10 * ONE_DAY, "VALID"), ("MENTAL", 3, D - 179 * ONE_DAY, None),
                                       ("PHYSICAL", 2, D, "VALID"), ("INTELLECTUAL", 4, D - 60 * ONE_DAY, "VALID")][v]
        w.disability(p, dtype, level, issue, status)
        if v == 2:
            w.enroll(p, "DISABLED_CARE", dt.date(2020, 1, 1), end=D - ONE_DAY, amount=Decimal("90.00"))
        return [(POS, "NEW_SEVERE_DISABILITY", p, f"level {level} {dtype} issued {(D - issue).days} days before D")]
    if v == 0:
        w.disability(p, "VISUAL", 1, D - 180 * ONE_DAY)
        return [(NM, "NEW_SEVERE_DISABILITY", p, "issued exactly 180 days before D")]
    if v == 1:
        w.disability(p, "PHYSICAL", 3, D - 20 * ONE_DAY)
        return [(NM, "NEW_SEVERE_DISABILITY", p, "level 3 PHYSICAL is not severe")]
    if v == 2:
        w.disability(p, "HEARING", 2, D - 20 * ONE_DAY)
        w.enroll(p, "DISABLED_CARE", D - 20 * ONE_DAY, amount=Decimal("90.00"))
        return [(NM, "NEW_SEVERE_DISABILITY", p, "already receives DISABLED_CARE")]
    w.disability(p, "MENTAL", 1, D - 20 * ONE_DAY, "REVOKED")
    return [(NM, "NEW_SEVERE_DISABILITY", p, "certificate revoked")]


def disabled_without_living(w: World, i: int, positive: bool):
    D = w.D
    v = i % 3
    p = w.alone(age=50)
    if positive:
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
        w.disability(p, ["HEARING", "PHYSICAL", "SPEECH"][v], 4, dt.date(2019, 6, 1), None if v == 1 else "VALID")
        if v == 2:
            w.enroll(p, "DISABLED_LIVING", dt.date(2021, 1, 1), end=D - 30 * ONE_DAY, amount=Decimal("80.00"))
        return [(POS, "DISABLED_WITHOUT_LIVING_SUBSIDY", p, "DIBAO with a certificate, no living subsidy")]
    if v == 0:
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
        w.enroll(p, "DISABLED_LIVING", dt.date(2021, 1, 1), amount=Decimal("80.00"))
        w.disability(p, "HEARING", 4, dt.date(2019, 6, 1))
        return [(NM, "DISABLED_WITHOUT_LIVING_SUBSIDY", p, "receives the living subsidy")]
    if v == 1:
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1))
        w.disability(p, "HEARING", 4, dt.date(2019, 6, 1), "REVOKED")
        return [(NM, "DISABLED_WITHOUT_LIVING_SUBSIDY", p, "certificate revoked")]
    w.enroll(p, "DIBAO_EDGE", dt.date(2021, 1, 1), amount=Decimal("200.00"))
    w.disability(p, "HEARING", 4, dt.date(2019, 6, 1))
    return [(NM, "DISABLED_WITHOUT_LIVING_SUBSIDY", p, "DIBAO_EDGE, not DIBAO")]


def education_burden(w: World, i: int, positive: bool):
    from jobs.generate.common import academic_year
    D = w.D
    year = academic_year(D)
    prev = f"{int(year[:4]) - 1}-{int(year[:4])}"
    v = i % 4
    head = w.person(age=48, male=True)
    a = w.person(age=19, county=head.county)
    b = w.person(age=16, county=head.county)
    statuses = {}
    if not positive and v == 3:
        statuses = {b.id: ("MOVED_OUT", dt.date(2025, 1, 1))}
    w.household([(head, "HEAD"), (a, "CHILD"), (b, "CHILD")], statuses=statuses,
                parents={a.id: (head.id, None), b.id: (head.id, None)})
    if positive:
        if v in (0, 3):
            w.education(a, "COLLEGE", year, "5000.00")
            w.education(b, "SENIOR" if v == 0 else "VOCATIONAL", year, "1200.00")
            return [(POS, "EDUCATION_BURDEN", head, "two students in senior/vocational/college this year")]
        if v == 1:
            w.education(a, "COLLEGE", year, "10000.00")
            return [(POS, "EDUCATION_BURDEN", head, "tuition exactly 10000.00")]
        w.education(a, "COLLEGE", year, "6000.00")
        w.education(b, "JUNIOR", year, "4000.00")
        return [(POS, "EDUCATION_BURDEN", head, "tuition of all records reaches 10000")]
    if v == 0:
        w.education(a, "COLLEGE", year, "5000.00")
        w.education(b, "SENIOR", prev, "1200.00")
        return [(NM, "EDUCATION_BURDEN", head, "one of the two records is for last academic year")]
    if v == 1:
        w.education(a, "COLLEGE", year, "9999.99")
        return [(NM, "EDUCATION_BURDEN", head, "tuition 9999.99")]
    if v == 2:
        w.enroll(b, "DIBAO", dt.date(2022, 1, 1))
        w.education(a, "COLLEGE", year, "5000.00")
        w.education(b, "SENIOR", year, "1200.00")
        return [(NM, "EDUCATION_BURDEN", head, "a member is covered by DIBAO")]
    w.education(a, "COLLEGE", year, "5000.00")
    w.education(b, "SENIOR", year, "1200.00")
    return [(NM, "EDUCATION_BURDEN", head, "the second student moved out of the household")]


def released_prisoner(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    p = w.alone(age=30 + i % 25, male=True)
    if positive:
        rel = [D - 89 * ONE_DAY, D, D - 30 * ONE_DAY][v % 3]
        w.prison(p, rel - 700 * ONE_DAY, rel)
        return [(POS, "RELEASED_PRISONER", p, f"released {(D - rel).days} days before D")]
    if v == 0:
        w.prison(p, D - 800 * ONE_DAY, D - 90 * ONE_DAY)
        return [(NM, "RELEASED_PRISONER", p, "released exactly 90 days before D")]
    if v == 1:
        rel = D - 20 * ONE_DAY
        w.prison(p, rel - 400 * ONE_DAY, rel)
        w.enroll(p, "DIBAO", rel + ONE_DAY)
        return [(NM, "RELEASED_PRISONER", p, "covered by DIBAO since release")]
    if v == 2:
        w.prison(p, D - 400 * ONE_DAY, D - 20 * ONE_DAY)
        w.died(p, D - 5 * ONE_DAY)
        return [(NM, "RELEASED_PRISONER", p, "died after release")]
    w.prison(p, D - 400 * ONE_DAY, D - 20 * ONE_DAY)
    w.prison(p, D - 10 * ONE_DAY, None)
    return [(NM, "RELEASED_PRISONER", p, "serving again on D")]


def community_correction(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    p = w.alone(age=25 + i % 30)
    if positive:
        start, end = [(D - 200 * ONE_DAY, None), (D - 300 * ONE_DAY, D), (D, D + 300 * ONE_DAY)][v % 3]
        w.correction(p, "COMMUNITY_CORRECTION", start, end)
        return [(POS, "COMMUNITY_CORRECTION", p, "under community correction on D")]
    if v == 0:
        w.correction(p, "COMMUNITY_CORRECTION", D - 300 * ONE_DAY, D - ONE_DAY)
        return [(NM, "COMMUNITY_CORRECTION", p, "ended the day before D")]
    if v == 1:
        w.correction(p, "COMMUNITY_CORRECTION", D - 300 * ONE_DAY, None)
        w.enroll(p, "DIBAO", dt.date(2022, 1, 1))
        return [(NM, "COMMUNITY_CORRECTION", p, "covered by DIBAO")]
    if v == 2:
        w.correction(p, "COMMUNITY_CORRECTION", D + ONE_DAY, None)
        return [(NM, "COMMUNITY_CORRECTION", p, "starts the day after D")]
    w.correction(p, "COMMUNITY_CORRECTION", D - 300 * ONE_DAY, None)
    w.died(p, D - 3 * ONE_DAY)
    return [(NM, "COMMUNITY_CORRECTION", p, "died")]


def child_unsupported(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    father = w.person(age=38, male=True)
    mother = w.person(age=36, male=False, county=father.county)
    if positive and v == 3:
        birth = add_months(D, -12 * 18) + ONE_DAY
    elif not positive and v == 3:
        birth = add_months(D, -12 * 18)
    else:
        birth = add_months(D, -12 * 10) - w.rng.randint(1, 300) * ONE_DAY
    child = w.person(birth=birth, county=father.county)
    w.household([(father, "HEAD"), (mother, "SPOUSE"), (child, "CHILD")],
                parents={child.id: (father.id, mother.id)})
    if positive:
        if v == 0:
            w.prison(father, add_months(D, -21), None)
            w.disability(mother, "PHYSICAL", 2, dt.date(2019, 3, 1))
            return [(POS, "CHILD_UNSUPPORTED", child, "father serving, mother level-2 physical")]
        if v == 1:
            w.correction(father, "DRUG_REHAB", D - 100 * ONE_DAY, None)
            w.died(mother, dt.date(2023, 2, 1))
            return [(POS, "CHILD_UNSUPPORTED", child, "father in drug rehabilitation, mother dead")]
        if v == 2:
            w.prison(father, add_months(D, -30), None)
            w.disability(mother, "MENTAL", 3, dt.date(2018, 3, 1))
            return [(POS, "CHILD_UNSUPPORTED", child, "father serving, mother level-3 mental")]
        w.prison(father, add_months(D, -21), None)
        w.prison(mother, add_months(D, -15), None)
        return [(POS, "CHILD_UNSUPPORTED", child, "both parents serving; 18 tomorrow")]
    if v == 0:
        w.prison(father, add_months(D, -21), None)
        w.disability(mother, "PHYSICAL", 3, dt.date(2019, 3, 1))
        return [(NM, "CHILD_UNSUPPORTED", child, "mother level-3 physical is not severe")]
    if v == 1:
        w.died(father, dt.date(2022, 8, 1))
        w.disability(mother, "VISUAL", 1, dt.date(2019, 3, 1))
        return [(NM, "CHILD_UNSUPPORTED", child, "father dead, mother severely disabled, nobody held")]
    if v == 2:
        w.prison(father, add_months(D, -21), None)
        w.disability(mother, "PHYSICAL", 1, dt.date(2019, 3, 1))
        w.enroll(child, "UNSUPPORTED_CHILD", dt.date(2024, 1, 1), amount=Decimal("1300.00"))
        return [(NM, "CHILD_UNSUPPORTED", child, "already an UNSUPPORTED_CHILD")]
    w.prison(father, add_months(D, -21), None)
    w.prison(mother, add_months(D, -15), None)
    return [(NM, "CHILD_UNSUPPORTED", child, "18 on D")]


CASES = {
    "DECEASED": deceased, "IMPRISONED": imprisoned, "IN_CUSTODY": in_custody,
    "PUBLIC_EMPLOYEE": public_employee, "PROVIDENT_FUND": provident_fund, "HIGH_INCOME": high_income,
    "VEHICLE": vehicle, "BUSINESS": business, "EXCLUSIVE_PROGRAMS": exclusive,
    "DUPLICATE_ENROLLMENT": duplicate_enrollment, "DUPLICATE_PAYMENT": duplicate_payment,
    "PAYMENT_WITHOUT_ENROLLMENT": payment_without_enrollment, "MEDICAL_BURDEN": medical_burden,
    "NEW_SEVERE_DISABILITY": new_severe, "DISABLED_WITHOUT_LIVING_SUBSIDY": disabled_without_living,
    "EDUCATION_BURDEN": education_burden, "RELEASED_PRISONER": released_prisoner,
    "COMMUNITY_CORRECTION": community_correction, "CHILD_UNSUPPORTED": child_unsupported,
}
VARIANTS = {"POSITIVE": 4, "NEAR_MISS": 4}


def build(w: World, rules: list[str], n_pos: int, n_nm: int) -> list[tuple[str, str, Person, str]]:
    cases = []
    for rule in rules:
        fn = CASES[rule]
        for i in range(max(4, n_pos)):
            cases += fn(w, i, True)
        for i in range(max(4, n_nm)):
            cases += fn(w, i, False)
    return cases


# ---------------------------------------------------------------------------------
# Dirt on planted rows: only forms that normalise to the same value, plus copies that
# collapse (exact duplicates) or are quarantined (bad check digit) - never a loss
# ---------------------------------------------------------------------------------
def _id_form(rng: random.Random, v: str) -> str:
    r = rng.random()
    if r < 0.35 and to_id15(v):
        return to_id15(v)
    if r < 0.5 and v.endswith("X"):
        return v.lower()
    if r < 0.7:
        return v.translate(FULLWIDTH)
    if r < 0.85:
        return f" {v[:6]}\u3000{v[6:14]} {v[14:]}\u00a0"
    return f" {v} "


def _bad_id(v: str) -> str:
    c = check_char(v[:17])
    wrong = "0" if c != "0" else "1"
    return v[:17] + wrong


def deliver(w: World, contract, seed: int, rate: float, date_rate: float, typed: set[tuple[str, int]]):
    """Planted rows as delivered strings: [(source, batch, row)] (dirt applied)."""
    rng = random.Random(seed * 31 + 7)
    out = []
    for source, rows in sorted(w.rows.items()):
        spec = contract[source]
        for batch, row in rows:
            is_typed = (source, batch) in typed
            cells = {}
            for c, cs in spec.columns.items():
                v = row.get(c)
                if v is None:
                    cells[c] = None
                elif cs.type == "id":
                    cells[c] = _id_form(rng, v) if rng.random() < max(rate * 10, 0.1) else v
                elif cs.type == "date":
                    s = v.isoformat()
                    if not is_typed and rng.random() < date_rate:
                        s = s.replace("-", "/") if rng.random() < 0.5 else s.replace("-", "")
                    cells[c] = s
                elif cs.type == "month":
                    cells[c] = v.replace("-", "") if (not is_typed and rng.random() < date_rate) else v
                elif cs.type == "decimal":
                    cells[c] = f"{Decimal(v):.2f}"
                else:
                    cells[c] = str(v)
            out.append((source, batch, cells))
            if rng.random() < rate:            # exact duplicate: collapses
                out.append((source, batch, dict(cells)))
            if rng.random() < rate:            # a bad copy: quarantined, the original stays
                first = spec.id_columns[0]
                raw = row.get(first)
                if raw:
                    out.append((source, batch, dict(cells, **{first: _bad_id(raw)})))
    return out


def month_offset(D: dt.date, m: dt.date) -> int:
    return month_index(D) - month_index(m)
