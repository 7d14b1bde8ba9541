"""`hedui generate`: files against the contract, dirt, truth, determinism, census figures.

One small landing zone (scale 0.001) is generated per session; two tiny ones (scale 0.0003)
check that the same seed gives the same bytes. The read-back test parses every file as a
reader of the contract would and runs the generator's plain-Python oracle over all of it:
the warnings it finds must be exactly the truth file's POSITIVE rows.
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import os
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from jobs.generate import generate, oracle, settings as S
from jobs.generate.common import normalize_id

D = dt.date(2026, 10, 15)
SCALE = 0.001
TINY = 0.0003

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def landing(spark, cfg, tmp_path_factory):
    out = tmp_path_factory.mktemp("landing")
    counts = generate(spark, cfg, str(out), SCALE, 7, D)
    return out, counts


@pytest.fixture(scope="session")
def tiny_pair(spark, cfg, tmp_path_factory):
    dirs = []
    for _ in range(2):
        out = tmp_path_factory.mktemp("tiny")
        counts = generate(spark, cfg, str(out), TINY, 11, D)
        dirs.append((out, counts))
    return dirs


def data_files(root):
    """The landing zone's data files as a reader of section 1 finds them (extensions in any
    case; `_`/`.` files and other types passed over)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if not name.startswith((".", "_")) and name.lower().endswith((".csv", ".csv.gz", ".parquet")):
                yield os.path.join(dirpath, name)


def all_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield os.path.join(dirpath, name)


def decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "UTF-8-BOM"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "GB18030"


def read_csv(path: str):
    raw = open(path, "rb").read()
    if path.lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    text, enc = decode(raw)
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]    # a blank line is no record
    return rows[0], rows[1:], enc


@pytest.fixture(scope="session")
def delivered(landing, spark, cfg):
    """Every file of the landing zone as (source, batch, file, encoding, {canonical: raw})."""
    root, _ = landing
    out = []
    for path in data_files(root):
        rel = os.path.relpath(path, root).split(os.sep)
        source, batch = rel[0], rel[1]
        header_map = cfg.contract[source].header_map()
        if path.lower().endswith(".parquet"):
            df = spark.read.parquet(path)
            header = df.columns
            rows = []
            for r in df.collect():
                rows.append([None if v is None else (v.isoformat() if isinstance(v, dt.date) else str(v)) for v in r])
            enc = "parquet:" + ",".join(f.dataType.simpleString() for f in df.schema.fields)
        else:
            header, rows, enc = read_csv(path)
        cols = [header_map.get(h.strip().lower()) for h in header]
        for r in rows:
            values = {c: (None if v in ("", None) else v) for c, v in zip(cols, r) if c}
            out.append((source, batch, rel[2], enc, header, values))
    return out


def test_every_source_lands_in_dated_batches(landing, cfg):
    root, counts = landing
    sources = sorted(d for d in os.listdir(root) if not d.startswith("_"))
    assert sources == sorted(n for n in cfg.contract.names if n != "feedback")
    for s in sources:
        batches = os.listdir(root / s)
        assert batches and all(dt.date.fromisoformat(b) <= D for b in batches)
    assert (root / "_truth" / "expected.csv").is_file()
    # no .crc left over but the one section 1's forms keep beside a file (tests below)
    assert len(list(root.glob("**/*.crc"))) <= 1 and not (root / "_tmp_generate").exists()
    assert counts["payments"] > counts["medical"] > counts["household"] > counts["deaths"]


def test_headers_cover_the_contract(delivered, cfg):
    seen = defaultdict(set)
    for source, batch, name, enc, header, values in delivered:
        hm = cfg.contract[source].header_map()
        mapped = {hm.get(h.strip().lower()) for h in header}
        assert set(cfg.contract[source].columns) <= mapped, (source, name)
        seen[source] |= {h.strip() for h in header}
    aliases = {a for s in seen for c in cfg.contract[s].columns.values() for a in c.aliases}
    assert any(h in aliases for hs in seen.values() for h in hs), "some files use Chinese headers"
    orders = {tuple(h.strip().lower() for h in header) for source, _, _, _, header, _ in delivered if source == "funeral"}
    assert any(list(o) != [c for c in cfg.contract["funeral"].columns] for o in orders), "a file with another column order"


