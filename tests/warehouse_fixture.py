"""A small hand-built warehouse for the report and notebook tests.

``build_demo_warehouse(spark, path, cfg)`` writes Delta tables of the warehouse layout
(contract s.4 and s.5) as three runs of the pipeline would leave them:

- ``gold/warnings``: 35 warnings over every rule, 12 counties' codes (one warning without a
  county), every status; written once per run, so versions 0, 1, 2 hold the table after
  runs of 2026-08-15, 2026-09-15 and 2026-10-15 (time travel has something to compare);
- ``meta/runs``: one row per run;
- ``quarantine`` and ``meta/ingest_log``: files of several sources and batches, reconciled
  (rows read = loaded + quarantined), one file FAILED then LOADED, one still FAILED;
- ``silver/<source>`` for household, enrollment, payments, deaths and prison, holding the
  rows the warnings' evidence names (the other evidence sources, e.g. vehicles or tax,
  have no silver table here, as before their first delivery).

ID numbers are valid 18-character numbers (GB 11643-1999 check character) with Dali
area codes. Everything here is built in the test; no specification file is read.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from decimal import Decimal

from pyspark.sql import SparkSession

from jobs.gold.warnings import WARNINGS_SCHEMA
from jobs.ingest.load import INGEST_LOG_SCHEMA, QUARANTINE_SCHEMA
from jobs.runlog import RUNS_SCHEMA
from jobs.tables import INGEST_LOG, QUARANTINE, RUNS, WARNINGS, silver_path, silver_schema, table_path

RUN_DATES = (dt.date(2026, 8, 15), dt.date(2026, 9, 15), dt.date(2026, 10, 15))
RUN_IDS = tuple(f"run-{d:%Y%m%d}-0001" for d in RUN_DATES)
SILVER_SOURCES = ("household", "enrollment", "payments", "deaths", "prison")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_NAMES = ("杨丽华", "段志刚", "李秀英", "赵建国", "张桂兰", "王海燕", "字文华", "杨春花", "苏德明",
          "李玉珍", "罗金凤", "董学文", "施永福", "尹红梅", "杜光明", "何秀芬", "寸家兴", "杨文斌",
          "李志强", "赵丽娟", "张国华", "段秀兰", "王建林", "鲁玉英", "杨正华", "李春燕", "洪德胜",
          "马晓东", "杨玉兰", "李建华", "段红", "杨光荣", "苏秀珍")

# (person, rule, county, statuses after runs 1..3 (None: not yet detected), amount_at_risk)
_WARNINGS = (
    (0, "DECEASED", "532901", ("NEW", "OPEN", "OPEN"), "1000.00"),
    (1, "DECEASED", "532923", (None, "NEW", "CONFIRMED"), "1500.00"),
    (2, "IMPRISONED", "532901", ("NEW", "OPEN", "OPEN"), "2500.00"),
    (3, "IMPRISONED", "532924", (None, None, "NEW"), "0.00"),
    (4, "IN_CUSTODY", "532925", ("NEW", "RESOLVED", "RESOLVED"), None),
    (5, "PUBLIC_EMPLOYEE", "532922", ("NEW", "OPEN", "DISMISSED"), None),
    (6, "PROVIDENT_FUND", "532926", (None, "NEW", "OPEN"), None),
    (7, "HIGH_INCOME", "532901", ("NEW", "OPEN", "RESOLVED"), None),
    (8, "VEHICLE", "532927", ("NEW", "OPEN", "OPEN"), None),
    (9, "VEHICLE", "532901", (None, "NEW", "OPEN"), None),
    (10, "BUSINESS", "532928", (None, None, "NEW"), None),
    (11, "EXCLUSIVE_PROGRAMS", "532929", ("NEW", "OPEN", "OPEN"), None),
    (12, "DUPLICATE_ENROLLMENT", "532930", ("NEW", "CONFIRMED", "CONFIRMED"), None),
    (13, "DUPLICATE_PAYMENT", "532901", (None, "NEW", "OPEN"), "980.00"),
    (14, "DUPLICATE_PAYMENT", "532931", ("NEW", "OPEN", "RESOLVED"), "500.00"),
    (15, "PAYMENT_WITHOUT_ENROLLMENT", "532932", ("NEW", "OPEN", "OPEN"), "500.00"),
    (16, "PAYMENT_WITHOUT_ENROLLMENT", "532923", (None, None, "NEW"), "1200.00"),
    (17, "MEDICAL_BURDEN", "532901", ("NEW", "OPEN", "OPEN"), None),
    (18, "NEW_SEVERE_DISABILITY", "532923", (None, "NEW", "OPEN"), None),
    (19, "DISABLED_WITHOUT_LIVING_SUBSIDY", "532924", ("NEW", "OPEN", "OPEN"), None),
    (20, "EDUCATION_BURDEN", "532901", (None, "NEW", "OPEN"), None),
    (21, "RELEASED_PRISONER", None, (None, None, "NEW"), None),
    (22, "COMMUNITY_CORRECTION", "532925", ("NEW", "OPEN", "RESOLVED"), None),
    (23, "CHILD_UNSUPPORTED", "532926", (None, "NEW", "OPEN"), None),
    (0, "PAYMENT_WITHOUT_ENROLLMENT", "532901", (None, None, "NEW"), "500.00"),
    (24, "DECEASED", "532901", ("NEW", "OPEN", "OPEN"), "500.00"),
    (25, "HIGH_INCOME", "532923", (None, "NEW", "OPEN"), None),
    (26, "VEHICLE", "532924", ("NEW", "OPEN", "OPEN"), None),
    (27, "MEDICAL_BURDEN", "532927", (None, None, "NEW"), None),
    (28, "DUPLICATE_PAYMENT", "532901", ("NEW", "OPEN", "OPEN"), "250.00"),
    (25, "FAMILY_INCOME", "532923", (None, "NEW", "OPEN"), None),
    (26, "INCOME_COLLAPSE", "532924", (None, None, "NEW"), None),
    (27, "RURAL_MONITORED", "532927", ("NEW", "OPEN", "OPEN"), None),
    (13, "DISASTER_HARDSHIP", "532901", (None, "NEW", "RESOLVED"), None),
    (12, "ELDERLY_ALLOWANCE_MISSING", "532930", (None, None, "NEW"), None),
)
_FATHER_IN_PRISON = 29  # the imprisoned father behind CHILD_UNSUPPORTED


def id_number(area: str, birth: dt.date, seq: int) -> str:
    """A valid 18-character ID number (ISO 7064 MOD 11-2 check character)."""
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + _CHECK[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


@dataclass
class DemoWarehouse:
    path: str
    person_ids: list[str]
    warning_ids: list[str]
    run_ids: tuple[str, ...] = RUN_IDS
    check_dates: tuple[dt.date, ...] = RUN_DATES
    silver_sources: tuple[str, ...] = SILVER_SOURCES
    quarantine_files: list[tuple[str, str, str]] = field(default_factory=list)


def build_demo_warehouse(spark: SparkSession, path: str, cfg) -> DemoWarehouse:
    """Writes the demo warehouse under ``path`` and returns what it holds."""
    path = str(path).rstrip("/")
    people = _people(cfg)
    silver = {s: [] for s in SILVER_SOURCES}
    batch = {s: "2026-08-01" for s in SILVER_SOURCES}
    batch.update(deaths="2026-09-01", prison="2026-09-01")
    child = next(pi for pi, rule_id, *_ in _WARNINGS if rule_id == "CHILD_UNSUPPORTED")
    for i, p in enumerate(people):
        silver["household"].append(dict(
            person_id=p["id"], name=p["name"], gender=p["gender"], birth_date=p["birth"],
            ethnicity=p["ethnicity"], county_code=p["county"], township_code=p["township"],
            household_id=p["household"], relation_to_head="CHILD" if i == child else "HEAD",
            father_id=people[_FATHER_IN_PRISON]["id"] if i == child else None,
            status="DECEASED" if p.get("dead") else "NORMAL", status_date=p.get("dead")))
    versions: list[list[tuple]] = [[], [], []]
    warning_ids = []
    secret = cfg.run.warning_id_secret.encode()
    for n, (pi, rule_id, county, statuses, amount) in enumerate(_WARNINGS):
        p = people[pi]
        evidence = _evidence(n, rule_id, p, people, silver)
        wid = hmac.new(secret, f"{rule_id}|{p['id']}".encode(), hashlib.sha256).hexdigest()[:20]
        warning_ids.append(wid)
        spec = cfg.rules.rules[rule_id]
        amount_d = Decimal(amount) if amount is not None else None
        points = min(cfg.rules.score.amount_max_points,
                     int((amount_d or 0) // cfg.rules.score.amount_step))
        score = min(100, spec.base_score + points)
        township = p["township"] if county is not None else None
        first = last = changed = None
        for v, status in enumerate(statuses):
            if status is None:
                continue
            first = first or RUN_DATES[v]
            if status != "RESOLVED":
                last = RUN_DATES[v]
                changed = RUN_IDS[v]
            elif statuses[v - 1] != "RESOLVED":
                changed = RUN_IDS[v]
            versions[v].append((wid, rule_id, spec.category, p["id"], p["name"], county, township,
                                score, amount_d, json.dumps(evidence, ensure_ascii=False), status,
                                first, last, changed))
    for rows in versions:
        (spark.createDataFrame(rows, WARNINGS_SCHEMA).write.format("delta").mode("overwrite")
         .save(table_path(path, *WARNINGS)))
    runs = [_run_row(path, v, rows) for v, rows in enumerate(versions)]
    spark.createDataFrame(runs, RUNS_SCHEMA).write.format("delta").mode("overwrite") \
        .save(table_path(path, *RUNS))
    for source, rows in silver.items():
        _write_silver(spark, path, cfg.contract[source], rows, batch[source])
    files = _write_quality(spark, path, people)
    return DemoWarehouse(path=path, person_ids=[p["id"] for p in people], warning_ids=warning_ids,
                         quarantine_files=files)


# ---------------------------------------------------------------------------------
def _people(cfg) -> list[dict]:
    by_county: dict[str, list[str]] = {}
    for town, county in sorted(cfg.geo.township_county.items()):
        by_county.setdefault(county, []).append(town)
    people = []
    counties = {pi: county for pi, _, county, _, _ in _WARNINGS}
    for i in range(_FATHER_IN_PRISON + 1):
        county = counties.get(i) or "532929"
        towns = by_county[county]
        birth = dt.date(1950 + (i * 7) % 50, 1 + i % 12, 1 + (i * 5) % 28)
        if i == 23:  # the child of CHILD_UNSUPPORTED
            birth = dt.date(2016, 5, 20)
        people.append(dict(
            id=id_number(county, birth, 100 + i * 7), name=_NAMES[i], birth=birth,
            gender="F" if i % 2 else "M", ethnicity=("白族", "汉族", "彝族")[i % 3],
            county=county, township=towns[(i * 3) % len(towns)],
            household=f"H{county}{i:05d}",
            dead=dt.date(2026, 7, 20) if i in (0, 1, 24) else None))
    return people


def _evidence(n: int, rule_id: str, p: dict, people: list[dict], silver: dict) -> list[dict]:
    """The evidence items of warning ``n``; the rows they name are added to ``silver``."""
    items = []

    def add(source: str, key_col: str, key: str, row: dict | None, shown: dict) -> None:
        if row is not None and source in silver:
            silver[source].append({key_col: key, **row})
        items.append({"source": source, "key": key,  # as jobs.rules.evidence writes it
                      "values": {k: None if v is None else str(v) for k, v in shown.items()}})

    def enrol(program: str, suffix: str = "A", start=dt.date(2020, 1, 1), end=None) -> None:
        eid = f"EN{n:04d}{suffix}"
        row = dict(person_id=p["id"], name=p["name"], program=program, county_code=p["county"],
                   township_code=p["township"], household_id=p["household"], start_date=start,
                   end_date=end, monthly_amount=Decimal("500.00"))
        add("enrollment", "enrollment_id", eid, row,
            {"program": program, "start_date": str(start), "end_date": str(end) if end else None})

    def pay(month: str, amount: str, suffix: str, program: str = "DIBAO") -> None:
        pid = f"PM{n:04d}{suffix}"
        row = dict(person_id=p["id"], name=p["name"], program=program, county_code=p["county"],
                   pay_month=month, amount=Decimal(amount), paid_date=dt.date.fromisoformat(month + "-10"))
        add("payments", "payment_id", pid, row, {"program": program, "pay_month": month, "amount": amount})

    if rule_id == "DECEASED":
        enrol("DIBAO")
        add("deaths", "report_id", f"DR{n:05d}", dict(person_id=p["id"], name=p["name"],
                                                       death_date=p["dead"], cause_code="I21.9"),
            {"death_date": str(p["dead"])})
        pay("2026-08", "500.00", "A")
        pay("2026-09", "500.00", "B")
    elif rule_id == "IMPRISONED":
        enrol("DIBAO")
        add("prison", "record_id", f"PR{n:05d}", dict(person_id=p["id"], name=p["name"],
                                                       admission_date=dt.date(2026, 3, 10),
                                                       release_date=dt.date(2026, 9, 30),
                                                       prison_name="云南省第一监狱"),
            {"admission_date": "2026-03-10", "release_date": "2026-09-30"})
        for k, month in enumerate(("2026-04", "2026-05", "2026-06", "2026-07", "2026-08")):
            pay(month, "500.00", "ABCDE"[k])
    elif rule_id == "VEHICLE":
        enrol("DIBAO")
        add("vehicles", "record_id", f"VIN{n:014d}", dict(person_id=p["id"], vehicle_type="CAR",
                                                           purchase_price=Decimal("45000.00"),
                                                           registration_date=dt.date(2024, 5, 1)),
            {"vehicle_type": "CAR", "purchase_price": "45000.00", "registration_date": "2024-05-01"})
    elif rule_id == "EXCLUSIVE_PROGRAMS":
        enrol("DIBAO", "A")
        enrol("TEKUN", "B", start=dt.date(2023, 6, 1))
    elif rule_id == "DUPLICATE_ENROLLMENT":
        enrol("DIBAO", "A")
        enrol("DIBAO", "B", start=dt.date(2025, 2, 1))
    elif rule_id == "DUPLICATE_PAYMENT":
        pay("2026-05", "500.00", "A")
        pay("2026-05", "480.00", "B")
    elif rule_id == "PAYMENT_WITHOUT_ENROLLMENT":
        enrol("DIBAO", end=dt.date(2026, 3, 31))
        pay("2026-04", "500.00", "A")
    elif rule_id == "DISABLED_WITHOUT_LIVING_SUBSIDY":
        enrol("DIBAO")
        add("disability", "cert_no", f"{p['id']}42", dict(person_id=p["id"], name=p["name"],
                                                          disability_type="PHYSICAL", level=3,
                                                          issue_date=dt.date(2022, 4, 1), status="VALID"),
            {"disability_type": "PHYSICAL", "level": 3, "issue_date": "2022-04-01"})
    elif rule_id == "NEW_SEVERE_DISABILITY":
        add("disability", "cert_no", f"{p['id']}12", dict(person_id=p["id"], name=p["name"],
                                                          disability_type="INTELLECTUAL", level=1,
                                                          issue_date=dt.date(2026, 8, 2), status="VALID"),
            {"disability_type": "INTELLECTUAL", "level": 1, "issue_date": "2026-08-02"})
    elif rule_id in ("RELEASED_PRISONER", "CHILD_UNSUPPORTED"):
        who = people[_FATHER_IN_PRISON] if rule_id == "CHILD_UNSUPPORTED" else p
        release = None if rule_id == "CHILD_UNSUPPORTED" else dt.date(2026, 8, 30)
        if rule_id == "CHILD_UNSUPPORTED":  # the child's household row is already in silver
            add("household", "person_id", p["id"], None, {"father_id": who["id"], "relation_to_head": "CHILD"})
        add("prison", "record_id", f"PR{n:05d}", dict(person_id=who["id"], name=who["name"],
                                                       admission_date=dt.date(2025, 1, 1),
                                                       release_date=release, prison_name="大理监狱"),
            {"person_id": who["id"], "admission_date": "2025-01-01",
             "release_date": str(release) if release else None})
    else:  # rules whose source has no silver table in this warehouse
        source, key_col, values = {
            "IN_CUSTODY": ("corrections", "record_id", {"kind": "DETENTION", "start_date": "2026-06-01"}),
            "COMMUNITY_CORRECTION": ("corrections", "record_id", {"kind": "COMMUNITY_CORRECTION"}),
            "PUBLIC_EMPLOYEE": ("public_employees", "record_id", {"employer_type": "GOV"}),
            "PROVIDENT_FUND": ("provident_fund", "record_id", {"months": ["2026-06", "2026-07", "2026-08"]}),
            "HIGH_INCOME": ("tax", "record_id", {"income_12m": "72000.00"}),
            "BUSINESS": ("business", "record_id", {"role": "LEGAL_REP", "business_type": "ENTERPRISE"}),
            "MEDICAL_BURDEN": ("medical", "settlement_id", {"out_of_pocket_365d": "23500.00"}),
            "EDUCATION_BURDEN": ("education", "record_id", {"stage": "COLLEGE", "academic_year": "2026-2027"}),
            "FAMILY_INCOME": ("social_insurance", "record_id", {"item": "PENSION", "month": "2026-09",
                                                                "amount": "2600.00"}),
            "INCOME_COLLAPSE": ("social_insurance", "record_id", {"item": "UNEMPLOYMENT_BENEFIT",
                                                                  "month": "2026-09", "amount": "1500.00"}),
            "RURAL_MONITORED": ("rural_monitoring", "monitor_id", {"monitor_type": "SUDDEN_HARDSHIP",
                                                                   "identified_date": "2026-03-01"}),
            "DISASTER_HARDSHIP": ("disasters", "record_id", {"hazard": "EARTHQUAKE", "event_date": "2026-08-20",
                                                             "house_damage": "COLLAPSED"}),
            "ELDERLY_ALLOWANCE_MISSING": ("household", "person_id", {"relation_to_head": "HEAD",
                                                                     "status": "NORMAL"}),
        }[rule_id]
        if rule_id in ("IN_CUSTODY", "PUBLIC_EMPLOYEE", "PROVIDENT_FUND", "HIGH_INCOME", "BUSINESS", "FAMILY_INCOME"):
            enrol("DIBAO")
        add(source, key_col, f"{source[:2].upper()}{n:06d}", None, values)
    return items


def _write_silver(spark: SparkSession, path: str, spec, rows: list[dict], batch: str) -> None:
    schema = silver_schema(spec)
    meta = {"_batch": batch, "_file": f"{spec.name}_{batch}.csv", "_run_id": RUN_IDS[0],
            "_ingested_at": dt.datetime(2026, 8, 15, 2, 0)}
    tuples = []
    for row in rows:
        full = {**row, **meta}
        if spec.partition_year_of:
            full["_year"] = int(str(row[spec.partition_year_of])[:4])
        tuples.append(tuple(full.get(f.name) for f in schema.fields))
    writer = spark.createDataFrame(tuples, schema).write.format("delta").mode("overwrite")
    if spec.partition_year_of:
        writer = writer.partitionBy("_year")
    writer.save(silver_path(path, spec.name))


def _run_row(path: str, v: int, rows: list[tuple]) -> tuple:
    by_rule: dict[str, dict[str, int]] = {}
    for r in rows:
        by_rule.setdefault(r[1], {}).setdefault(r[10], 0)
        by_rule[r[1]][r[10]] += 1
    started = dt.datetime.combine(RUN_DATES[v], dt.time(2, 0))
    outcome = "PARTIAL" if v == 1 else "SUCCESS"
    files = [{"source": "payments", "file": f"2026-0{8 + v}-01/payments.csv", "status": "LOADED"}]
    if v == 1:
        files.append({"source": "household", "file": "2026-09-01/household.csv", "status": "FAILED",
                      "error": "cannot read the file: truncated gzip input"})
    return (RUN_IDS[v], "run", RUN_DATES[v], started, started + dt.timedelta(minutes=7 + v, seconds=13),
            outcome, 1 if outcome == "PARTIAL" else 0,
            json.dumps({"landing": "data/landing", "warehouse": path, "check_date": str(RUN_DATES[v]),
                        "env": "local"}),
            json.dumps(files), json.dumps({"payments": {"files": 1, "read": 12 + v * 3}}),
            json.dumps(by_rule),
            json.dumps({"ingest": 120.5, "feedback": 1.2, "checks": 240.0 + v}),
            json.dumps({"household": "2026-08-01", "payments": "2026-09-01" if v else "2026-08-01"}),
            ["marriage"] if v == 2 else [], None, ["weather"] if v == 2 else [],
            ["marriage/2026-10-10/readme.txt"] if v == 2 else [])


def _write_quality(spark: SparkSession, path: str, people: list[dict]) -> list[tuple[str, str, str]]:
    """quarantine + meta/ingest_log; returns the files that have quarantined rows."""
    pid = people[3]["id"]
    quarantined = [  # (source, batch, file, reasons, raw values, run)
        ("household", "2026-08-01", "household_2026-08-01.csv", ["INVALID_ID"],
         {"公民身份号码": pid[:17] + ("0" if pid[-1] != "0" else "1"), "姓名": "杨某", "户口状态": "正常"}, 0),
        ("household", "2026-08-01", "household_2026-08-01.csv", ["MISSING_REQUIRED"],
         {"公民身份号码": people[5]["id"], "姓名": "李某", "户号": ""}, 0),
        ("enrollment", "2026-08-01", "enrollment_2026-08-01.csv", ["BAD_DATE", "INVALID_ID"],
         {"身份证号": "53290119900101", "起始日期": "2026-02-30", "救助类别": "低保"}, 0),
        ("enrollment", "2026-08-01", "enrollment_2026-08-01.csv", ["BAD_ENUM"],
         {"身份证号": people[7]["id"], "救助类别": "五保", "起始日期": "2021-03-01"}, 0),
        ("enrollment", "2026-08-01", "enrollment_2026-08-01.csv", ["KEY_CONFLICT"],
         {"enrollment_id": "EN9999", "person_id": people[8]["id"], "program": "DIBAO"}, 0),
        ("enrollment", "2026-08-01", "enrollment_2026-08-01.csv", ["KEY_CONFLICT"],
         {"enrollment_id": "EN9999", "person_id": people[8]["id"], "program": "TEKUN"}, 0),
        ("payments", "2026-09-01", "payments_2026-09-01.csv.gz", ["BAD_NUMBER"],
         {"payment_id": "PM77", "person_id": people[9]["id"], "amount": "1,500.00"}, 2),
        ("payments", "2026-09-01", "payments_2026-09-01.csv.gz", ["BAD_MONTH", "BAD_NUMBER"],
         {"payment_id": "PM78", "person_id": people[10]["id"], "pay_month": "2026-13", "amount": "-5"}, 2),
        ("deaths", "2026-09-01", "deaths_2026-09-01.csv", ["INVALID_ID"],
         {"身份证号": "５３２９０１１９５００１０１１２３", "死亡日期": "2026-06-01"}, 1),
        ("feedback", "2026-10-10", "feedback_2026-10-10.csv", ["UNKNOWN_WARNING"],
         {"反馈编号": "FB0001", "预警编号": "no-such-warning", "核查结论": "属实"}, 2),
    ]
    q_rows = [(s, b, f, reasons, json.dumps(raw, ensure_ascii=False), RUN_IDS[run],
               dt.datetime.combine(RUN_DATES[run], dt.time(2, 5))) for s, b, f, reasons, raw, run in quarantined]
    spark.createDataFrame(q_rows, QUARANTINE_SCHEMA).write.format("delta").mode("overwrite") \
        .save(table_path(path, *QUARANTINE))
    n_q: dict[tuple, int] = {}
    for s, b, f, *_ in quarantined:
        n_q[(s, b, f)] = n_q.get((s, b, f), 0) + 1
    files = [  # (source, batch, file, rows_read, status, error, run)
        ("household", "2026-08-01", "household_2026-08-01.csv", 32, "LOADED", None, 0),
        ("enrollment", "2026-08-01", "enrollment_2026-08-01.csv", 41, "LOADED", None, 0),
        ("payments", "2026-08-01", "payments_2026-08-01.parquet", 30, "LOADED", None, 0),
        ("prison", "2026-09-01", "prison_2026-09-01.csv", 4, "LOADED", None, 1),
        ("deaths", "2026-09-01", "deaths_2026-09-01.csv", 4, "LOADED", None, 1),
        ("payments", "2026-09-01", "payments_2026-09-01.csv.gz", None, "FAILED",
         "truncated gzip stream (file incomplete)", 1),
        ("payments", "2026-09-01", "payments_2026-09-01.csv.gz", 12, "LOADED", None, 2),
        ("feedback", "2026-10-10", "feedback_2026-10-10.csv", 3, "LOADED", None, 2),
        ("corrections", "2026-10-01", "corrections_2026-10-01.xlsx", None, "FAILED",
         "not a CSV or Parquet file", 2),
    ]
    log_rows = []
    for s, b, f, read, status, error, run in files:
        q = n_q.get((s, b, f), 0) if status == "LOADED" else None
        loaded = read - q if status == "LOADED" else None
        digest = hashlib.sha256(f"{s}/{b}/{f}".encode()).hexdigest()   # of the file as it arrived
        log_rows.append((s, b, f, read, loaded, q, status, error, RUN_IDS[run],
                         dt.datetime.combine(RUN_DATES[run], dt.time(2, 3)), 1000 + 37 * len(log_rows), digest))
    spark.createDataFrame(log_rows, INGEST_LOG_SCHEMA).write.format("delta").mode("overwrite") \
        .save(table_path(path, *INGEST_LOG))
    return sorted(n_q)


_BUILT: dict[tuple[int, str], DemoWarehouse] = {}


def shared_demo_warehouse(spark: SparkSession, cfg, tmp_path_factory) -> DemoWarehouse:
    """One demo warehouse per test session (tests only read it)."""
    key = (id(spark), str(tmp_path_factory.getbasetemp()))
    if key not in _BUILT:
        _BUILT[key] = build_demo_warehouse(spark, str(tmp_path_factory.mktemp("demo_warehouse")), cfg)
    return _BUILT[key]
