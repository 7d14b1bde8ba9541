"""The planted world: fresh people, built on the driver, and their rows in every source.

:class:`World` creates people (ID sequence numbers 900-949, which the background never
uses) and households and adds their rows (``enroll``, ``pay``, ``died``, ``prison``...),
so the cases of :mod:`jobs.generate.cases` never interfere with each other or with the
background. :func:`deliver` turns the rows into delivered strings with dirt that never
changes what a rule sees. The truth file is then computed by the oracle over all planted
rows as delivered, and the generator checks that every POSITIVE fires its rule and no
NEAR_MISS does.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from jobs.generate.common import FULLWIDTH, add_months, check_char, make_id, month_first, month_str, name_py, to_id15

ONE_DAY = dt.timedelta(days=1)
POS, NM = "POSITIVE", "NEAR_MISS"      # the kinds of a case: fires its rule, barely misses it


def m_ago(D: dt.date, n: int) -> dt.date:
    """First day of the month n months before M(D)."""
    return add_months(month_first(D), -n)


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

    def insurance(self, p: Person, item: str, month: dt.date, amount, batch: int | None = None) -> dict:
        """A social_insurance row: a contribution or benefit of ``item`` for ``month``."""
        return self.add("social_insurance", {
            "record_id": f"PSB{self.next():013d}", "person_id": p.id, "name": p.name, "item": item,
            "month": month_str(month), "amount": Decimal(str(amount)),
            "employer": None if item == "PENSION" else "大理啤酒有限公司", "county_code": p.county}, batch=batch)

    def monitored(self, p: Person, identified: dt.date, eliminated: dt.date | None = None,
                  kind: str = "UNSTABLE", batch: int | None = None) -> dict:
        """A rural_monitoring row (monitored from ``identified``, until ``eliminated``)."""
        return self.add("rural_monitoring", {
            "monitor_id": f"PJC{self.next():012d}", "person_id": p.id, "name": p.name, "monitor_type": kind,
            "identified_date": identified, "eliminated_date": eliminated, "county_code": p.county,
            "township_code": p.township}, batch=batch)

    def disaster(self, p: Person, d: dt.date, hazard: str, damage: str | None, loss, batch: int | None = None) -> dict:
        """A disasters row naming ``p`` (the household head)."""
        return self.add("disasters", {
            "record_id": f"PZH{self.next():012d}", "person_id": p.id, "name": p.name, "event_date": d,
            "hazard": hazard, "house_damage": damage, "direct_loss": None if loss is None else Decimal(str(loss)),
            "county_code": p.county}, batch=batch)

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
