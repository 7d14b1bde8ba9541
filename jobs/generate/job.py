"""`hedui generate`: orchestration (extract nothing, transform from spark.range, load files).

The sources written are those with a generator profile (conf/generate/<source>.yaml,
:mod:`jobs.generate.profiles`), in the contract's order; each one's background rows are
the :class:`~jobs.generate.background.Background` method named after it. The planted
cases and the truth are those of every rule of conf/rules.yaml (:mod:`jobs.generate.cases`).
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from jobs.errors import ConfigError
from jobs.generate import cases, forms, oracle, settings as S
from jobs.generate.background import Background
from jobs.generate.common import U
from jobs.generate.population import Population, add, build_people
from jobs.generate.profiles import SourceProfile, load_profiles
from jobs.generate.world import World, deliver
from jobs.spark.workarounds import whole_stage_codegen
from jobs.generate.writer import Files, format_for_file, n_files_for, with_dirt

log = logging.getLogger(__name__)

TMP = "_tmp_generate"
TRUTH = "_truth/expected.csv"
BIG = 300_000       # rows of a bulk batch from which fused (whole-stage) code pays off


def generate(spark: SparkSession, cfg, out: str, scale: float, seed: int, as_of: dt.date,
             settings: S.GenerateSettings | None = None) -> dict:
    """Write a synthetic Dali landing zone under ``out``; returns row counts per source."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    st = settings or S.GenerateSettings()
    t0 = time.time()
    # checked before any work: every rule has its cases and truth, every source its background
    cases.check(cfg.rules)
    profiles = load_profiles(cfg.contract)
    for source in profiles:
        if not callable(getattr(Background, source, None)):
            raise ConfigError(f"conf/generate/{source}.yaml: no background method Background.{source} "
                              f"(jobs/generate/background.py)")
    # the generator's expressions are wide: fused code costs more than it saves (but below)
    with whole_stage_codegen(spark, False):
        return _generate(spark, cfg, profiles, out, scale, seed, as_of, st, t0)


def _generate(spark, cfg, profiles: dict[str, SourceProfile], out, scale, seed, as_of, st, t0) -> dict:
    files = Files(spark, out)
    # a fresh landing zone: the generator's own folders are replaced, nothing else is touched
    for name in [TMP, "_truth", *profiles]:
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
    world = World(cfg, seed, D, B1, pop.counties, pop.county_w)
    n_pos = max(3, round(st.planted_per_million * S.RESIDENTS / 1e6 * scale))
    n_nm = max(3, round(n_pos * st.near_miss_share))
    planted = cases.build(world, list(cfg.rules.rules), n_pos, n_nm)
    typed = {(s, b) for s, p in profiles.items() for b, f in p.batches.items() if f.typed}
    delivered = deliver(world, cfg.contract, seed, st.dirt_rate, st.date_format_rate, typed)
    unprofiled = sorted({s for s, _, _ in delivered} - set(profiles))
    if unprofiled:
        raise ConfigError(f"conf/generate/{unprofiled[0]}.yaml: planted rows of a source without a generator profile")
    fired = oracle.evaluate(oracle.ingest(delivered, cfg.contract, D), cfg.rules, D)
    truth = _truth(planted, fired)
    log.info("%d planted cases, %d planted rows (%.1fs)", len(planted), len(delivered), time.time() - t0)

    # background per source, dirt, planted rows, formats, files
    sample = people.where(f"{U(seed, 'batch2', 'pk')} < {max(st.dirt_rate, 0.002) * 2}")
    bg2 = Background(pop, sample)
    counts: dict[str, int] = {}
    for source, profile in profiles.items():
        spec = cfg.contract[source]
        n_bulk = n_files_for(profile.volume * scale, st.rows_per_file)
        total = 0
        for b in (1, 2):
            prof = profile.batches[b]
            frames = []
            background = _background(bg, profile, n_bulk) if b == 1 else _correction(bg2, profile)
            if background is not None:
                frames.append(with_dirt(background, spec, profile, b, seed, st.dirt_rate, st.date_format_rate))
            rows = [r for s, bb, r in delivered if s == source and bb == b]
            if rows:
                frames.append(_planted_frame(spark, spec, rows))
            if not frames:
                continue
            df = frames[0]
            for f in frames[1:]:
                df = df.unionByName(f)
            df = format_for_file(df, spec, prof, seed, f"b{b}")
            n_files = n_bulk if b == 1 else 1
            # fused code pays off only where there are many rows to run it on
            big = b == 1 and profile.volume * scale >= BIG
            with whole_stage_codegen(spark, big):
                total += files.write(df, source, batches[b], f"{source}_{batches[b].replace('-', '')}", prof,
                                     n_files, TMP)
        counts[source] = total
        log.info("%s: %d rows (%.1fs)", source, total, time.time() - t0)
    if st.landing_forms:
        forms.write_forms(files, files.written, cfg.contract, profiles, seed, [batches[1], batches[2]],
                          zero_byte_file=st.zero_byte_file)
        log.info("section 1 forms written (%.1fs)", time.time() - t0)
    files.write_text(TRUTH, _truth_csv(truth))
    files.delete(TMP)
    counts["truth"] = len([t for t in truth if t[0] == "POSITIVE"])
    counts["near_miss"] = len([t for t in truth if t[0] == "NEAR_MISS"])
    log.info("generated %d rows in %.1fs", sum(v for k, v in counts.items() if k not in ("truth", "near_miss")),
             time.time() - t0)
    return counts


def _background(bg: Background, profile: SourceProfile, n_files: int) -> DataFrame:
    """The bulk batch's background rows of the source (its input spread over its files, if big)."""
    if profile.spread is not None:
        bg = bg.spread(profile.spread, n_files)
    return getattr(bg, profile.source)()


def _correction(bg2: Background, profile: SourceProfile) -> DataFrame | None:
    """The correcting batch's background rows: the sample's rows, filtered, columns replaced."""
    c = profile.correction
    if c is None:
        return None
    df = getattr(bg2, profile.source)()
    if c.where is not None:
        df = df.where(c.where)
    return add(df, c.columns)


def _planted_frame(spark: SparkSession, spec, rows: list[dict]) -> DataFrame:
    """Planted rows as strings (a typed file profile casts them, canonical ISO forms, when formatting)."""
    cols = list(spec.columns)
    schema = T.StructType([T.StructField(c, T.StringType(), True) for c in cols]
                          + [T.StructField("_rk", T.LongType(), False)])
    data = [tuple(r.get(c) for c in cols) + (-(i + 1),) for i, r in enumerate(rows)]
    return spark.createDataFrame(data, schema).coalesce(1)


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
