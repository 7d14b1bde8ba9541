"""Per-person facts of RULES.md "Shared definitions", derived once per run.

:class:`Facts` wraps the silver tables, the check date ``D`` and the rule parameters.
Every fact is a lazily built, memoised DataFrame (``functools.cached_property``), so a
run builds only what its enabled rules use, and each fact is one plan node that all
rules share:

- ``payments_window``: the payments with ``pay_month`` in ``M(D) - lookback + 1 .. M(D)``,
  filtered first on the partition column ``_year`` (Delta prunes whole years), pruned to
  the columns the rules need, with the month's first and last day added, and
  **persisted**: DECEASED, IMPRISONED, DUPLICATE_PAYMENT and PAYMENT_WITHOUT_ENROLLMENT
  all read this one frame, so the biggest table is scanned once per run.
- ``medical_window``: the claims with ``settle_date`` in ``(D - 365 days, D]``, also
  filtered on ``_year`` and persisted.
- ``active`` (enrollment rows active on ``D``), ``covered`` persons, ``death_rows`` /
  ``dead`` (``death_date(p)``, only dates ``<= D``), ``prison`` / ``serving``,
  ``custody``, ``correction``, ``public_employees``, ``severe_disability``, ``spouses``
  and :meth:`Facts.family`, the family edges (self, household NORMAL members, spouse) of
  a set of persons, each edge carrying the source row that links it (evidence).
- Small departmental sets (prison stays, public employees on ``D``, the persons in
  custody or serving) are broadcast to the joins that use them; the rest is left to
  Spark (AQE on the cluster).

Release: ``Facts`` is a context manager; leaving it (or :meth:`Facts.unpersist`)
unpersists the windows. :func:`jobs.rules.detect` does this for you after it has
materialised the candidates.
"""
from __future__ import annotations

import datetime as dt
import logging
from functools import cached_property

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.contract import Contract
from jobs.rules.registry import SharedParams
from jobs.rules.evidence import PREF_HOUSEHOLD, evidence
from jobs.tables import YEAR_COLUMN

log = logging.getLogger(__name__)

MEANS_TESTED = ("DIBAO", "DIBAO_EDGE", "TEKUN")
CUSTODY_KINDS = ("DRUG_REHAB", "DETENTION")


# ---------------------------------------------------------------------------------
# Calendar helpers (Python side: the run's constants)
# ---------------------------------------------------------------------------------
def month_of(d: dt.date) -> str:
    """``M(d)`` as ``YYYY-MM``."""
    return f"{d.year:04d}-{d.month:02d}"


