"""The rule catalogue: one function per rule of RULES.md, registered with ``@rule``.

A rule function takes the run's :class:`~jobs.rules.facts.Facts` and returns a
:class:`~jobs.rules.evidence.Finding`: ``hits`` (``person_id``, ``amount_at_risk``; one
row per person that fires) and the evidence frames behind them.
:func:`jobs.rules.detect` runs the rules that conf/rules.yaml enables and unions them.

A new rule is an entry in conf/rules.yaml plus one function here, whose parameters after
``f`` are the entry's ``params`` (:mod:`jobs.rules.registry` checks them on load)::

    @rule("MY_RULE")
    def my_rule(f: Facts, my_threshold: Decimal) -> Finding:
        ...

source_county / source_name preferences: the latest payment behind the warning for the
payment rules (DECEASED, IMPRISONED, DUPLICATE_PAYMENT, PAYMENT_WITHOUT_ENROLLMENT),
else the enrollment (latest start_date, then smallest enrollment_id), else p's household
row, else any other row about p (never a family member's or a parent's row).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.rules.evidence import AMOUNT, PREF_ENROLLMENT, PREF_HOUSEHOLD, PREF_OTHER, PREF_PAYMENT, Finding
from jobs.rules.facts import MEANS_TESTED, Facts, academic_year, add_months, age_on, has_any, month_index
from jobs.rules.registry import rule

DIBAO_OR_TEKUN = ("DIBAO", "TEKUN")
STUDENT_STAGES = ("SENIOR", "VOCATIONAL", "COLLEGE")


# ---------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------
def _no_amount(persons: DataFrame) -> DataFrame:
    return persons.select("person_id").distinct().withColumn("amount_at_risk", F.lit(None).cast(AMOUNT))


def _amount_or_zero(persons: DataFrame, amounts: DataFrame) -> DataFrame:
    """Every person of ``persons``, with the ``amount`` of ``amounts`` or 0."""
    return (persons.select("person_id").distinct().join(amounts, "person_id", "left")
            .select("person_id", F.coalesce(F.col("amount"), F.lit(0).cast(AMOUNT)).alias("amount_at_risk")))


def _only(df: DataFrame, persons: DataFrame, col: str = "person_id", small: bool = False) -> DataFrame:
    """Rows of ``df`` whose ``col`` is a person of ``persons`` (``small``: broadcast them)."""
    wanted = persons.select(F.col("person_id").alias(col)).distinct()
    return df.join(F.broadcast(wanted) if small else wanted, col, "left_semi")


def _without(df: DataFrame, persons: DataFrame) -> DataFrame:
    return df.join(persons.select("person_id"), "person_id", "left_anti")


def _enrollments(f: Facts, df: DataFrame) -> DataFrame:
    return f.evidence(df, "enrollment", pref=PREF_ENROLLMENT, order=F.unix_date("start_date"))


def _payments(f: Facts, df: DataFrame) -> DataFrame:
    return f.evidence(df, "payments", pref=PREF_PAYMENT, order=month_index("pay_month"))


def _death_evidence(f: Facts) -> DataFrame:
    return f.death_rows.drop("death_date")


def _about(rows: DataFrame, owner: str, person: str) -> DataFrame:
    """Re-key evidence rows of ``owner`` to the warning's ``person`` (a family member's or
    a parent's rows): the owner's ID joins the values; no county or name from them."""
    return rows.select(
        F.col(person).alias("person_id"), "source", "key",
        F.map_concat(F.create_map(F.lit("person_id"), F.col(owner)), F.col("values")).alias("values"),
        F.lit(None).cast("string").alias("_county"), F.lit(None).cast("string").alias("_name"),
        "_pref", "_order")


def _family_assets(f: Facts, programs: tuple[str, ...], assets: DataFrame, source: str) -> Finding:
    """Fires for p active in one of ``programs`` when someone in p's family owns a row of
    ``assets`` (a frame of ``source`` rows, already filtered to those that count)."""
    enrolled = f.active_in(programs)
    family = f.family(enrolled).withColumnRenamed("person_id", "_p")
    owned = family.join(assets, F.col("member_id") == assets["person_id"])
    hits = _no_amount(owned.select(F.col("_p").alias("person_id")))
    links = owned.filter(F.col("link_source").isNotNull()).select(
        F.col("_p").alias("person_id"), F.col("link_source").alias("source"), F.col("link_key").alias("key"),
        F.col("link_values").alias("values"), F.lit(None).cast("string").alias("_county"),
        F.lit(None).cast("string").alias("_name"), F.lit(PREF_OTHER).alias("_pref"),
        F.lit(None).cast("long").alias("_order"))
    return Finding(hits, [_enrollments(f, _only(enrolled, hits)),
                          f.evidence(owned, source, person="_p", about_other=True), links])


# ---------------------------------------------------------------------------------
# INELIGIBLE
# ---------------------------------------------------------------------------------
@rule("DECEASED")
def deceased(f: Facts) -> Finding:
    """dead(p) and (an active enrollment, or a payment in window for a month after the
    month of death). Amount: those post-death payments (0 if none)."""
    post = (f.payments_window.join(f.dead.select("person_id", "death_month"), "person_id")
            .filter(F.col("pay_month") > F.col("death_month")))
    active = _only(f.active, f.dead)
    amounts = post.groupBy("person_id").agg(F.sum("amount").alias("amount"))
    hits = _amount_or_zero(post.select("person_id").unionByName(active.select("person_id")), amounts)
    return Finding(hits, [_only(_death_evidence(f), hits), _payments(f, post), _enrollments(f, active)])


@rule("IMPRISONED")
def imprisoned(f: Facts) -> Finding:
    """serving(p, D) and an active enrollment; or payments in window for months wholly
    inside one prison stay (admitted on or before the 1st, not released by the last day).
    Amount: those payments (0 if none)."""
    stays = f.prison.select(F.col("record_id").alias("_stay"), F.col("person_id").alias("_sp"),
                            F.col("admission_date").alias("_adm"), F.col("release_date").alias("_rel"))
    inside = f.payments_window.join(
        F.broadcast(stays),
        (F.col("person_id") == F.col("_sp")) & (F.col("_adm") <= F.col("_first"))
        & (F.col("_rel").isNull() | (F.col("_rel") > F.col("_last"))))
    paid = inside.dropDuplicates(["payment_id"])
    serving_active = _only(f.serving, f.active)
    amounts = paid.groupBy("person_id").agg(F.sum("amount").alias("amount"))
    hits = _amount_or_zero(paid.select("person_id").unionByName(serving_active.select("person_id")), amounts)
    stays_behind = f.prison.join(inside.select(F.col("_stay").alias("record_id")), "record_id", "left_semi")
    return Finding(hits, [
        f.evidence(stays_behind.unionByName(serving_active), "prison"),
        _payments(f, paid),
        _enrollments(f, _only(f.active, serving_active, small=True)),
    ])


@rule("IN_CUSTODY")
def in_custody(f: Facts) -> Finding:
    """in_custody(p, D) (DRUG_REHAB, DETENTION) and an active enrollment."""
    custody = _only(f.custody, f.active)
    return Finding(_no_amount(custody),
                   [f.evidence(custody, "corrections"), _enrollments(f, _only(f.active, custody, small=True))])


@rule("PUBLIC_EMPLOYEE")
def public_employee(f: Facts) -> Finding:
    """Active in a MEANS_TESTED programme and someone in p's family is a public employee on D."""
    return _family_assets(f, MEANS_TESTED, F.broadcast(f.public_employees), "public_employees")


