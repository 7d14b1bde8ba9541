"""A small, slow, independent reading of the contract in plain Python.

``ingest(rows, contract, D)`` applies README s.2-4 to delivered rows (parse, normalise,
quarantine, collapse identical rows, KEY_CONFLICT, latest batch wins) and
``evaluate(tables, rules, D)`` applies RULES.md: it builds the shared :class:`Facts`
once (RULES.md's shared definitions: active, covered, dead, serving, family, severe
disability, payments in window...) and calls the truth of every enabled rule, registered
with ``@truth`` beside the rule's planted cases (:mod:`jobs.generate.cases`), with the
rule's parameters from conf/rules.yaml.

The generator runs both over its planted cases to write ``_truth/expected.csv`` (the
planted people are fresh and share nothing with the background), and the tests run them
over a whole small landing zone read back from the files, to prove that the background
fires nothing.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from jobs.generate.common import add_months, age_at, normalize_id

if TYPE_CHECKING:
    from jobs.rules.registry import RulesConfig

MT = ("DIBAO", "DIBAO_EDGE", "TEKUN")   # the means-tested programmes: "covered"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
_DATE_RES = [re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), re.compile(r"^(\d{4})/(\d{2})/(\d{2})$"),
             re.compile(r"^(\d{4})(\d{2})(\d{2})$")]
_MONTH_RES = [re.compile(r"^(\d{4})-(\d{2})$"), re.compile(r"^(\d{4})(\d{2})$")]
_DEC = re.compile(r"^\d+(\.\d{1,2})?$")
_BAD = object()


def parse_date(s: str):
    for rx in _DATE_RES:
        m = rx.match(s)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return _BAD
    return _BAD


def parse_month(s: str):
    for rx in _MONTH_RES:
        m = rx.match(s)
        if m and 1 <= int(m[2]) <= 12:
            return f"{m[1]}-{m[2]}"
    return _BAD


def parse_value(col, raw, D: dt.date):
    """(value, ok) for one cell; value None means null."""
    if raw is None:
        return None, True
    if col.type == "id":
        if str(raw).strip() == "":
            return None, True
        v = normalize_id(str(raw), D)
        return v, v is not None
    s = str(raw).strip()
    if s == "":
        return None, True
    if col.type == "date":
        v = parse_date(s)
        return (None, False) if v is _BAD else (v, True)
    if col.type == "month":
        v = parse_month(s)
        return (None, False) if v is _BAD else (v, True)
    if col.type == "decimal":
        if not _DEC.match(s):
            return None, False
        v = Decimal(s)
        if col.max is not None and v > Decimal(str(col.max)):
            return None, False
        return v.quantize(Decimal("0.01")), True
    if col.type == "int":
        try:
            v = int(s)
        except ValueError:
            return None, False
        if (col.min is not None and v < col.min) or (col.max is not None and v > col.max):
            return None, False
        return v, True
    if col.type == "enum":
        if s.upper() in col.values:
            return s.upper(), True
        if s in col.value_aliases:
            return col.value_aliases[s], True
        return None, False
    if col.pattern == "YYYY-YYYY":
        m = re.match(r"^(\d{4})-(\d{4})$", s)
        if not m or int(m[2]) != int(m[1]) + 1:
            return None, False
    return s, True


def ingest(delivered: list[tuple[str, str, dict]], contract, D: dt.date) -> dict[str, list[dict]]:
    """delivered: (source, batch, {column: raw}) -> silver-like rows per source."""
    by_batch: dict[tuple[str, str], dict[tuple, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for source, batch, raw in delivered:
        spec = contract[source]
        row, ok = {}, True
        for name, col in spec.columns.items():
            v, good = parse_value(col, raw.get(name), D)
            if not good and col.type == "id" and not col.required:
                v, good = None, True
            if not good or (col.required and v is None):
                ok = False
                break
            row[name] = v
        if not ok:
            continue
        key = tuple(row[k] for k in spec.key)
        by_batch[(source, batch)][key].append(row)
    latest: dict[str, dict[tuple, tuple[str, dict]]] = defaultdict(dict)
    for (source, batch), groups in sorted(by_batch.items(), key=lambda kv: kv[0][1]):
        for key, rows in groups.items():
            first = rows[0]
            if any(r != first for r in rows[1:]):
                continue  # KEY_CONFLICT: all quarantined
            latest[source][key] = (batch, first)
    return {s: [r for _, r in rows.values()] for s, rows in latest.items()}


class Facts:
    """RULES.md's shared definitions over silver-like rows, built once for every rule's truth.

    Per person: ``enrollments``, ``death`` (the earliest death date on or before D, from
    deaths, funeral or a DECEASED household row with a date), ``household`` (the row),
    ``prison`` stays, ``corrections``, ``public_jobs``, ``spouses``, ``disability``
    certificates and ``payments`` in the window (M(D) - lookback + 1 .. M(D)); per
    household: the NORMAL ``members``. Rule-specific rows are read with :meth:`rows`.
    """

    def __init__(self, tables: dict[str, list[dict]], D: dt.date, lookback_months: int):
        self.tables, self.D = tables, D
        self.mD = f"{D.year:04d}-{D.month:02d}"
        self.win_lo = self.m_minus(lookback_months - 1)
        self.enrollments = _by_person(self.rows("enrollment"))
        self.death = _deaths(self.rows("deaths") + self.rows("funeral"), self.rows("household"), D)
        self.household = {r["person_id"]: r for r in self.rows("household")}
        self.prison = _by_person(self.rows("prison"))
        self.corrections = _by_person(self.rows("corrections"))
        self.public_jobs = _by_person(self.rows("public_employees"))
        members = defaultdict(set)
        for r in self.rows("household"):
            if r["status"] == "NORMAL":
                members[r["household_id"]].add(r["person_id"])
        self.members = dict(members)
        self.spouses = _spouses(self.rows("marriage"), D)
        self.disability = _by_person(self.rows("disability"))
        self.payments = _by_person(r for r in self.rows("payments") if self.win_lo <= r["pay_month"] <= self.mD)

    def rows(self, source: str) -> list[dict]:
        return self.tables.get(source, [])

    def m_minus(self, n: int) -> str:
        """The month n months before M(D), as YYYY-MM."""
        d = add_months(self.D.replace(day=1), -n)
        return f"{d.year:04d}-{d.month:02d}"

    def months_ending(self, n: int) -> set[str]:
        """The n months ending at M(D), as YYYY-MM."""
        return {self.m_minus(i) for i in range(n)}

    def age(self, p: str) -> int:
        """Whole years on D from the birth date in p's ID number."""
        return age_at(dt.date(int(p[6:10]), int(p[10:12]), int(p[12:14])), self.D)

    def active(self, p: str, program: str) -> bool:
        D = self.D
        return any(r["program"] == program and r["start_date"] <= D and (r["end_date"] is None or r["end_date"] >= D)
                   for r in self.enrollments.get(p, []))

    def any_active(self, p: str) -> bool:
        D = self.D
        return any(r["start_date"] <= D and (r["end_date"] is None or r["end_date"] >= D)
                   for r in self.enrollments.get(p, []))

    def covered(self, p: str) -> bool:
        return any(self.active(p, x) for x in MT)

    def serving(self, p: str) -> bool:
        D = self.D
        return any(r["admission_date"] <= D and (r["release_date"] is None or r["release_date"] > D)
                   for r in self.prison.get(p, []))

    def in_kind(self, p: str, kinds: tuple[str, ...]) -> bool:
        """Under a correction of one of ``kinds`` on D."""
        D = self.D
        return any(r["kind"] in kinds and r["start_date"] <= D and (r["end_date"] is None or r["end_date"] >= D)
                   for r in self.corrections.get(p, []))

    def public_employee(self, p: str) -> bool:
        D = self.D
        return any(r["start_date"] <= D and (r["end_date"] is None or r["end_date"] >= D)
                   for r in self.public_jobs.get(p, []))

    def family(self, p: str) -> set[str]:
        """p, p's spouses and the NORMAL members of p's household."""
        out = {p} | self.spouses.get(p, set())
        row = self.household.get(p)
        if row is not None:
            out |= self.members.get(row["household_id"], set()) - {p}
        return out

    def severe_rows(self, p: str) -> list[dict]:
        """p's valid certificates issued by D that are severe (level 1-2, or 3-4 intellectual or mental)."""
        return [r for r in self.disability.get(p, []) if r["status"] in (None, "VALID") and r["issue_date"] <= self.D
                and (r["level"] <= 2 or (r["level"] >= 3 and r["disability_type"] in ("INTELLECTUAL", "MENTAL")))]


