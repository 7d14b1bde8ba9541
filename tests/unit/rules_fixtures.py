"""Helpers for the rule tests: valid ID numbers, hand-built silver rows, one detect() call.

    people = People()
    s = Silver(spark, cfg)
    s.enrollment(people("dead"), "DIBAO", "2020-01-01")
    s.death(people("dead"), "2026-07-20")
    found = s.detect(check_date, only(cfg.rules, "DECEASED"))
    assert found.amount("DECEASED", people("dead")) == Decimal("1000.00")

Every source not filled is an empty frame of its silver schema. Values are given as
Python values or strings ('2026-07-20', '500.00'); keys are generated when not given.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from itertools import count

import pytest
from pyspark.sql import DataFrame, Row
from pyspark.sql import types as T

from jobs.rules.registry import RulesConfig
from jobs.rules import detect
from jobs.tables import silver_schema

AREA = "532901"          # Dali city
COUNTY = "532901"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def id_number(born: str = "19800101", seq: int = 1, area: str = AREA) -> str:
    """A valid 18-character ID number (ISO 7064 MOD 11-2) for a birth date YYYYMMDD."""
    body = f"{area}{born}{seq:03d}"
    return body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


class People:
    """Stable, distinct ID numbers by test name: ``people("dead")``."""

    def __init__(self, born: str = "19800101"):
        self.born = born
        self.ids: dict[str, str] = {}
        self._seq = count(1)

    def __call__(self, name: str, born: str | None = None) -> str:
        if name not in self.ids:
            self.ids[name] = id_number(born or self.born, next(self._seq))
        return self.ids[name]


def only(rules: RulesConfig, *rule_ids: str) -> RulesConfig:
    """The rules configuration with only ``rule_ids`` enabled."""
    specs = {r: dataclasses.replace(s, enabled=r in rule_ids) for r, s in rules.rules.items()}
    return dataclasses.replace(rules, rules=specs)


def _value(kind: str, value):
    if value is None:
        return None
    if kind == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    if kind == "decimal":
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if kind == "int":
        return int(value)
    return str(value)


def _sql_literal(value, dtype: T.DataType) -> str:
    if value is None:
        return f"CAST(NULL AS {dtype.simpleString()})"
    if isinstance(dtype, T.StringType):
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(dtype, T.DateType):
        return f"DATE'{value.isoformat()}'"
    if isinstance(dtype, T.TimestampType):
        return f"TIMESTAMP'{value.isoformat(sep=' ')}'"
    return f"CAST('{value}' AS {dtype.simpleString()})"


def values_frame(spark, data: list[tuple], schema: T.StructType) -> DataFrame:
    """A DataFrame of ``data`` with ``schema`` as a SQL VALUES list (LocalRelation)."""
    cols = ", ".join(f"CAST(c{i} AS {f.dataType.simpleString()}) AS `{f.name}`"
                     for i, f in enumerate(schema.fields))
    if not data:
        nulls = ", ".join(f"CAST(NULL AS {f.dataType.simpleString()}) AS `{f.name}`" for f in schema.fields)
        return spark.sql(f"SELECT {nulls} WHERE 1 = 0")
    rows = ", ".join("(" + ", ".join(_sql_literal(v, f.dataType) for v, f in zip(row, schema.fields)) + ")"
                     for row in data)
    names = ", ".join(f"c{i}" for i in range(len(schema.fields)))
    return spark.sql(f"SELECT {cols} FROM VALUES {rows} AS t({names})")


class Found:
    """The collected candidates, keyed by (rule_id, person_id)."""

    def __init__(self, rows: list[Row]):
        self.rows = {(r.rule_id, r.person_id): r for r in rows}
        assert len(self.rows) == len(rows), "one row per (rule_id, person_id)"

    def fires(self, rule_id: str, person_id: str) -> bool:
        return (rule_id, person_id) in self.rows

    def row(self, rule_id: str, person_id: str) -> Row:
        return self.rows[(rule_id, person_id)]

    def amount(self, rule_id: str, person_id: str):
        return self.row(rule_id, person_id).amount_at_risk

    def evidence(self, rule_id: str, person_id: str) -> list[tuple[str, str, dict]]:
        return [(e.source, e.key, dict(e["values"])) for e in self.row(rule_id, person_id).evidence]

    def keys(self, rule_id: str, person_id: str) -> list[tuple[str, str]]:
        return [(e.source, e.key) for e in self.row(rule_id, person_id).evidence]

    def persons(self, rule_id: str) -> set[str]:
        return {p for (r, p) in self.rows if r == rule_id}


class Silver:
    """Silver rows by source; ``tables()`` gives the full dict of DataFrames."""

    META = {"_batch": "2026-10-01", "_file": "test.csv", "_run_id": "test-run-0001",
            "_ingested_at": dt.datetime(2026, 10, 1, 3, 0)}

    def __init__(self, spark, cfg):
        self.spark = spark
        self.contract = cfg.contract
        self.rows: dict[str, list[dict]] = {name: [] for name in self.contract.names}
        self._n = count(1)

    # -- generic ------------------------------------------------------------------
    def add(self, source: str, **values) -> str:
        """Add one row; returns its key."""
        spec = self.contract[source]
        unknown = set(values) - set(spec.columns)
        assert not unknown, f"{source}: unknown columns {unknown}"
        key = spec.key[0]
        if values.get(key) is None:
            values[key] = f"{source[:3].upper()}{next(self._n):05d}"
        row = {c.name: _value(c.type, values.get(c.name)) for c in spec.columns.values()}
        row.update(self.META)
        if spec.partition_year_of:
            when = row[spec.partition_year_of]
            row["_year"] = int(str(when)[:4])
        self.rows[source].append(row)
        return str(values[key])

    def tables(self, local: bool = True) -> dict[str, DataFrame]:
        """One silver frame per source. ``local``: SQL VALUES (a LocalRelation, which
        Spark plans much faster: small tables are broadcast, empty ones pruned), else
        ``spark.createDataFrame`` (an RDD scan, as the brief's empty-table example)."""
        out = {}
        for name in self.contract.names:
            schema = silver_schema(self.contract[name])
            data = [tuple(r[f.name] for f in schema.fields) for r in self.rows[name]]
            out[name] = values_frame(self.spark, data, schema) if local else self.spark.createDataFrame(data, schema)
        return out

    def detect(self, check_date: dt.date, rules: RulesConfig, local: bool = True) -> Found:
        found = detect(self.tables(local), check_date, rules, self.contract)
        try:
            return Found(found.collect())
        finally:
            found.unpersist()

    # -- one helper per source ----------------------------------------------------------
    def enrollment(self, pid, program, start, end=None, *, county=COUNTY, name=None, **kw) -> str:
        return self.add("enrollment", person_id=pid, program=program, start_date=start, end_date=end,
                        county_code=county, name=name, **kw)

    def payment(self, pid, program, month, amount="500.00", *, county=COUNTY, name=None, **kw) -> str:
        return self.add("payments", person_id=pid, program=program, pay_month=month, amount=amount,
                        county_code=county, name=name, **kw)

    def payments(self, pid, program, months, amount="500.00", **kw) -> list[str]:
        return [self.payment(pid, program, m, amount, **kw) for m in months]

    def death(self, pid, date, **kw) -> str:
        return self.add("deaths", person_id=pid, death_date=date, **kw)

    def funeral(self, pid, date, **kw) -> str:
        return self.add("funeral", person_id=pid, death_date=date, **kw)

    def household(self, pid, household_id, *, relation="HEAD", status="NORMAL", status_date=None,
                  county=COUNTY, father=None, mother=None, **kw) -> str:
        return self.add("household", person_id=pid, household_id=household_id, relation_to_head=relation,
                        status=status, status_date=status_date, county_code=county,
                        father_id=father, mother_id=mother, **kw)

    def marriage(self, a, b, date, kind="MARRIAGE", **kw) -> str:
        return self.add("marriage", person_id_a=a, person_id_b=b, kind=kind, reg_date=date, **kw)

    def prison(self, pid, admission, release=None, **kw) -> str:
        return self.add("prison", person_id=pid, admission_date=admission, release_date=release, **kw)

    def corrections(self, pid, kind, start, end=None, **kw) -> str:
        return self.add("corrections", person_id=pid, kind=kind, start_date=start, end_date=end, **kw)

    def public_employee(self, pid, start, end=None, **kw) -> str:
        return self.add("public_employees", person_id=pid, start_date=start, end_date=end, **kw)

    def provident_fund(self, pid, month, amount="800.00", **kw) -> str:
        return self.add("provident_fund", person_id=pid, contribution_month=month, amount=amount, **kw)

    def tax(self, pid, month, income, **kw) -> str:
        return self.add("tax", person_id=pid, tax_month=month, income=income, **kw)

    def medical(self, pid, date, out_of_pocket, **kw) -> str:
        return self.add("medical", person_id=pid, settle_date=date, out_of_pocket=out_of_pocket, **kw)

    def disability(self, pid, level, issue, dtype="PHYSICAL", status="VALID", **kw) -> str:
        return self.add("disability", person_id=pid, level=level, issue_date=issue, disability_type=dtype,
                        status=status, **kw)

    def education(self, pid, stage, year, tuition=None, **kw) -> str:
        return self.add("education", person_id=pid, stage=stage, academic_year=year, tuition=tuition, **kw)

    def vehicle(self, pid, vtype="CAR", price="45000.00", registered="2024-05-01", deregistered=None,
                **kw) -> str:
        return self.add("vehicles", person_id=pid, vehicle_type=vtype, purchase_price=price,
                        registration_date=registered, deregistration_date=deregistered, **kw)

    def business(self, pid, role="LEGAL_REP", share=None, btype="ENTERPRISE", reg="2020-01-01",
                 dereg=None, **kw) -> str:
        kw.setdefault("business_id", f"91532901MA{next(self._n):08d}")
        return self.add("business", person_id=pid, role=role, share_pct=share, business_type=btype,
                        reg_date=reg, dereg_date=dereg, **kw)


class Scenario:
    """Rows for many persons (one test case each), detected once per check date.

    A test module builds one scenario and asserts per person, so one detect() call
    covers all its cases:

        people = People()
        def build(s: Silver): ...
        SCENARIO = Scenario(build, "DECEASED", "IMPRISONED")
        found = SCENARIO.fixture()        # the test's `found` fixture
    """

    def __init__(self, build, *rule_ids: str):
        self.build = build
        self.rule_ids = rule_ids
        self._found: dict[dt.date, Found] = {}

    def found(self, spark, cfg, check_date: dt.date) -> Found:
        if check_date not in self._found:
            silver = Silver(spark, cfg)
            self.build(silver)
            self._found[check_date] = silver.detect(check_date, only(cfg.rules, *self.rule_ids))
        return self._found[check_date]

    def fixture(self):
        """A `found` fixture: this scenario detected on the test's check date."""
        @pytest.fixture
        def found(spark, cfg, check_date):
            return self.found(spark, cfg, check_date)
        return found


def fires_by_name(people: People):
    """fires(found, rule_id, name): whether the rule fires for the person `people` calls name."""
    return lambda found, rule_id, name: found.fires(rule_id, people(name))
