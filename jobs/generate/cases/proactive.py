"""Rules of category PROACTIVE (主动发现): people who may need help they do not receive.

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
from jobs.generate.common import academic_year, add_months, age_at
from jobs.generate.oracle import Facts
from jobs.generate.world import NM, ONE_DAY, POS, World, m_ago

UB, EC = "UNEMPLOYMENT_BENEFIT", "EMPLOYEE_CONTRIBUTION"


@planted("MEDICAL_BURDEN")
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


@truth("MEDICAL_BURDEN")
def medical_burden_truth(o: Facts, medical_threshold: Decimal) -> dict:
    """Alive and not covered, with out-of-pocket costs of at least medical_threshold over (D - 365 days, D]."""
    D = o.D
    total = defaultdict(Decimal)
    lo = D - dt.timedelta(days=365)
    for r in o.rows("medical"):
        if lo < r["settle_date"] <= D:
            total[r["person_id"]] += r["out_of_pocket"]
    return {p: None for p, t in total.items() if p not in o.death and not o.covered(p) and t >= medical_threshold}


@planted("NEW_SEVERE_DISABILITY")
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


@truth("NEW_SEVERE_DISABILITY")
def new_severe_disability_truth(o: Facts, new_cert_days: int) -> dict:
    """Alive, a severe certificate issued in (D - new_cert_days, D], neither DISABLED_CARE nor TEKUN."""
    D = o.D
    lo = D - dt.timedelta(days=new_cert_days)
    return {p: None for p in o.disability
            if p not in o.death and any(lo < r["issue_date"] <= D for r in o.severe_rows(p))
            and not o.active(p, "DISABLED_CARE") and not o.active(p, "TEKUN")}


@planted("DISABLED_WITHOUT_LIVING_SUBSIDY")
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


@truth("DISABLED_WITHOUT_LIVING_SUBSIDY")
def disabled_without_living_subsidy_truth(o: Facts) -> dict:
    """Alive, on DIBAO, with a valid certificate issued by D, and no DISABLED_LIVING."""
    D = o.D
    return {p: None for p, certs in o.disability.items()
            if p not in o.death and o.active(p, "DIBAO")
            and any(r["status"] in (None, "VALID") and r["issue_date"] <= D for r in certs)
            and not o.active(p, "DISABLED_LIVING")}


@planted("EDUCATION_BURDEN")
def education_burden(w: World, i: int, positive: bool):
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


@truth("EDUCATION_BURDEN")
def education_burden_truth(o: Facts, edu_min_students: int, edu_tuition_threshold: Decimal) -> dict:
    """A living head of a household nobody of which is covered, with edu_min_students senior,
    vocational or college students this academic year, or tuition of at least edu_tuition_threshold."""
    year = academic_year(o.D)
    edu = defaultdict(list)
    for r in o.rows("education"):
        if r["academic_year"] == year:
            edu[r["person_id"]].append(r)
    out = {}
    for p, row in o.household.items():
        if row["relation_to_head"] != "HEAD" or row["status"] != "NORMAL" or p in o.death:
            continue
        members = o.members.get(row["household_id"], set())
        if any(o.covered(q) for q in members):
            continue
        students = sum(1 for q in members if any(r["stage"] in ("SENIOR", "VOCATIONAL", "COLLEGE") for r in edu.get(q, [])))
        tuition = sum((r["tuition"] or Decimal(0) for q in members for r in edu.get(q, [])), Decimal(0))
        if students >= edu_min_students or tuition >= edu_tuition_threshold:
            out[p] = None
    return out


@planted("RELEASED_PRISONER")
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


@truth("RELEASED_PRISONER")
def released_prisoner_truth(o: Facts, release_days: int) -> dict:
    """Alive, not covered, not serving, released in (D - release_days, D]."""
    D = o.D
    lo = D - dt.timedelta(days=release_days)
    return {p: None for p, stays in o.prison.items()
            if p not in o.death and not o.covered(p) and not o.serving(p)
            and any(s["release_date"] is not None and lo < s["release_date"] <= D for s in stays)}


@planted("COMMUNITY_CORRECTION")
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


@truth("COMMUNITY_CORRECTION")
def community_correction_truth(o: Facts) -> dict:
    """Alive, not covered, under community correction on D."""
    return {p: None for p in o.corrections
            if p not in o.death and not o.covered(p) and o.in_kind(p, ("COMMUNITY_CORRECTION",))}


@planted("CHILD_UNSUPPORTED")
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


@truth("CHILD_UNSUPPORTED")
def child_unsupported_truth(o: Facts) -> dict:
    """A living child under 18 with both parents named, neither ORPHAN nor UNSUPPORTED_CHILD, each
    parent dead, held (serving, drug rehabilitation or detention) or severely disabled, one held."""
    D = o.D
    out = {}
    for p, row in o.household.items():
        if p in o.death or not row["father_id"] or not row["mother_id"]:
            continue
        birth = dt.date(int(p[6:10]), int(p[10:12]), int(p[12:14]))
        if age_at(birth, D) >= 18 or o.active(p, "ORPHAN") or o.active(p, "UNSUPPORTED_CHILD"):
            continue
        parents = (row["father_id"], row["mother_id"])
        held = [o.serving(q) or o.in_kind(q, ("DRUG_REHAB", "DETENTION")) for q in parents]
        each = [q in o.death or h or bool(o.severe_rows(q)) for q, h in zip(parents, held)]
        if all(each) and any(held):
            out[p] = None
    return out


@planted("INCOME_COLLAPSE")
def income_collapse(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    if positive:
        if v == 0:
            head, wife = w.couple(None)
            w.insurance(head, UB, m_ago(D, 1), "1710.00")
            w.insurance(wife, EC, m_ago(D, 3), "416.00")
            return [(POS, "INCOME_COLLAPSE", head, "worked example: the wife's contribution is one month before the 3 months")]
        if v == 1:
            p = w.alone()
            for k in (5, 4, 3):
                w.insurance(p, EC, m_ago(D, k), "480.00")
            for k in (2, 1, 0):
                w.insurance(p, UB, m_ago(D, k), "1548.00")
            return [(POS, "INCOME_COLLAPSE", p, "benefit from the first of the 3 months; own contributions before them")]
        if v == 2:
            head, wife = w.couple(None)
            w.insurance(head, UB, m_ago(D, 2), "0.00")
            w.insurance(wife, EC, m_ago(D, 1), "0.00")
            return [(POS, "INCOME_COLLAPSE", head, "a benefit of 0.00 counts, the wife's contribution of 0.00 does not")]
        p = w.alone()
        w.enroll(p, "DIBAO", dt.date(2021, 1, 1), end=D - ONE_DAY)
        w.insurance(p, UB, m_ago(D, 0), "1386.00")
        return [(POS, "INCOME_COLLAPSE", p, "benefit for M(D); DIBAO ended the day before D")]
    if v == 0:
        head, wife = w.couple(None)
        w.insurance(head, UB, m_ago(D, 1), "1710.00")
        w.insurance(wife, EC, m_ago(D, 2), "416.00")
        return [(NM, "INCOME_COLLAPSE", head, "worked example: the wife contributes in the first of the 3 months")]
    if v == 1:
        p = w.alone()
        w.insurance(p, UB, m_ago(D, 3), "1710.00")
        return [(NM, "INCOME_COLLAPSE", p, "worked example: the benefit is one month before the 3 months")]
    if v == 2:
        p = w.alone()
        w.enroll(p, "DIBAO", dt.date(2023, 1, 1))
        w.insurance(p, UB, m_ago(D, 1), "1548.00")
        return [(NM, "INCOME_COLLAPSE", p, "covered by DIBAO")]
    head = w.alone(male=True)
    wife = w.alone(male=False)
    w.marry(head, wife, dt.date(2012, 6, 1))
    w.insurance(head, UB, m_ago(D, 1), "1710.00")
    w.insurance(wife, EC, m_ago(D, 0), "520.00")
    return [(NM, "INCOME_COLLAPSE", head, "the wife, in another household, contributes in M(D)")]


@truth("INCOME_COLLAPSE")
def income_collapse_truth(o: Facts) -> dict:
    """Alive and not covered, an unemployment benefit in the 3 months ending at M(D), and
    nobody of the family with a contribution above 0 in those months."""
    window = o.months_ending(3)
    rows = [r for r in o.rows("social_insurance") if r["month"] in window]
    benefit = {r["person_id"] for r in rows if r["item"] == UB}
    earning = {r["person_id"] for r in rows if r["item"] == EC and r["amount"] > 0}
    return {p: None for p in benefit if p not in o.death and not o.covered(p) and not o.family(p) & earning}


@planted("RURAL_MONITORED")
def rural_monitored(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    p = w.alone()
    identified = m_ago(D, 7)
    if positive:
        if v == 0:
            w.monitored(p, identified)
            return [(POS, "RURAL_MONITORED", p, "worked example: identified 7 months ago, not eliminated")]
        if v == 1:
            w.monitored(p, identified, D + ONE_DAY, kind="MARGINAL")
            return [(POS, "RURAL_MONITORED", p, "worked example: eliminated the day after D")]
        if v == 2:
            w.monitored(p, D, kind="SUDDEN_HARDSHIP")
            return [(POS, "RURAL_MONITORED", p, "identified on D")]
        row = w.monitored(p, identified, m_ago(D, 1), batch=1)
        w.add("rural_monitoring", dict(row, eliminated_date=None), batch=2)
        return [(POS, "RURAL_MONITORED", p, "the elimination is withdrawn in the correcting batch")]
    if v == 0:
        w.monitored(p, identified, D)
        return [(NM, "RURAL_MONITORED", p, "worked example: eliminated on D")]
    if v == 1:
        w.monitored(p, D + ONE_DAY, kind="SUDDEN_HARDSHIP")
        return [(NM, "RURAL_MONITORED", p, "identified the day after D")]
    if v == 2:
        w.enroll(p, "DIBAO", dt.date(2022, 1, 1))
        w.monitored(p, identified)
        return [(NM, "RURAL_MONITORED", p, "covered by DIBAO")]
    row = w.monitored(p, identified, batch=1)
    w.add("rural_monitoring", dict(row, eliminated_date=D - 5 * ONE_DAY), batch=2)
    return [(NM, "RURAL_MONITORED", p, "eliminated 5 days before D, in the correcting batch")]


@truth("RURAL_MONITORED")
def rural_monitored_truth(o: Facts) -> dict:
    """Alive and not covered, monitored on D (identified by D, not eliminated by D)."""
    D = o.D
    monitored = {r["person_id"] for r in o.rows("rural_monitoring")
                 if r["identified_date"] <= D and (r["eliminated_date"] is None or r["eliminated_date"] > D)}
    return {p: None for p in monitored if p not in o.death and not o.covered(p)}


@planted("DISASTER_HARDSHIP")
def disaster_hardship(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    first = D - 89 * ONE_DAY        # the first day of the 90 days ending on D
    if positive:
        if v == 0:
            p = w.alone()
            w.disaster(p, first, "EARTHQUAKE", "COLLAPSED", None)
            return [(POS, "DISASTER_HARDSHIP", p, "worked example: first day of the window, house collapsed, loss not assessed")]
        if v == 1:
            p, wife = w.couple(None)
            w.disaster(p, D - 40 * ONE_DAY, "FLOOD", "DAMAGED", "30000.00")
            return [(POS, "DISASTER_HARDSHIP", p, "worked example: house damaged, loss exactly 30000.00")]
        if v == 2:
            p = w.alone()
            w.disaster(p, D, "LANDSLIDE", None, "45000.00")
            return [(POS, "DISASTER_HARDSHIP", p, "on D, house damage not recorded, loss 45000.00")]
        p = w.alone()
        row = w.disaster(p, D - 20 * ONE_DAY, "FIRE", "NONE", "12000.00", batch=1)
        w.add("disasters", dict(row, direct_loss=Decimal("31000.00")), batch=2)
        return [(POS, "DISASTER_HARDSHIP", p, "house unharmed, loss reassessed to 31000.00 in the correcting batch")]
    p = w.alone()
    if v == 0:
        w.disaster(p, first - ONE_DAY, "EARTHQUAKE", "COLLAPSED", None)
        return [(NM, "DISASTER_HARDSHIP", p, "worked example: the day before the window")]
    if v == 1:
        w.disaster(p, D - 40 * ONE_DAY, "FLOOD", "DAMAGED", "29999.99")
        return [(NM, "DISASTER_HARDSHIP", p, "worked example: loss 29999.99")]
    if v == 2:
        w.enroll(p, "TEMP_AID", D - 30 * ONE_DAY, end=D + 150 * ONE_DAY, amount=Decimal("1500.00"))
        w.disaster(p, D - 35 * ONE_DAY, "EARTHQUAKE", "COLLAPSED", "80000.00")
        return [(NM, "DISASTER_HARDSHIP", p, "worked example: active in TEMP_AID on D")]
    w.enroll(p, "DIBAO_EDGE", dt.date(2022, 1, 1), amount=Decimal("200.00"))
    w.disaster(p, D - 10 * ONE_DAY, "FLOOD", "COLLAPSED", "60000.00")
    return [(NM, "DISASTER_HARDSHIP", p, "covered by DIBAO_EDGE")]


@truth("DISASTER_HARDSHIP")
def disaster_hardship_truth(o: Facts, disaster_days: int, disaster_loss_threshold: Decimal) -> dict:
    """Alive, not covered, not in TEMP_AID, a disaster in (D - disaster_days, D] that collapsed
    the house or cost at least disaster_loss_threshold."""
    D = o.D
    lo = D - dt.timedelta(days=disaster_days)
    hit = {r["person_id"] for r in o.rows("disasters")
           if lo < r["event_date"] <= D and (r["house_damage"] == "COLLAPSED" or (
               r["direct_loss"] is not None and r["direct_loss"] >= disaster_loss_threshold))}
    return {p: None for p in hit if p not in o.death and not o.covered(p) and not o.active(p, "TEMP_AID")}


@planted("ELDERLY_ALLOWANCE_MISSING")
def elderly_allowance_missing(w: World, i: int, positive: bool):
    D = w.D
    v = i % 4
    eighty = add_months(D, -12 * 80)    # born exactly 80 years before D
    if positive:
        if v == 0:
            p = w.alone(birth=eighty)
            return [(POS, "ELDERLY_ALLOWANCE_MISSING", p, "worked example: born exactly 80 years before D")]
        if v == 1:
            p = w.alone(age=85)
            w.enroll(p, "ELDERLY_ALLOWANCE", dt.date(2022, 1, 1), end=D - ONE_DAY, amount=Decimal("50.00"))
            return [(POS, "ELDERLY_ALLOWANCE_MISSING", p, "worked example: the allowance ended the day before D")]
        if v == 2:
            p = w.alone(age=88)
            w.enroll(p, "TEKUN", dt.date(2020, 1, 1), amount=Decimal("1100.00"))
            return [(POS, "ELDERLY_ALLOWANCE_MISSING", p, "covered by TEKUN, no allowance")]
        p = w.alone(age=81)
        w.enroll(p, "ELDERLY_ALLOWANCE", D + ONE_DAY, amount=Decimal("50.00"), pay=False)
        return [(POS, "ELDERLY_ALLOWANCE_MISSING", p, "the allowance starts the day after D")]
    if v == 0:
        p = w.alone(birth=eighty + ONE_DAY)
        return [(NM, "ELDERLY_ALLOWANCE_MISSING", p, "worked example: born one day later, 79 on D")]
    if v == 1:
        p = w.alone(age=86)
        w.enroll(p, "ELDERLY_ALLOWANCE", dt.date(2021, 1, 1), end=D, amount=Decimal("50.00"))
        return [(NM, "ELDERLY_ALLOWANCE_MISSING", p, "the allowance ends on D")]
    if v == 2:
        p = w.alone(age=90)
        w.died(p, D - 20 * ONE_DAY)
        return [(NM, "ELDERLY_ALLOWANCE_MISSING", p, "died; the household row still NORMAL")]
    p = w.person(age=84)
    w.household([(p, "HEAD")], statuses={p.id: ("MOVED_OUT", dt.date(2023, 5, 1))})
    return [(NM, "ELDERLY_ALLOWANCE_MISSING", p, "moved out (household row not NORMAL)")]


@truth("ELDERLY_ALLOWANCE_MISSING")
def elderly_allowance_missing_truth(o: Facts, elderly_age: int) -> dict:
    """Alive with a NORMAL household row, aged elderly_age or more on D, not active in ELDERLY_ALLOWANCE."""
    return {p: None for p, row in o.household.items()
            if row["status"] == "NORMAL" and p not in o.death and o.age(p) >= elderly_age
            and not o.active(p, "ELDERLY_ALLOWANCE")}
