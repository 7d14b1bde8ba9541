"""`hedui generate`: orchestration (extract nothing, transform from spark.range, load files)."""
from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from jobs.generate import oracle, planted, settings as S
from jobs.generate.background import Background
from jobs.generate.common import U
from jobs.generate.population import Population, add, build_people
from jobs.spark.workarounds import whole_stage_codegen
from jobs.generate.writer import LOSS_SAFE, PROFILES, Files, format_for_file, n_files_for, profile_for, with_dirt

log = logging.getLogger(__name__)

TMP = "_tmp_generate"
TRUTH = "_truth/expected.csv"
# rows at scale 1.0 per source (for the number of files per batch)
VOLUME = {"payments": 154e6, "medical": 45e6, "household": 3.6e6, "education": 2.2e6, "enrollment": 1.9e6,
          "tax": 1.2e6, "provident_fund": 0.75e6, "vehicles": 0.85e6, "marriage": 0.7e6}


def generate(spark: SparkSession, cfg, out: str, scale: float, seed: int, as_of: dt.date,
             settings: S.GenerateSettings | None = None) -> dict:
    """Write a synthetic Dali landing zone under ``out``; returns row counts per source."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    st = settings or S.GenerateSettings()
    t0 = time.time()
    # the generator's expressions are wide: fused code costs more than it saves (but below)
    with whole_stage_codegen(spark, False):
        return _generate(spark, cfg, out, scale, seed, as_of, st, t0)


def _generate(spark, cfg, out, scale, seed, as_of, st, t0) -> dict:
    files = Files(spark, out)
    # a fresh landing zone: the generator's own folders are replaced, nothing else is touched
    for name in [TMP, "_truth", *[n for n in cfg.contract.names if n != "feedback"]]:
        files.delete(name)
    pop = Population(spark, cfg, scale, seed, as_of, st)
    D, B1, B2 = as_of, pop.B1, pop.B2
    batches = {1: B1.isoformat(), 2: B2.isoformat()}
    people = build_people(pop, "/".join([files.out, TMP, "people"]))
    # the per-person flags every source reads, computed once
    flags_path = "/".join([files.out, TMP, "people_x"])
    Background(pop, people).x().write.mode("overwrite").parquet(flags_path)
    people = spark.read.parquet(flags_path)
    bg = Background(pop, people)
    log.info("people ready (%.1fs)", time.time() - t0)

    # planted cases, the oracle's verdict and the truth
    world = planted.World(cfg, seed, D, B1, pop.counties, pop.county_w)
    n_pos = max(3, round(st.planted_per_million * S.RESIDENTS / 1e6 * scale))
    n_nm = max(3, round(n_pos * st.near_miss_share))
    rules = list(planted.CASES)
    cases = planted.build(world, rules, n_pos, n_nm)
    typed = {k for k, p in PROFILES.items() if p.typed}
    delivered = planted.deliver(world, cfg.contract, seed, st.dirt_rate, st.date_format_rate, typed)
    fired = oracle.evaluate(oracle.ingest(delivered, cfg.contract, D), cfg.rules.all_params(), D,
                            cfg.rules.enabled)
    truth = _truth(cases, fired)
    log.info("%d planted cases, %d planted rows (%.1fs)", len(cases), len(delivered), time.time() - t0)

    # background per source, dirt, planted rows, formats, files
    spells = bg.enrollment_spells()
    n_pay = n_files_for(VOLUME["payments"] * scale, st.rows_per_file)
    n_med = n_files_for(VOLUME["medical"] * scale, st.rows_per_file)
    sources = {
        "household": lambda: bg.household(),
        "deaths": bg.deaths, "funeral": bg.funeral, "prison": bg.prison, "corrections": bg.corrections,
        "public_employees": bg.public_employees, "provident_fund": bg.provident_fund, "tax": bg.tax,
        "medical": lambda: Background(pop, _spread(people, n_med, "pk")).medical(),
        "disability": bg.disability, "education": bg.education, "vehicles": bg.vehicles,
        "business": bg.business, "enrollment": lambda: bg.enrollment(spells),
        "payments": lambda: bg.payments(_spread(spells, n_pay, "ek")), "marriage": bg.marriage,
    }
    sample = people.where(f"{U(seed, 'batch2', 'pk')} < {max(st.dirt_rate, 0.002) * 2}")
    bg2 = Background(pop, sample)
    corrections = {
        "household": lambda: add(bg2.household(), {"name": "concat(substring(name, 1, 1), '新', substring(name, 2))"}),
        "enrollment": lambda: add(bg2.enrollment(bg2.enrollment_spells()),
                                  {"monthly_amount": "cast(cast(monthly_amount as decimal(14,2)) + 20 as string)"}),
        "medical": lambda: add(bg2.medical().where("pmod(_rk, 64) = 1"),
                               {"out_of_pocket": "cast(cast(cast(out_of_pocket as decimal(14,2)) * 0.9 as decimal(14,2)) as string)"}),
        "deaths": lambda: add(bg2.deaths(), {"cause_code": "'R99'"}),
        "vehicles": lambda: add(bg2.vehicles(), {"purchase_price": "cast(cast(purchase_price as decimal(14,2)) + 1000 as string)"}),
    }
    counts: dict[str, int] = {}
    for source in cfg.contract.names:
        if source == "feedback" or source not in sources:
            continue
        spec = cfg.contract[source]
        total = 0
        for b in (1, 2):
            prof = profile_for(source, b)
            frames = []
            make = sources[source] if b == 1 else corrections.get(source)
            if make is not None:
                frames.append(with_dirt(make(), spec, seed, st.dirt_rate, st.date_format_rate, prof.typed,
                                        f"b{b}", source in LOSS_SAFE))
            rows = [r for s, bb, r in delivered if s == source and bb == b]
            if rows:
                frames.append(_planted_frame(spark, spec, rows, prof.typed))
            if not frames:
                continue
            df = frames[0]
            for f in frames[1:]:
                df = df.unionByName(f)
            df = format_for_file(df, spec, prof, seed, f"b{b}")
            n_files = n_files_for(VOLUME.get(source, 0) * scale, st.rows_per_file) if b == 1 else 1
            # fused code pays off only where there are many rows to run it on
            big = b == 1 and VOLUME.get(source, 0) * scale >= 300_000
            with whole_stage_codegen(spark, big):
                total += files.write(df, source, batches[b], f"{source}_{batches[b].replace('-', '')}", prof,
                                     n_files, TMP)
        counts[source] = total
        log.info("%s: %d rows (%.1fs)", source, total, time.time() - t0)
    files.write_text(TRUTH, _truth_csv(truth))
    files.delete(TMP)
    counts["truth"] = len([t for t in truth if t[0] == "POSITIVE"])
    counts["near_miss"] = len([t for t in truth if t[0] == "NEAR_MISS"])
    log.info("generated %d rows in %.1fs", sum(v for k, v in counts.items() if k not in ("truth", "near_miss")),
             time.time() - t0)
    return counts


def _spread(df: DataFrame, n: int, key: str) -> DataFrame:
    """n partitions in a stable order (so a big source is written by n tasks into n files)."""
    if n <= 1:
        return df
    return df.repartition(n, key).sortWithinPartitions(key)


def _planted_frame(spark: SparkSession, spec, rows: list[dict], typed: bool) -> DataFrame:
    cols = list(spec.columns)
    schema = T.StructType([T.StructField(c, T.StringType(), True) for c in cols]
                          + [T.StructField("_rk", T.LongType(), False)])
    data = [tuple(r.get(c) for c in cols) + (-(i + 1),) for i, r in enumerate(rows)]
    df = spark.createDataFrame(data, schema).coalesce(1)
    if typed:
        return df  # typed profiles cast strings (canonical ISO forms) when formatting
    return df


def _truth(cases, fired: dict) -> list[tuple[str, str, str, str, str]]:
    """Check the oracle agrees with every case's intent; the POSITIVE rows carry its amounts."""
    intended = {(rule, p.id) for kind, rule, p, _ in cases if kind == "POSITIVE"}
    problems = []
    for kind, rule, p, note in cases:
        hit = (rule, p.id) in fired
        if kind == "POSITIVE" and not hit:
            problems.append(f"{rule} positive does not fire: {note}")
        if kind == "NEAR_MISS" and hit:
            problems.append(f"{rule} near miss fires: {note}")
    for (rule, pid) in fired:
        if (rule, pid) not in intended:
            note = next((n for k, r, p, n in cases if p.id == pid), "?")
            problems.append(f"{rule} fires unplanned (case: {note})")
    if problems:
        raise RuntimeError("planted cases disagree with the rules: " + "; ".join(sorted(set(problems))[:20]))
    out = []
    for kind, rule, p, note in cases:
        amount = fired.get((rule, p.id)) if kind == "POSITIVE" else None
        out.append((kind, rule, p.id, "" if amount is None else f"{Decimal(amount):.2f}", note))
    return sorted(out, key=lambda t: (t[1], t[0] != "POSITIVE", t[2]))


def _truth_csv(rows) -> str:
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "rule_id", "person_id", "amount_at_risk", "note"])
    w.writerows(rows)
    return buf.getvalue()