def _by_person(rows) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for r in rows:
        out[r["person_id"]].append(r)
    return dict(out)


def _deaths(reports: list[dict], household: list[dict], D: dt.date) -> dict[str, dt.date]:
    """The earliest death date on or before D: death reports and funeral records, then
    DECEASED household rows with a status date."""
    death: dict[str, dt.date] = {}
    for r in reports:
        d = r["death_date"]
        if d is not None and d <= D:
            death[r["person_id"]] = min(d, death.get(r["person_id"], d))
    for r in household:
        if r["status"] == "DECEASED" and r["status_date"] is not None and r["status_date"] <= D:
            p = r["person_id"]
            death[p] = min(r["status_date"], death.get(p, r["status_date"]))
    return death


def _spouses(marriages: list[dict], D: dt.date) -> dict[str, set[str]]:
    """Married on D: the latest registration of the pair is a MARRIAGE (a DIVORCE on the same date is the later)."""
    pairs = defaultdict(list)
    for r in marriages:
        if r["reg_date"] <= D:
            a, b = r["person_id_a"], r["person_id_b"]
            rank = (r["reg_date"], 1 if r["kind"] == "DIVORCE" else 0)
            pairs[(a, b)].append((rank, r["kind"]))
            pairs[(b, a)].append((rank, r["kind"]))
    spouses = defaultdict(set)
    for (a, b), regs in pairs.items():
        if max(regs)[1] == "MARRIAGE":
            spouses[a].add(b)
    return dict(spouses)


def evaluate(tables: dict[str, list[dict]], rules: RulesConfig, D: dt.date) -> dict[tuple[str, str], Decimal | None]:
    """RULES.md over silver-like rows for the enabled rules: {(rule_id, person_id): amount_at_risk}
    (an amount to the cent, or None for a rule without one)."""
    from jobs.generate.cases import TRUTH, check  # local import: the cases' modules import this one

    check(rules)
    facts = Facts(tables, D, rules.shared.lookback_months)
    out: dict[tuple[str, str], Decimal | None] = {}
    for rule_id in rules.enabled:
        for p, amount in TRUTH[rule_id](facts, **rules.params(rule_id)).items():
            out[(rule_id, p)] = None if amount is None else Decimal(amount).quantize(CENT)
    return out