def test_encodings_compression_and_parquet(delivered, landing):
    encodings = {enc.split(":")[0] for *_, enc, _h, _v in [(d[0], d[1], d[2], d[3], d[4], d[5]) for d in delivered]}
    assert {"UTF-8", "UTF-8-BOM", "GB18030", "parquet"} <= encodings
    parquet_types = {d[3] for d in delivered if d[3].startswith("parquet:")}
    assert any("date" in t and "decimal" in t for t in parquet_types), "a parquet file with native types"
    assert any("int" in t for t in parquet_types), "an int column in native parquet"
    assert any(set(t[8:].split(",")) == {"string"} for t in parquet_types), "a parquet file of strings"
    root, _ = landing
    assert list(root.glob("*/*/*.csv.gz")) and list(root.glob("*/*/*.parquet")) and list(root.glob("*/*/*.csv"))


def dirt_forms(delivered, cfg, sources=None) -> Counter:
    """How often each form of dirt occurs in the delivered files (of ``sources``, or all)."""
    forms = Counter()
    keys = defaultdict(list)
    for source, batch, name, enc, header, values in delivered:
        if sources is not None and source not in sources:
            continue
        spec = cfg.contract[source]
        for c, col in spec.columns.items():
            v = values.get(c)
            if v is None:
                forms["empty optional" if not col.required else "empty required"] += 1
                continue
            if col.type == "id":
                if len(v.strip()) == 15:
                    forms["15-digit"] += 1
                if any("０" <= ch <= "９" for ch in v):
                    forms["full-width"] += 1
                if "\u3000" in v:
                    forms["ideographic space"] += 1
                if v != v.strip():
                    forms["spaces"] += 1
                if v.endswith("x"):
                    forms["lower x"] += 1
                if normalize_id(v, D) is None:
                    forms["invalid id"] += 1
            elif col.type == "date":
                if "/" in v:
                    forms["yyyy/mm/dd"] += 1
                elif len(v) == 8:
                    forms["yyyymmdd"] += 1
                if oracle.parse_date(v.strip()) is oracle._BAD:
                    forms["impossible date"] += 1
            elif col.type == "month" and len(v) == 6:
                forms["yyyymm"] += 1
            elif col.type == "enum" and v in col.value_aliases:
                forms["chinese value"] += 1
            elif col.type == "string":
                forms["CRLF in a quoted field"] += "\r\n" in v
                forms["LF in a quoted field"] += "\n" in v.replace("\r\n", "")
                forms["lone CR in a quoted field"] += "\r" in v.replace("\r\n", "")
                forms["doubled quotes and a comma"] += '"' in v and "," in v
                if any(x in v for x in "\r\n\","):
                    forms[f"quoted text in {enc}{' gz' if name.endswith('.gz') else ''}"] += 1
        aliases = {a for col in spec.columns.values() for a in col.aliases}
        forms["chinese header"] += any(h.strip() in aliases for h in header)
        key = tuple(values.get(k) for k in spec.key)
        keys[(source, key)].append((batch, tuple(sorted((k, v) for k, v in values.items()))))
    for (source, key), rows in keys.items():
        by_batch = defaultdict(list)
        for b, content in rows:
            by_batch[b].append(content)
        for b, contents in by_batch.items():
            if len(contents) != len(set(contents)):
                forms["exact duplicate"] += 1
            if len(set(contents)) > 1:
                forms["key conflict"] += 1
        if len(by_batch) > 1 and len({c for cs in by_batch.values() for c in cs}) > 1:
            forms["correction in a later batch"] += 1
    return forms


def test_every_dirt_form_is_present(delivered, cfg):
    forms = dirt_forms(delivered, cfg)
    expected = ["empty optional", "empty required", "15-digit", "full-width", "ideographic space", "spaces", "lower x", "invalid id",
                "yyyy/mm/dd", "yyyymmdd", "impossible date", "yyyymm", "chinese value", "exact duplicate",
                "key conflict", "correction in a later batch", "CRLF in a quoted field", "LF in a quoted field",
                "lone CR in a quoted field", "doubled quotes and a comma", "quoted text in UTF-8",
                "quoted text in UTF-8-BOM", "quoted text in GB18030", "quoted text in UTF-8 gz"]
    missing = [f for f in expected if forms[f] == 0]
    assert not missing, (missing, forms)