@rule("PROVIDENT_FUND")
def provident_fund(f: Facts, pf_min_months: int, pf_window_months: int) -> Finding:
    """Active in DIBAO or TEKUN and contributions > 0 in at least pf_min_months distinct
    months among the pf_window_months months ending at M(D)."""
    first = add_months(f.month, -(pf_window_months - 1))
    enrolled = f.active_in(DIBAO_OR_TEKUN)
    paid_in = _only(f.table("provident_fund")
                    .filter(F.col("contribution_month").between(first, f.month) & (F.col("amount") > 0)),
                    enrolled)
    months = (paid_in.groupBy("person_id").agg(F.count_distinct("contribution_month").alias("months"))
              .filter(F.col("months") >= pf_min_months))
    return Finding(_no_amount(months), [
        _enrollments(f, _only(enrolled, months)),
        f.evidence(_only(paid_in, months), "provident_fund", order=month_index("contribution_month"))])


@rule("HIGH_INCOME")
def high_income(f: Facts, income_threshold: Decimal) -> Finding:
    """covered(p) and tax.income over the 12 months ending at M(D) >= income_threshold."""
    first = add_months(f.month, -11)
    covered_rows = f.active_in(MEANS_TESTED)
    income = _only(f.table("tax").filter(F.col("tax_month").between(first, f.month)), covered_rows)
    over = (income.groupBy("person_id").agg(F.sum("income").alias("income"))
            .filter(F.col("income") >= F.lit(income_threshold)))
    return Finding(_no_amount(over), [_enrollments(f, _only(covered_rows, over)),
                                      f.evidence(_only(income, over), "tax", order=month_index("tax_month"))])