def add_months(month: str, n: int) -> str:
    """``YYYY-MM`` shifted by ``n`` months."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def academic_year(d: dt.date) -> str:
    """The academic year (Sep 1 - Aug 31) containing ``d``, as ``YYYY-YYYY``."""
    start = d.year if d.month >= 9 else d.year - 1
    return f"{start}-{start + 1}"


# ---------------------------------------------------------------------------------
# Column helpers
# ---------------------------------------------------------------------------------
def is_between_dates(start: str | Column, end: str | Column, d: dt.date | Column) -> Column:
    """``start <= d`` and (``end`` null or ``end >= d``): enrolled / employed / in custody."""
    start, end = F.col(start) if isinstance(start, str) else start, F.col(end) if isinstance(end, str) else end
    d = F.lit(d) if isinstance(d, dt.date) else d
    return (start <= d) & (end.isNull() | (end >= d))


def month_start(month: str | Column) -> Column:
    """The first day of a ``YYYY-MM`` month."""
    month = F.col(month) if isinstance(month, str) else month
    return F.try_to_date(F.concat(month, F.lit("-01")), "yyyy-MM-dd")


def month_index(month: str | Column) -> Column:
    """``YYYY-MM`` as a number that grows by one per month (ordering of evidence)."""
    month = F.col(month) if isinstance(month, str) else month
    return F.substring(month, 1, 4).try_cast("long") * 12 + F.substring(month, 6, 2).try_cast("long")


def age_on(person_id: str | Column, d: dt.date) -> Column:
    """Whole years from the birth date inside a normalised ID number to ``d``.

    Compares month*100+day: a 29 February birthday is then reached on 1 March in other
    years, as RULES.md says.
    """
    pid = F.col(person_id) if isinstance(person_id, str) else person_id
    year = F.substring(pid, 7, 4).try_cast("int")
    month_day = F.substring(pid, 11, 4).try_cast("int")
    return F.lit(d.year) - year - F.when(F.lit(d.month * 100 + d.day) < month_day, 1).otherwise(0)


def has_any(programs: str | Column, wanted: tuple[str, ...] | list[str]) -> Column:
    """An array of programmes contains one of ``wanted`` (false for a null array)."""
    programs = F.col(programs) if isinstance(programs, str) else programs
    return F.coalesce(F.arrays_overlap(programs, F.array(*[F.lit(p) for p in wanted])), F.lit(False))


# ---------------------------------------------------------------------------------
# The facts
# ---------------------------------------------------------------------------------
class Facts:
    """The per-person facts for one check date (see the module docstring)."""

    def __init__(self, tables: dict[str, DataFrame], check_date: dt.date, shared: SharedParams,
                 contract: Contract):
        self.tables = tables
        self.contract = contract
        self.d = check_date
        self.shared = shared
        self.month = month_of(check_date)
        self.window_start = add_months(self.month, -(shared.lookback_months - 1))
        self._persisted: list[DataFrame] = []

    # -- lifecycle ----------------------------------------------------------------
    def __enter__(self) -> "Facts":
        return self

    def __exit__(self, *exc) -> None:
        self.unpersist()

    def _persist(self, df: DataFrame) -> DataFrame:
        df = df.persist(StorageLevel.MEMORY_AND_DISK)
        self._persisted.append(df)
        return df

    def unpersist(self) -> None:
        """Release the persisted windows (safe to call twice)."""
        while self._persisted:
            self._persisted.pop().unpersist()

    def evidence(self, df: DataFrame, source: str, **kw) -> DataFrame:
        """Evidence rows of ``source`` from ``df`` (:func:`jobs.rules.evidence.evidence`):
        its key and the columns conf/sources.yaml shows for it."""
        return evidence(df, self.contract[source], **kw)

    def table(self, source: str) -> DataFrame:
        try:
            return self.tables[source]
        except KeyError:
            raise KeyError(f"rules need the silver table {source!r}, which was not given") from None

    # -- windows ------------------------------------------------------------------
    @staticmethod
    def _prune_years(df: DataFrame, first_year: int, last_year: int) -> DataFrame:
        if YEAR_COLUMN in df.columns:
            return df.filter(F.col(YEAR_COLUMN).between(first_year, last_year))
        return df

    @cached_property
    def payments_window(self) -> DataFrame:
        """Payments in window (persisted), with ``_first``/``_last`` day of ``pay_month``."""
        pays = self._prune_years(self.table("payments"), int(self.window_start[:4]), self.d.year)
        pays = (pays.filter(F.col("pay_month").between(self.window_start, self.month))
                .select("payment_id", "person_id", "name", "program", "county_code", "pay_month", "amount")
                .withColumn("_first", month_start("pay_month"))
                .withColumn("_last", F.last_day("_first")))
        return self._persist(pays)

    @cached_property
    def medical_window(self) -> DataFrame:
        """Medical claims with ``settle_date`` in ``(D - 365 days, D]`` (persisted)."""
        since = self.d - dt.timedelta(days=365)
        claims = self._prune_years(self.table("medical"), since.year, self.d.year)
        claims = (claims.filter((F.col("settle_date") > F.lit(since)) & (F.col("settle_date") <= F.lit(self.d)))
                  .select("settlement_id", "person_id", "settle_date", "out_of_pocket"))
        return self._persist(claims)

    # -- enrollment ---------------------------------------------------------------
    @cached_property
    def enrollment(self) -> DataFrame:
        return self.table("enrollment").select(
            "enrollment_id", "person_id", "name", "program", "county_code", "start_date", "end_date")

    @cached_property
    def active(self) -> DataFrame:
        """Enrollment rows active on ``D``: ``enrolled(p, x, D)``."""
        return self.enrollment.filter(is_between_dates("start_date", "end_date", self.d))

    def active_in(self, programs: tuple[str, ...] | list[str] | None = None) -> DataFrame:
        """Active rows, optionally only in the given programmes."""
        if programs is None:
            return self.active
        return self.active.filter(F.col("program").isin(*programs))

    def persons_active_in(self, programs: tuple[str, ...] | list[str] | None = None) -> DataFrame:
        """``person_id`` of the persons with ``active(p, x)`` for some x in ``programs``."""
        return self.active_in(programs).select("person_id").distinct()

    @cached_property
    def covered(self) -> DataFrame:
        """``person_id`` of the persons with ``covered(p)``."""
        return self.persons_active_in(MEANS_TESTED)

    # -- death --------------------------------------------------------------------
    @cached_property
    def death_rows(self) -> DataFrame:
        """Evidence rows that give a ``death_date <= D`` (deaths, funeral, household), with
        the column ``death_date``."""
        d = F.lit(self.d)
        deaths = self.table("deaths").filter(F.col("death_date") <= d)
        funeral = self.table("funeral").filter(F.col("death_date") <= d)
        household = (self.table("household")
                     .filter((F.col("status") == "DECEASED") & F.col("status_date").isNotNull()
                             & (F.col("status_date") <= d))
                     .withColumn("death_date", F.col("status_date")))
        frames = [
            self.evidence(deaths, "deaths", keep=("death_date",)),
            self.evidence(funeral, "funeral", keep=("death_date",)),
            self.evidence(household, "household", values=("household_id", "status", "status_date"),
                     pref=PREF_HOUSEHOLD, keep=("death_date",)),
        ]
        return frames[0].unionByName(frames[1]).unionByName(frames[2])

    @cached_property
    def dead(self) -> DataFrame:
        """``person_id``, ``death_date`` (the earliest, ``<= D``) and its ``death_month``."""
        return (self.death_rows.groupBy("person_id").agg(F.min("death_date").alias("death_date"))
                .withColumn("death_month", F.date_format("death_date", "yyyy-MM")))

    # -- prison, corrections, public employment --------------------------------------
    @cached_property
    def prison(self) -> DataFrame:
        """All prison stays (small: broadcast where joined)."""
        return self.table("prison").select("record_id", "person_id", "name", "admission_date", "release_date")

    @cached_property
    def serving(self) -> DataFrame:
        """Prison stays with ``serving(p, D)``: admitted on or before D, not released by D."""
        d = F.lit(self.d)
        return self.prison.filter((F.col("admission_date") <= d)
                                  & (F.col("release_date").isNull() | (F.col("release_date") > d)))

    @cached_property
    def corrections_on_d(self) -> DataFrame:
        return (self.table("corrections").select("record_id", "person_id", "name", "kind", "start_date", "end_date")
                .filter(is_between_dates("start_date", "end_date", self.d)))

    @cached_property
    def custody(self) -> DataFrame:
        """Corrections rows with ``in_custody(p, D)`` (DRUG_REHAB, DETENTION)."""
        return self.corrections_on_d.filter(F.col("kind").isin(*CUSTODY_KINDS))

    @cached_property
    def correction(self) -> DataFrame:
        """Corrections rows with ``under_correction(p, D)`` (COMMUNITY_CORRECTION)."""
        return self.corrections_on_d.filter(F.col("kind") == "COMMUNITY_CORRECTION")

    @cached_property
    def public_employees(self) -> DataFrame:
        """public_employees rows with ``public_employee(p, D)``."""
        return (self.table("public_employees")
                .select("record_id", "person_id", "name", "employer_type", "start_date", "end_date")
                .filter(is_between_dates("start_date", "end_date", self.d)))

    # -- disability ---------------------------------------------------------------
    @cached_property
    def disability_valid(self) -> DataFrame:
        """Disability rows with status VALID or null, issued on or before D."""
        return (self.table("disability")
                .filter((F.col("status").isNull() | (F.col("status") == "VALID"))
                        & (F.col("issue_date") <= F.lit(self.d))))

    @cached_property
    def severe_disability(self) -> DataFrame:
        """Severe disabilities: level 1-2, or level 3-4 of type INTELLECTUAL or MENTAL."""
        return self.disability_valid.filter(
            F.col("level").isin(1, 2)
            | (F.col("level").isin(3, 4) & F.col("disability_type").isin("INTELLECTUAL", "MENTAL")))

    # -- household and family -----------------------------------------------------
    @cached_property
    def household(self) -> DataFrame:
        return self.table("household")

    @cached_property
    def spouses(self) -> DataFrame:
        """``person_id``, ``spouse_id`` and the MARRIAGE row (``marriage`` columns, prefixed
        ``m_``) that makes them spouses on D: the latest registration of the pair with
        ``reg_date <= D`` is a MARRIAGE (a DIVORCE on the same date counts as later)."""
        regs = (self.table("marriage")
                .filter((F.col("reg_date") <= F.lit(self.d)) & (F.col("person_id_a") != F.col("person_id_b")))
                .withColumn("_lo", F.least("person_id_a", "person_id_b"))
                .withColumn("_hi", F.greatest("person_id_a", "person_id_b")))
        latest = Window.partitionBy("_lo", "_hi").orderBy(
            F.col("reg_date").desc(), F.when(F.col("kind") == "DIVORCE", 0).otherwise(1),
            F.col("registration_id").desc())
        married = (regs.withColumn("_n", F.row_number().over(latest))
                   .filter((F.col("_n") == 1) & (F.col("kind") == "MARRIAGE")))
        cols = [F.col(c).alias("m_" + c) for c in ("registration_id", "person_id_a", "person_id_b", "kind", "reg_date")]
        one = married.select(F.col("person_id_a").alias("person_id"), F.col("person_id_b").alias("spouse_id"), *cols)
        two = married.select(F.col("person_id_b").alias("person_id"), F.col("person_id_a").alias("spouse_id"), *cols)
        return one.unionByName(two)

    def family(self, persons: DataFrame) -> DataFrame:
        """The family of each person in ``persons`` (a frame with ``person_id``).

        Columns: ``person_id``, ``member_id`` and the linking source row as
        ``link_source``, ``link_key``, ``link_values`` (null for ``p`` itself): the
        member's household row (NORMAL, same household_id as p's row, p excluded) or the
        MARRIAGE registration.
        """
        persons = persons.select("person_id").distinct()
        no_link = [F.lit(None).cast("string").alias("link_source"), F.lit(None).cast("string").alias("link_key"),
                   F.lit(None).cast("map<string,string>").alias("link_values")]
        own = persons.select("person_id", F.col("person_id").alias("member_id"), *no_link)

        hh = self.household
        mine = hh.select("person_id", "household_id")
        members = hh.filter(F.col("status") == "NORMAL").select(
            F.col("person_id").alias("member_id"), "household_id",
            F.lit("household").alias("link_source"), F.col("person_id").alias("link_key"),
            F.create_map(F.lit("household_id"), F.col("household_id"),
                         F.lit("relation_to_head"), F.col("relation_to_head"),
                         F.lit("status"), F.col("status")).alias("link_values"))
        household = (persons.join(mine, "person_id").join(members, "household_id")
                     .filter(F.col("member_id") != F.col("person_id")).drop("household_id"))

        spouse = persons.join(self.spouses, "person_id").select(
            "person_id", F.col("spouse_id").alias("member_id"),
            F.lit("marriage").alias("link_source"), F.col("m_registration_id").alias("link_key"),
            F.create_map(F.lit("person_id_a"), F.col("m_person_id_a"), F.lit("person_id_b"), F.col("m_person_id_b"),
                         F.lit("kind"), F.col("m_kind"),
                         F.lit("reg_date"), F.col("m_reg_date").cast("string")).alias("link_values"))
        return own.unionByName(household).unionByName(spouse)

    def months_ending(self, n: int) -> tuple[str, str]:
        """The first and last of the ``n`` months ending at ``M(D)`` (``YYYY-MM``)."""
        return add_months(self.month, -(n - 1)), self.month

    def family_size(self, family: DataFrame) -> DataFrame:
        """``person_id``, ``persons``: the distinct persons in each family of ``family``
        (:meth:`family`; ``p`` once, a spouse who is also in the household once)."""
        return family.groupBy("person_id").agg(F.count_distinct("member_id").alias("persons"))

    @cached_property
    def insurance_window(self) -> DataFrame:
        """social_insurance rows of the 12 months ending at M(D) (persisted): the family
        income's pensions and INCOME_COLLAPSE's 3 months read it."""
        first, last = self.months_ending(12)
        rows = self._prune_years(self.table("social_insurance"), int(first[:4]), self.d.year)
        return self._persist(rows.filter(F.col("month").between(first, last)))

    @cached_property
    def income_rows(self) -> DataFrame:
        """The rows of family income (RULES.md) over the 12 months ending at M(D), as
        ``person_id`` (whose income), ``amount`` and the row as evidence columns
        (``source``, ``key``, ``values``): ``tax.income`` and the PENSION rows of
        ``social_insurance``."""
        first, last = self.months_ending(12)
        tax = self.table("tax").filter(F.col("tax_month").between(first, last))
        pensions = self.insurance_window.filter(F.col("item") == "PENSION")
        rows = [self.evidence(tax, "tax", keep=("income",)).withColumnRenamed("income", "amount"),
                self.evidence(pensions, "social_insurance", keep=("amount",))]
        return rows[0].unionByName(rows[1])

    # -- parents' state (CHILD_UNSUPPORTED) -----------------------------------------
    @cached_property
    def hardship_rows(self) -> DataFrame:
        """Evidence rows of a person's state that can leave a child unsupported, as
        evidence frames (about that person) with a ``state`` column: DEAD, SERVING,
        CUSTODY or SEVERE."""
        frames = [
            self.death_rows.withColumn("state", F.lit("DEAD")),
            self.evidence(self.serving, "prison").withColumn("state", F.lit("SERVING")),
            self.evidence(self.custody, "corrections").withColumn("state", F.lit("CUSTODY")),
            self.evidence(self.severe_disability, "disability").withColumn("state", F.lit("SEVERE")),
        ]
        out = frames[0].drop("death_date")
        for frame in frames[1:]:
            out = out.unionByName(frame)
        return out