NEW_SOURCES = ("social_insurance", "rural_monitoring", "disasters")


def test_the_new_sources_carry_the_same_dirt(delivered, cfg):
    """Social insurance (thousands of rows here) every form of dirt its columns allow; the two
    small sources (tens of rows here, too few for each form of a dirty ID to occur) Chinese
    headers and values and a correcting batch."""
    forms = dirt_forms(delivered, cfg, {"social_insurance"})
    expected = ["empty optional", "empty required", "15-digit", "full-width", "ideographic space", "spaces", "invalid id",
                "yyyymm", "chinese value", "chinese header", "exact duplicate", "key conflict",
                "correction in a later batch", "CRLF in a quoted field", "LF in a quoted field",
                "lone CR in a quoted field", "doubled quotes and a comma", "quoted text in GB18030 gz"]
    missing = [f for f in expected if forms[f] == 0]
    assert not missing, (missing, forms)
    for source in NEW_SOURCES[1:]:
        forms = dirt_forms(delivered, cfg, {source})
        assert forms["chinese value"] and forms["chinese header"] and forms["correction in a later batch"], (source, forms)
    # the three files' encodings and formats
    files = {(name, enc.split(":")[0]) for s, _b, name, enc, _h, _v in delivered if s in NEW_SOURCES}
    assert {"UTF-8", "UTF-8-BOM", "GB18030", "parquet"} <= {enc for _, enc in files}, files
    assert any(name.endswith(".csv.gz") for name, _ in files), files
    typed = {enc for s, _b, _n, enc, _h, _v in delivered if s == "social_insurance" and enc.startswith("parquet:")}
    assert typed and all("decimal" in t for t in typed), "social insurance in native parquet"