@rule("VEHICLE")
def vehicle(f: Facts, vehicle_exempt_price: Decimal) -> Finding:
    """Active in DIBAO or TEKUN and a family member's CAR or TRUCK, registered on D,
    priced above vehicle_exempt_price or unpriced."""
    d = F.lit(f.d)
    cars = f.table("vehicles").filter(
        (F.col("registration_date") <= d)
        & (F.col("deregistration_date").isNull() | (F.col("deregistration_date") > d))
        & F.col("vehicle_type").isin("CAR", "TRUCK")
        & (F.col("purchase_price").isNull() | (F.col("purchase_price") > F.lit(vehicle_exempt_price))))
    return _family_assets(f, DIBAO_OR_TEKUN, cars, "vehicles")


@rule("BUSINESS")
def business(f: Facts, controlling_share: Decimal) -> Finding:
    """Active in DIBAO or TEKUN and a family member is LEGAL_REP of, or holds at least
    controlling_share % of, an ENTERPRISE registered on D."""
    d = F.lit(f.d)
    firms = f.table("business").filter(
        (F.col("reg_date") <= d) & (F.col("dereg_date").isNull() | (F.col("dereg_date") > d))
        & (F.col("business_type") == "ENTERPRISE")
        & ((F.col("role") == "LEGAL_REP")
           | F.coalesce(F.col("share_pct") >= F.lit(controlling_share), F.lit(False))))
    return _family_assets(f, DIBAO_OR_TEKUN, firms, "business")


# ---------------------------------------------------------------------------------
# DUPLICATE
# ---------------------------------------------------------------------------------
@rule("EXCLUSIVE_PROGRAMS")
def exclusive_programs(f: Facts, exclusive_pairs: tuple[tuple[str, str], ...]) -> Finding:
    """Active in both programmes of a pair in exclusive_pairs."""
    programs = f.active.groupBy("person_id").agg(F.collect_set("program").alias("programs"))
    empty = F.array().cast("array<string>")
    fired = [F.when(F.array_contains("programs", x) & F.array_contains("programs", y),
                    F.array(F.lit(x), F.lit(y))).otherwise(empty)
             for x, y in exclusive_pairs]
    involved = F.array_distinct(F.flatten(F.array(*fired))) if fired else empty
    clash = programs.select("person_id", involved.alias("involved")).filter(F.size("involved") > 0)
    rows = f.active.join(clash, "person_id").filter(F.array_contains("involved", F.col("program")))
    return Finding(_no_amount(clash), [_enrollments(f, rows)])


@rule("DUPLICATE_ENROLLMENT")
def duplicate_enrollment(f: Facts) -> Finding:
    """Two or more distinct enrollment rows of p in the same programme active on D."""
    twice = (f.active.groupBy("person_id", "program")
             .agg(F.count_distinct("enrollment_id").alias("rows")).filter(F.col("rows") >= 2))
    rows = f.active.join(twice.select("person_id", "program"), ["person_id", "program"], "left_semi")
    return Finding(_no_amount(twice), [_enrollments(f, rows)])


@rule("DUPLICATE_PAYMENT")
def duplicate_payment(f: Facts) -> Finding:
    """Two or more distinct payments in window for the same programme and month.
    Amount: per (programme, month) sum - max, summed."""
    pays = f.payments_window
    groups = (pays.groupBy("person_id", "program", "pay_month")
              .agg(F.count_distinct("payment_id").alias("rows"), F.sum("amount").alias("total"),
                   F.max("amount").alias("largest"))
              .filter(F.col("rows") >= 2))
    amounts = groups.groupBy("person_id").agg(F.sum(F.col("total") - F.col("largest")).alias("amount"))
    rows = pays.join(groups.select("person_id", "program", "pay_month"),
                     ["person_id", "program", "pay_month"], "left_semi")
    return Finding(_amount_or_zero(groups, amounts), [_payments(f, rows)])


