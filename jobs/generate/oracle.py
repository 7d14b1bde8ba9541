"""A small, slow, independent reading of the contract in plain Python.

``ingest(rows, contract, D)`` applies README s.2-4 to delivered rows (parse, normalise,
quarantine, collapse identical rows, KEY_CONFLICT, latest batch wins) and
``evaluate(tables, params, D)`` applies RULES.md. The generator runs both over its
planted cases to write ``_truth/expected.csv`` (the planted people are fresh and share
nothing with the background), and the tests run them over a whole small landing zone read
back from the files, to prove that the background fires nothing.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

from jobs.generate.common import academic_year, add_months, age_at, month_last, normalize_id

MT = ("DIBAO", "DIBAO_EDGE", "TEKUN")
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


def evaluate(tables: dict[str, list[dict]], params, D: dt.date,
             enabled: list[str] | None = None) -> dict[tuple[str, str], Decimal | None]:
    """RULES.md over silver-like rows: {(rule_id, person_id): amount_at_risk}."""
    T = lambda s: tables.get(s, [])  # noqa: E731
    mD = f"{D.year:04d}-{D.month:02d}"

    def m_minus(n: int) -> str:
        d = add_months(D.replace(day=1), -n)
        return f"{d.year:04d}-{d.month:02d}"

    win_lo = m_minus(params.lookback_months - 1)
    enr = defaultdict(list)
    for r in T("enrollment"):
        enr[r["person_id"]].append(r)

    def active(p, x, d=D):
        return any(r["program"] == x and r["start_date"] <= d and (r["end_date"] is None or r["end_date"] >= d)
                   for r in enr.get(p, []))

    def any_active(p):
        return any(r["start_date"] <= D and (r["end_date"] is None or r["end_date"] >= D) for r in enr.get(p, []))

    def covered(p):
        return any(active(p, x) for x in MT)

    death = {}
    for s, col in (("deaths", "death_date"), ("funeral", "death_date")):
        for r in T(s):
            d = r[col]
            if d is not None and d <= D:
                death[r["person_id"]] = min(d, death.get(r["person_id"], d))
    hh_rows = {r["person_id"]: r for r in T("household")}
    for r in T("household"):
        if r["status"] == "DECEASED" and r["status_date"] is not None and r["status_date"] <= D:
            p = r["person_id"]
            death[p] = min(r["status_date"], death.get(p, r["status_date"]))
    prison = defaultdict(list)
    for r in T("prison"):
        prison[r["person_id"]].append(r)

    def serving(p, d=D):
        return any(r["admission_date"] <= d and (r["release_date"] is None or r["release_date"] > d) for r in prison.get(p, []))

    corr = defaultdict(list)
    for r in T("corrections"):
        corr[r["person_id"]].append(r)

    def in_kind(p, kinds, d=D):
        return any(r["kind"] in kinds and r["start_date"] <= d and (r["end_date"] is None or r["end_date"] >= d)
                   for r in corr.get(p, []))

    pub = defaultdict(list)
    for r in T("public_employees"):
        pub[r["person_id"]].append(r)

    def public_employee(p):
        return any(r["start_date"] <= D and (r["end_date"] is None or r["end_date"] >= D) for r in pub.get(p, []))

    members = defaultdict(set)
    for r in T("household"):
        if r["status"] == "NORMAL":
            members[r["household_id"]].add(r["person_id"])
    pairs = defaultdict(list)
    for r in T("marriage"):
        if r["reg_date"] <= D:
            a, b = r["person_id_a"], r["person_id_b"]
            rank = (r["reg_date"], 1 if r["kind"] == "DIVORCE" else 0)
            pairs[(a, b)].append((rank, r["kind"]))
            pairs[(b, a)].append((rank, r["kind"]))
    spouses = defaultdict(set)
    for (a, b), regs in pairs.items():
        if max(regs)[1] == "MARRIAGE":
            spouses[a].add(b)

    def family(p):
        out = {p} | spouses.get(p, set())
        row = hh_rows.get(p)
        if row is not None:
            out |= members.get(row["household_id"], set()) - {p}
        return out

    dis = defaultdict(list)
    for r in T("disability"):
        dis[r["person_id"]].append(r)

    def severe_rows(p):
        return [r for r in dis.get(p, []) if r["status"] in (None, "VALID") and r["issue_date"] <= D
                and (r["level"] <= 2 or (r["level"] >= 3 and r["disability_type"] in ("INTELLECTUAL", "MENTAL")))]

    pays = defaultdict(list)
    for r in T("payments"):
        if win_lo <= r["pay_month"] <= mD:
            pays[r["person_id"]].append(r)

    out: dict[tuple[str, str], Decimal | None] = {}
    rules = set(enabled or [])

    def fire(rule, p, amount=None):
        out[(rule, p)] = amount

    zero = Decimal("0.00")
    # DECEASED
    for p, d in death.items():
        dm = f"{d.year:04d}-{d.month:02d}"
        post = [r["amount"] for r in pays.get(p, []) if r["pay_month"] > dm]
        if any_active(p) or post:
            fire("DECEASED", p, sum(post, zero))
    # IMPRISONED
    for p, stays in prison.items():
        amt, hit = zero, False
        for r in pays.get(p, []):
            first = dt.date(int(r["pay_month"][:4]), int(r["pay_month"][5:]), 1)
            last = month_last(first)
            if any(s["admission_date"] <= first and (s["release_date"] is None or s["release_date"] > last) for s in stays):
                amt += r["amount"]
                hit = True
        if (serving(p) and any_active(p)) or hit:
            fire("IMPRISONED", p, amt)
    for p in corr:
        if in_kind(p, ("DRUG_REHAB", "DETENTION")) and any_active(p):
            fire("IN_CUSTODY", p)
    for p in enr:
        if any(active(p, x) for x in MT) and any(public_employee(q) for q in family(p)):
            fire("PUBLIC_EMPLOYEE", p)
    window6 = {m_minus(i) for i in range(params.pf_window_months)}
    pf = defaultdict(set)
    for r in T("provident_fund"):
        if r["amount"] > 0 and r["contribution_month"] in window6:
            pf[r["person_id"]].add(r["contribution_month"])
    for p, months in pf.items():
        if (active(p, "DIBAO") or active(p, "TEKUN")) and len(months) >= params.pf_min_months:
            fire("PROVIDENT_FUND", p)
    window12 = {m_minus(i) for i in range(12)}
    inc = defaultdict(Decimal)
    for r in T("tax"):
        if r["tax_month"] in window12:
            inc[r["person_id"]] += r["income"]
    for p, total in inc.items():
        if covered(p) and total >= params.income_threshold:
            fire("HIGH_INCOME", p)
    veh = defaultdict(list)
    for r in T("vehicles"):
        if (r["registration_date"] <= D and (r["deregistration_date"] is None or r["deregistration_date"] > D)
                and r["vehicle_type"] in ("CAR", "TRUCK")
                and (r["purchase_price"] is None or r["purchase_price"] > params.vehicle_exempt_price)):
            veh[r["person_id"]].append(r)
    biz = defaultdict(list)
    for r in T("business"):
        if (r["reg_date"] <= D and (r["dereg_date"] is None or r["dereg_date"] > D) and r["business_type"] == "ENTERPRISE"
                and (r["role"] == "LEGAL_REP" or (r["share_pct"] is not None and r["share_pct"] >= params.controlling_share))):
            biz[r["person_id"]].append(r)
    for p in enr:
        if active(p, "DIBAO") or active(p, "TEKUN"):
            fam = family(p)
            if any(q in veh for q in fam):
                fire("VEHICLE", p)
            if any(q in biz for q in fam):
                fire("BUSINESS", p)
        if any(active(p, x) and active(p, y) for x, y in params.exclusive_pairs):
            fire("EXCLUSIVE_PROGRAMS", p)
        per_prog = defaultdict(set)
        for r in enr[p]:
            if r["start_date"] <= D and (r["end_date"] is None or r["end_date"] >= D):
                per_prog[r["program"]].add(r["enrollment_id"])
        if any(len(ids) >= 2 for ids in per_prog.values()):
            fire("DUPLICATE_ENROLLMENT", p)
    for p, rows in pays.items():
        groups = defaultdict(list)
        for r in rows:
            groups[(r["program"], r["pay_month"])].append(r["amount"])
        dups = [v for v in groups.values() if len(v) >= 2]
        if dups:
            fire("DUPLICATE_PAYMENT", p, sum((sum(v, zero) - max(v) for v in dups), zero))
        amt, hit = zero, False
        for r in rows:
            first = dt.date(int(r["pay_month"][:4]), int(r["pay_month"][5:]), 1)
            last = month_last(first)
            if not any(e["program"] == r["program"] and e["start_date"] <= last
                       and (e["end_date"] is None or e["end_date"] >= first) for e in enr.get(p, [])):
                amt += r["amount"]
                hit = True
        if hit:
            fire("PAYMENT_WITHOUT_ENROLLMENT", p, amt)
    med = defaultdict(Decimal)
    lo = D - dt.timedelta(days=365)
    for r in T("medical"):
        if lo < r["settle_date"] <= D:
            med[r["person_id"]] += r["out_of_pocket"]
    for p, total in med.items():
        if p not in death and not covered(p) and total >= params.medical_threshold:
            fire("MEDICAL_BURDEN", p)
    new_lo = D - dt.timedelta(days=params.new_cert_days)
    for p in dis:
        if p in death:
            continue
        if any(new_lo < r["issue_date"] <= D for r in severe_rows(p)) and not active(p, "DISABLED_CARE") and not active(p, "TEKUN"):
            fire("NEW_SEVERE_DISABILITY", p)
        if (active(p, "DIBAO") and any(r["status"] in (None, "VALID") and r["issue_date"] <= D for r in dis[p])
                and not active(p, "DISABLED_LIVING")):
            fire("DISABLED_WITHOUT_LIVING_SUBSIDY", p)
    year = academic_year(D)
    edu = defaultdict(list)
    for r in T("education"):
        if r["academic_year"] == year:
            edu[r["person_id"]].append(r)
    for p, row in hh_rows.items():
        if row["relation_to_head"] != "HEAD" or row["status"] != "NORMAL" or p in death:
            continue
        mem = members.get(row["household_id"], set())
        if any(covered(q) for q in mem):
            continue
        students = sum(1 for q in mem if any(r["stage"] in ("SENIOR", "VOCATIONAL", "COLLEGE") for r in edu.get(q, [])))
        tuition = sum((r["tuition"] or Decimal(0) for q in mem for r in edu.get(q, [])), Decimal(0))
        if students >= params.edu_min_students or tuition >= params.edu_tuition_threshold:
            fire("EDUCATION_BURDEN", p)
    rel_lo = D - dt.timedelta(days=params.release_days)
    for p, stays in prison.items():
        if p in death or covered(p) or serving(p):
            continue
        if any(s["release_date"] is not None and rel_lo < s["release_date"] <= D for s in stays):
            fire("RELEASED_PRISONER", p)
    for p in corr:
        if p not in death and not covered(p) and in_kind(p, ("COMMUNITY_CORRECTION",)):
            fire("COMMUNITY_CORRECTION", p)
    for p, row in hh_rows.items():
        if p in death or not row["father_id"] or not row["mother_id"]:
            continue
        birth = dt.date(int(p[6:10]), int(p[10:12]), int(p[12:14]))
        if age_at(birth, D) >= 18 or active(p, "ORPHAN") or active(p, "UNSUPPORTED_CHILD"):
            continue
        parents = (row["father_id"], row["mother_id"])
        held = [serving(q) or in_kind(q, ("DRUG_REHAB", "DETENTION")) for q in parents]
        each = [q in death or h or bool(severe_rows(q)) for q, h in zip(parents, held)]
        if all(each) and any(held):
            fire("CHILD_UNSUPPORTED", p)
    if rules:
        out = {k: v for k, v in out.items() if k[0] in rules}
    return {k: (None if k[0] not in ("DECEASED", "IMPRISONED", "DUPLICATE_PAYMENT", "PAYMENT_WITHOUT_ENROLLMENT")
                else (v or Decimal("0")).quantize(Decimal("0.01"))) for k, v in out.items()}