def read_truth(root):
    with open(root / "_truth" / "expected.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_truth_file_is_well_formed(landing, cfg):
    root, counts = landing
    rows = read_truth(root)
    assert list(rows[0]) == ["kind", "rule_id", "person_id", "amount_at_risk", "note"]
    per = Counter((r["rule_id"], r["kind"]) for r in rows)
    assert cfg.rules.rules and {r["rule_id"] for r in rows} == set(cfg.rules.rules)
    for rule in cfg.rules.rules:
        assert per[(rule, "POSITIVE")] >= 3 and per[(rule, "NEAR_MISS")] >= 3, rule
    for r in rows:
        assert normalize_id(r["person_id"], D) == r["person_id"]
        assert r["kind"] in ("POSITIVE", "NEAR_MISS")
        if r["amount_at_risk"]:
            assert Decimal(r["amount_at_risk"]).as_tuple().exponent == -2
    assert counts["truth"] == sum(1 for r in rows if r["kind"] == "POSITIVE")
    assert {r["amount_at_risk"] for r in rows if r["rule_id"] == "DUPLICATE_PAYMENT" and "worked example" in r["note"]} == {"980.00"}


def test_read_back_fires_exactly_the_truth(delivered, landing, cfg):
    """The whole landing zone, read from its files, fires the POSITIVE rows and nothing else."""
    root, _ = landing
    rows = [(source, batch, values) for source, batch, _n, _e, _h, values in delivered]
    tables = oracle.ingest(rows, cfg.contract, D)
    fired = oracle.evaluate(tables, cfg.rules, D)
    truth = {(r["rule_id"], r["person_id"]): (r["amount_at_risk"] or None) for r in read_truth(root) if r["kind"] == "POSITIVE"}
    got = {k: (None if v is None else f"{v:.2f}") for k, v in fired.items()}
    assert got == truth
    near = {(r["rule_id"], r["person_id"]) for r in read_truth(root) if r["kind"] == "NEAR_MISS"}
    assert not near & set(got)


def test_population_matches_the_census(delivered, cfg):
    rows = [(s, b, v) for s, b, _n, _e, _h, v in delivered if s == "household"]
    people = oracle.ingest(rows, cfg.contract, D)["household"]
    # the background population (planted cases live in households numbered <county>P...)
    living = [p for p in people if p["status"] == "NORMAL" and p["household_id"][6] != "P"]
    n = len(living)
    assert abs(n - 3_337_559 * SCALE) / (3_337_559 * SCALE) < 0.06
    males = sum(1 for p in living if p["person_id"][16] in "13579") / n
    assert abs(males - 0.5074) < 0.025
    ages = Counter()
    for p in living:
        birth = dt.date(int(p["person_id"][6:10]), int(p["person_id"][10:12]), int(p["person_id"][12:14]))
        a = (D - birth).days / 365.25
        ages["0-14" if a < 15 else ("15-59" if a < 60 else "60+")] += 1
    for band, share in {"0-14": 0.1671, "15-59": 0.6628, "60+": 0.1701}.items():
        assert abs(ages[band] / n - share) < 0.03, (band, ages[band] / n)
    households = defaultdict(int)
    heads = set()
    for p in living:
        households[p["household_id"]] += 1
        if p["relation_to_head"] == "HEAD":
            heads.add(p["household_id"])
    family = [households[h] for h in heads]
    assert abs(sum(family) / len(family) - 3.01) < 0.15
    by_county = Counter(p["county_code"] for p in living)
    assert by_county.most_common(1)[0][0] == "532901"
    # about 1,050 households at this scale: a share moves by ~2 points from sampling alone
    assert abs((by_county["532901"] + by_county["532923"] + by_county["532924"]) / n - 0.455) < 0.04
    for p in living:   # the ID agrees with the person
        assert p["person_id"][:6] == p["county_code"]
        if p["birth_date"] is not None:
            assert p["birth_date"].strftime("%Y%m%d") == p["person_id"][6:14]
        if p["gender"] is not None:
            assert (p["gender"] == "M") == (p["person_id"][16] in "13579")


def background(person_id: str) -> bool:
    """Not a planted person (their ID sequence numbers are 901-949: jobs/generate/world.py)."""
    return int(person_id[14:17]) < 900


def test_new_sources_have_the_contracts_volumes(delivered, cfg):
    """README s.7 at scale 1.0: social insurance ~20 million rows over 36 months (~420
    thousand contributors, ~160 thousand pensioners, ~8 thousand unemployed), ~45 thousand
    monitored people, ~25 thousand disaster records."""
    rows = [(s, b, v) for s, b, _n, _e, _h, v in delivered if s in NEW_SOURCES]
    tables = oracle.ingest(rows, cfg.contract, D)
    bg = {s: [r for r in tables[s] if background(r["person_id"])] for s in NEW_SOURCES}
    insurance = bg["social_insurance"]
    assert abs(len(insurance) / (20_000_000 * SCALE) - 1) < 0.15, len(insurance)
    persons = Counter()
    for item in ("EMPLOYEE_CONTRIBUTION", "PENSION", "UNEMPLOYMENT_BENEFIT"):
        persons[item] = len({r["person_id"] for r in insurance if r["item"] == item})
    assert abs(persons["EMPLOYEE_CONTRIBUTION"] / (420_000 * SCALE) - 1) < 0.15, persons
    assert abs(persons["PENSION"] / (160_000 * SCALE) - 1) < 0.2, persons
    assert 2 <= persons["UNEMPLOYMENT_BENEFIT"] <= 20, persons          # ~8 at this scale
    months = sorted({r["month"] for r in insurance})
    assert len(months) == 36 and months[-1] == "2026-10", months
    # whole households are monitored: about 15 of them at this scale, hence the wide band
    assert 0.4 < len(bg["rural_monitoring"]) / (45_000 * SCALE) < 1.8, len(bg["rural_monitoring"])
    assert 0.5 < len(bg["disasters"]) / (25_000 * SCALE) < 1.5, len(bg["disasters"])


def test_everyone_80_and_over_holds_the_elderly_allowance(delivered, cfg):
    """Aged 80 and over: ~2.6% of residents (README s.7), each active in ELDERLY_ALLOWANCE
    and paid once a month from the first month of it in the window to the bulk delivery's
    month; the dead hold none and are not paid after their death month."""
    sources = ("household", "enrollment", "payments", "deaths", "funeral")
    tables = oracle.ingest([(s, b, v) for s, b, _n, _e, _h, v in delivered if s in sources], cfg.contract, D)
    facts = oracle.Facts(tables, D, cfg.rules.shared.lookback_months)
    living = [p for p, r in facts.household.items()
              if r["status"] == "NORMAL" and r["household_id"][6] != "P" and p not in facts.death]
    old = [p for p in living if facts.age(p) >= 80]
    assert abs(len(old) / len(living) - 0.026) < 0.006, len(old) / len(living)
    bulk = S.batch_dates(D, S.GenerateSettings())[0]
    last = f"{bulk.year:04d}-{bulk.month:02d}"
    for p in old:
        assert facts.active(p, "ELDERLY_ALLOWANCE")
        start = min(e["start_date"] for e in facts.enrollments[p] if e["program"] == "ELDERLY_ALLOWANCE")
        month, months = max(f"{start.year:04d}-{start.month:02d}", facts.win_lo), []
        while month <= last:
            months.append(month)
            y, m = int(month[:4]), int(month[5:])
            month = f"{y + m // 12:04d}-{m % 12 + 1:02d}"
        paid = Counter(r["pay_month"] for r in facts.payments.get(p, []) if r["program"] == "ELDERLY_ALLOWANCE")
        assert paid == Counter(months)
    for p, died in facts.death.items():
        if background(p):
            assert not facts.any_active(p)
            assert all(r["pay_month"] <= f"{died.year:04d}-{died.month:02d}" for r in facts.payments.get(p, []))


def test_same_seed_same_bytes(tiny_pair):
    (a, ca), (b, cb) = tiny_pair

    def digests(root):
        return {os.path.relpath(p, root): hashlib.sha256(open(p, "rb").read()).hexdigest()
                for p in all_files(root)}

    assert ca == cb
    assert digests(a) == digests(b)


def test_row_counts_scale_linearly(landing, tiny_pair):
    _, big = landing
    _, small = tiny_pair[0]
    ratio = SCALE / TINY
    for source in ("payments", "medical", "household", "education", "enrollment", "social_insurance"):
        assert abs(big[source] / small[source] / ratio - 1) < 0.25, source


def test_normalize_id_matches_the_contract_vectors():
    path = os.path.join(os.path.dirname(__file__), "..", "data", "id_vectors.csv")
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            got = normalize_id(row["raw"], D)
            assert (got or "INVALID") == row["expected"], row["raw"]


# ---------------------------------------------------------------------------------
# Section 1's forms (jobs/generate/forms.py), found in the bytes of the files
# ---------------------------------------------------------------------------------
def raw_records(text: str) -> list[tuple[list[str], str]]:
    """RFC 4180 text as (raw fields, quotes kept, or [] for a blank line; line end)."""
    out, fields, cur, started, quoted = [], [], "", False, False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quoted:
            cur += ch
            if ch == '"':
                if text.startswith('""', i):
                    cur += '"'
                    i += 2
                    continue
                quoted = False
            i += 1
        elif ch in "\r\n":
            eol = "\r\n" if text.startswith("\r\n", i) else ch
            out.append(([*fields, cur] if started else [], eol))
            fields, cur, started = [], "", False
            i += len(eol)
        else:
            started = True
            if ch == ",":
                fields.append(cur)
                cur = ""
            else:
                cur += ch
                quoted = ch == '"'
            i += 1
    if started:
        out.append(([*fields, cur], ""))
    return out


def csv_files(root):
    """(path, encoding, raw records) of every CSV data file."""
    for path in data_files(root):
        if path.lower().endswith(".parquet"):
            continue
        raw = open(path, "rb").read()
        if path.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
        text, enc = decode(raw)
        yield path, enc, raw_records(text)


def found_forms(root, spark, cfg) -> dict[str, list[str]]:
    """Each form of section 1 -> the files (relative paths) that show it."""
    forms = defaultdict(list)

    def add(form, path):
        forms[form].append(os.path.relpath(path, root))

    for path, enc, recs in csv_files(root):
        source = os.path.relpath(path, root).split(os.sep)[0]
        columns = set(cfg.contract[source].columns)
        records = [(f, eol) for f, eol in recs if f]
        gz = " gz" if path.lower().endswith(".gz") else ""
        if len(records) == 1:
            add(f"header only {enc}{gz}", path)
        header = records[0][0]
        if any(h.startswith("\u3000") or h.endswith("\u3000") for h in header):
            add("header padded with U+3000", path)
        if any(h.startswith("\u00a0") or h.endswith("\u00a0") for h in header):
            add("header padded with U+00A0", path)
        if any(h.strip() != h.strip().lower() and h.strip() == h.strip().upper() and h.strip().lower() in columns
               for h in header):
            add("canonical header in upper case", path)
        if any(h.strip() not in (h.strip().lower(), h.strip().upper()) and h.strip().lower() in columns
               for h in header):
            add("canonical header in mixed case", path)
        if any(v == '""' for f, _ in records[1:] for v in f):
            add('"" field', path)
        inner = [i for i, (f, _) in enumerate(recs) if not f and any(g for g, _ in recs[i + 1:])
                 and any(g for g, _ in recs[1:i])]
        if inner:
            add("blank line between records", path)
        if recs and not recs[-1][0]:
            add("blank line at the end", path)
        if len(records) > 1 and records[-1][1] == "":
            add("no final line break", path)
        if len(records) > 1 and all(eol == "\r\n" for _, eol in records[:-1]):
            add(f"CRLF line ends {enc}", path)
        for f, _ in records[1:]:
            for v in f:
                if v.startswith('"') and '""' in v[1:-1] and "," in v:
                    for brk, name in (("\r\n", "CRLF"), ("\n", "LF"), ("\r", "CR")):
                        if brk in v.replace("\r\n", "") or (brk == "\r\n" and brk in v):
                            add(f"doubled quotes, comma and {name} in a quoted field {enc}", path)
                            if gz:
                                add(f"doubled quotes, comma and {name} in a quoted field {enc} gz", path)
    for path in data_files(root):
        if path.lower().endswith(".parquet") and spark.read.parquet(path).count() == 0:
            add("header only parquet", path)
    for path in all_files(root):
        name = os.path.basename(path)
        rel = os.path.relpath(path, root).split(os.sep)
        if len(rel) != 3:
            continue
        if name == "_SUCCESS" and os.path.getsize(path) == 0:
            add("_SUCCESS", path)
        if name.startswith(".") and name.endswith(".crc"):
            add(".crc", path)
        if name.endswith(".CSV"):
            add("extension .CSV", path)
        if name.endswith(".Csv.GZ"):
            add("extension .Csv.GZ", path)
        if not name.startswith(("_", ".")) and not name.lower().endswith((".csv", ".csv.gz", ".parquet")):
            add("other file type", path)
        if os.path.getsize(path) == 0 and not name.startswith(("_", ".")):
            add("0-byte data file", path)
    return forms


SECTION_1_FORMS = [
    "header only UTF-8-BOM", "header only GB18030", "header only UTF-8 gz", "header only parquet",
    "header padded with U+3000", "header padded with U+00A0", "canonical header in upper case",
    "canonical header in mixed case", '"" field', "blank line between records", "blank line at the end",
    "no final line break", "CRLF line ends GB18030", "_SUCCESS", ".crc", "extension .CSV",
    "extension .Csv.GZ", "other file type",
    "doubled quotes, comma and CRLF in a quoted field GB18030",
    "doubled quotes, comma and LF in a quoted field GB18030",
    "doubled quotes, comma and CR in a quoted field GB18030",
]


def test_every_form_of_section_1_is_present(landing, spark, cfg):
    root, _ = landing
    forms = found_forms(root, spark, cfg)
    missing = [f for f in SECTION_1_FORMS if not forms.get(f)]
    assert not missing, (missing, dict(forms))
    # the one file of another type is a readme the run reports; no 0-byte data file (FAILED by contract)
    assert [os.path.basename(p) for p in forms["other file type"]] == ["readme.txt"]
    assert not forms.get("0-byte data file")
    # the header-only files: a header the contract reads, nothing else
    for form in ("header only UTF-8-BOM", "header only GB18030", "header only UTF-8 gz"):
        for rel in forms[form]:
            source = rel.split(os.sep)[0]
            header, rows, _ = read_csv(str(root / rel))
            hm = cfg.contract[source].header_map()
            assert not rows and set(cfg.contract[source].columns) <= {hm.get(h.strip().lower()) for h in header}


def test_the_forms_at_the_smallest_scale(tiny_pair, spark, cfg):
    root, _ = tiny_pair[0]
    forms = found_forms(root, spark, cfg)
    missing = [f for f in SECTION_1_FORMS if not forms.get(f)]
    assert not missing, (missing, dict(forms))