# ---------------------------------------------------------------------------------
# PAYMENT
# ---------------------------------------------------------------------------------
@rule("PAYMENT_WITHOUT_ENROLLMENT")
def payment_without_enrollment(f: Facts) -> Finding:
    """Payments in window for a month that no enrollment row of p in that programme
    overlaps. Amount: those payments."""
    spans = f.enrollment.select(F.col("person_id").alias("_ep"), F.col("program").alias("_eprog"),
                                F.col("start_date").alias("_start"), F.col("end_date").alias("_end"))
    unbacked = f.payments_window.join(
        spans,
        (F.col("person_id") == F.col("_ep")) & (F.col("program") == F.col("_eprog"))
        & (F.col("_start") <= F.col("_last")) & (F.col("_end").isNull() | (F.col("_end") >= F.col("_first"))),
        "left_anti")
    amounts = unbacked.groupBy("person_id").agg(F.sum("amount").alias("amount"))
    return Finding(_amount_or_zero(unbacked, amounts), [_payments(f, unbacked)])


# ---------------------------------------------------------------------------------
# PROACTIVE
# ---------------------------------------------------------------------------------
@rule("MEDICAL_BURDEN")
def medical_burden(f: Facts, medical_threshold: Decimal) -> Finding:
    """Not dead, not covered, out_of_pocket over settle_date in (D - 365 days, D]
    >= medical_threshold."""
    claims = f.medical_window
    heavy = (claims.groupBy("person_id").agg(F.sum("out_of_pocket").alias("paid"))
             .filter(F.col("paid") >= F.lit(medical_threshold)))
    hits = _no_amount(_without(_without(heavy, f.dead), f.covered))
    return Finding(hits, [f.evidence(_only(claims, hits), "medical", order=F.unix_date("settle_date"))])


@rule("NEW_SEVERE_DISABILITY")
def new_severe_disability(f: Facts, new_cert_days: int) -> Finding:
    """Not dead; a severe disability issued in (D - new_cert_days, D]; not active in
    DISABLED_CARE nor TEKUN."""
    since = f.d - dt.timedelta(days=new_cert_days)
    certs = f.severe_disability.filter(F.col("issue_date") > F.lit(since))
    hits = _no_amount(_without(_without(certs, f.dead), f.persons_active_in(("DISABLED_CARE", "TEKUN"))))
    return Finding(hits, [f.evidence(certs, "disability", order=F.unix_date("issue_date"))])


@rule("DISABLED_WITHOUT_LIVING_SUBSIDY")
def disabled_without_living_subsidy(f: Facts) -> Finding:
    """Not dead; active in DIBAO; a disability row (VALID or null, issued on or before D);
    not active in DISABLED_LIVING."""
    dibao = f.active_in(("DIBAO",))
    certs = _only(f.disability_valid, dibao)
    hits = _no_amount(_without(_without(certs, f.dead), f.persons_active_in(("DISABLED_LIVING",))))
    return Finding(hits, [_enrollments(f, _only(dibao, hits)),
                          f.evidence(_only(certs, hits), "disability", order=F.unix_date("issue_date"))])


@rule("EDUCATION_BURDEN")
def education_burden(f: Facts, edu_min_students: int, edu_tuition_threshold: Decimal) -> Finding:
    """p is the HEAD (NORMAL, not dead) of a household where no NORMAL member is covered
    and, in the academic year containing D, at least edu_min_students members have a
    SENIOR/VOCATIONAL/COLLEGE record or the tuition of all records >= edu_tuition_threshold."""
    normal = f.household.filter(F.col("status") == "NORMAL")
    covered_households = normal.join(f.covered, "person_id", "left_semi").select("household_id").distinct()
    heads = (_without(normal.filter(F.col("relation_to_head") == "HEAD"), f.dead)
             .join(covered_households, "household_id", "left_anti"))
    records = f.table("education").filter(F.col("academic_year") == academic_year(f.d))
    member_records = (normal.select(F.col("person_id").alias("_member"), "household_id")
                      .join(records, F.col("_member") == records["person_id"]))
    burdened = (member_records.groupBy("household_id").agg(
        F.count_distinct(F.when(F.col("stage").isin(*STUDENT_STAGES), F.col("person_id"))).alias("students"),
        F.coalesce(F.sum("tuition"), F.lit(0).cast(AMOUNT)).alias("tuition"))
        .filter((F.col("students") >= edu_min_students)
                | (F.col("tuition") >= F.lit(edu_tuition_threshold))))
    head_rows = heads.join(burdened.select("household_id"), "household_id")
    behind = member_records.join(head_rows.select(F.col("person_id").alias("_head"), "household_id"),
                                 "household_id")
    return Finding(_no_amount(head_rows), [
        f.evidence(head_rows, "household", values=("household_id", "relation_to_head", "status"),
                 pref=PREF_HOUSEHOLD),
        f.evidence(behind, "education", person="_head", about_other=True)])


@rule("RELEASED_PRISONER")
def released_prisoner(f: Facts, release_days: int) -> Finding:
    """Not dead, not covered, not serving on D, released in (D - release_days, D]."""
    since = f.d - dt.timedelta(days=release_days)
    released = f.prison.filter((F.col("release_date") > F.lit(since)) & (F.col("release_date") <= F.lit(f.d)))
    hits = _no_amount(_without(_without(_without(released, f.dead), f.covered), f.serving))
    return Finding(hits, [f.evidence(released, "prison", order=F.unix_date("release_date"))])


@rule("COMMUNITY_CORRECTION")
def community_correction(f: Facts) -> Finding:
    """Not dead, not covered, under_correction(p, D)."""
    rows = f.correction
    hits = _no_amount(_without(_without(rows, f.dead), f.covered))
    return Finding(hits, [f.evidence(rows, "corrections", order=F.unix_date("start_date"))])


@rule("CHILD_UNSUPPORTED")
def child_unsupported(f: Facts) -> Finding:
    """Not dead, under 18, not active in ORPHAN nor UNSUPPORTED_CHILD; the household row
    names both parents; each parent is dead, serving, in custody or severely disabled; at
    least one serving or in custody."""
    kids = f.household.filter(F.col("father_id").isNotNull() & F.col("mother_id").isNotNull()
                              & (age_on("person_id", f.d) < 18))
    kids = _without(_without(kids, f.dead), f.persons_active_in(("ORPHAN", "UNSUPPORTED_CHILD")))
    states = f.hardship_rows
    flags = states.groupBy("person_id").agg(F.collect_set("state").alias("states"))
    father = flags.select(F.col("person_id").alias("father_id"), F.col("states").alias("_father_states"))
    mother = flags.select(F.col("person_id").alias("mother_id"), F.col("states").alias("_mother_states"))
    held = ("SERVING", "CUSTODY")
    unsupported = (kids.join(father, "father_id").join(mother, "mother_id")
                   .filter(has_any("_father_states", held) | has_any("_mother_states", held)))
    parents = unsupported.select(F.col("person_id").alias("_child"),
                                 F.explode(F.array("father_id", "mother_id")).alias("person_id"))
    parent_rows = states.drop("state").join(parents, "person_id")
    return Finding(_no_amount(unsupported), [
        f.evidence(unsupported, "household",
                 values=("household_id", "relation_to_head", "status", "father_id", "mother_id"),
                 pref=PREF_HOUSEHOLD),
        _about(parent_rows, "person_id", "_child")])


# ---------------------------------------------------------------------------------
# Income, monitoring, disasters, old age (social insurance, rural revitalisation,
# emergency management, the household registry)
# ---------------------------------------------------------------------------------
def _family_links(family: DataFrame) -> DataFrame:
    """The household and marriage rows that make the members of each family (evidence)."""
    return family.filter(F.col("link_source").isNotNull()).select(
        "person_id", F.col("link_source").alias("source"), F.col("link_key").alias("key"),
        F.col("link_values").alias("values"), F.lit(None).cast("string").alias("_county"),
        F.lit(None).cast("string").alias("_name"), F.lit(PREF_OTHER).alias("_pref"),
        F.lit(None).cast("long").alias("_order"))


@rule("FAMILY_INCOME")
def family_income(f: Facts, dibao_standard: Decimal) -> Finding:
    """Active in DIBAO and the family income (tax income and pensions of the persons in the
    family over the 12 months ending at M(D)) >= dibao_standard x 12 x those persons."""
    dibao = f.active_in(("DIBAO",))
    family = f.family(dibao)
    members = family.select("person_id", "member_id").distinct()   # a spouse in the household once
    income = members.join(f.income_rows.withColumnRenamed("person_id", "member_id"), "member_id")
    totals = income.groupBy("person_id").agg(F.sum("amount").alias("income"))
    over = (f.family_size(family).join(totals, "person_id")
            .filter(F.col("income") >= F.lit(dibao_standard) * 12 * F.col("persons")))
    rows = _only(income, over)
    behind = rows.select(
        "person_id", "source", "key",
        F.when(F.col("member_id") != F.col("person_id"),
               F.map_concat(F.create_map(F.lit("person_id"), F.col("member_id")), F.col("values")))
        .otherwise(F.col("values")).alias("values"),
        F.lit(None).cast("string").alias("_county"), F.lit(None).cast("string").alias("_name"),
        F.lit(PREF_OTHER).alias("_pref"), F.lit(None).cast("long").alias("_order"))
    return Finding(_no_amount(over), [_enrollments(f, _only(dibao, over)), behind,
                                      _family_links(_only(family, over))])


@rule("INCOME_COLLAPSE")
def income_collapse(f: Facts) -> Finding:
    """Not dead, not covered; an UNEMPLOYMENT_BENEFIT row for one of the 3 months ending at
    M(D); and nobody in the family (p included) with an EMPLOYEE_CONTRIBUTION > 0 in them."""
    first, last = f.months_ending(3)
    months = F.col("month").between(first, last)
    insurance = f.insurance_window
    benefits = insurance.filter((F.col("item") == "UNEMPLOYMENT_BENEFIT") & months)
    benefits = _without(_without(benefits, f.dead), f.covered)
    family = f.family(benefits)
    earning = insurance.filter((F.col("item") == "EMPLOYEE_CONTRIBUTION") & (F.col("amount") > 0) & months)
    working = (family.join(earning.select(F.col("person_id").alias("member_id")).distinct(), "member_id")
               .select("person_id"))
    hits = _no_amount(_without(benefits, working))
    return Finding(hits, [f.evidence(_only(benefits, hits), "social_insurance", order=month_index("month"))])


@rule("RURAL_MONITORED")
def rural_monitored(f: Facts) -> Finding:
    """Not dead, not covered; monitored on D (identified on or before D, not eliminated by D)."""
    d = F.lit(f.d)
    rows = f.table("rural_monitoring").filter(
        (F.col("identified_date") <= d) & (F.col("eliminated_date").isNull() | (F.col("eliminated_date") > d)))
    hits = _no_amount(_without(_without(rows, f.dead), f.covered))
    return Finding(hits, [f.evidence(_only(rows, hits), "rural_monitoring", order=F.unix_date("identified_date"))])


@rule("DISASTER_HARDSHIP")
def disaster_hardship(f: Facts, disaster_days: int, disaster_loss_threshold: Decimal) -> Finding:
    """Not dead, not covered, not active in TEMP_AID; a disaster in (D - disaster_days, D]
    whose house collapsed or whose direct loss >= disaster_loss_threshold."""
    since = f.d - dt.timedelta(days=disaster_days)
    rows = f.table("disasters").filter(
        (F.col("event_date") > F.lit(since)) & (F.col("event_date") <= F.lit(f.d))
        & ((F.col("house_damage") == "COLLAPSED")
           | F.coalesce(F.col("direct_loss") >= F.lit(disaster_loss_threshold), F.lit(False))))
    hits = _no_amount(_without(_without(_without(rows, f.dead), f.covered), f.persons_active_in(("TEMP_AID",))))
    return Finding(hits, [f.evidence(_only(rows, hits), "disasters", order=F.unix_date("event_date"))])


@rule("ELDERLY_ALLOWANCE_MISSING")
def elderly_allowance_missing(f: Facts, elderly_age: int) -> Finding:
    """Not dead; a household row with status NORMAL; aged elderly_age or more on D; not
    active in ELDERLY_ALLOWANCE."""
    old = f.household.filter((F.col("status") == "NORMAL") & (age_on("person_id", f.d) >= elderly_age))
    hits = _no_amount(_without(_without(old, f.dead), f.persons_active_in(("ELDERLY_ALLOWANCE",))))
    return Finding(hits, [f.evidence(_only(old, hits), "household",
                                     values=("household_id", "relation_to_head", "status"), pref=PREF_HOUSEHOLD)])
