"""The background population: family and collective households, the dead, the moved out.

Households come from ``spark.range``; every household attribute is a pure function of
(seed, household number), every member attribute a pure function of the household and the
member's slot, so any job can recompute them without a join. The only shuffles are the
ones that make ID numbers unique (a rank per county, birth date and sex) and that collect
each household's ID numbers (father, mother, head, spouse), over a few million rows at most.

Column recipes are Spark SQL text (one JVM call per column). The result is materialised
once as parquet in the generator's scratch folder (:func:`build_people`).
"""
from __future__ import annotations

import datetime as dt
import math

from pyspark.sql import DataFrame, SparkSession

from jobs.generate import settings as S
from jobs.generate.common import (CASE, ETHNICITIES, ID_CHECK, LIT_DATE, NAME, PICK, RI, SURNAME, U)

# person-key namespaces (pk): family members are hh * 8 + slot
OFF_COLLECTIVE = 10_000_000_000
OFF_DEAD = 20_000_000_000
OFF_MOVED = 30_000_000_000
OFF_COLLECTIVE_HH = 5_000_000_000
# old people living alone or as a couple: age = lowest + pow(u, OLD_AGE_SKEW) * span, so
# that fewer of them are very old (census: aged 80 and over about 2.6% of residents)
OLD_AGE_SKEW = 1.5

# household templates: (size, weight within the size, roles, head age range)
H, SP, C, P, GC, SIB, O = "HEAD", "SPOUSE", "CHILD", "PARENT", "GRANDCHILD", "SIBLING", "OTHER"
TEMPLATES = [
    (1, 1.00, [H], (18, 95)),
    (2, 0.66, [H, SP], (24, 88)),
    (2, 0.22, [H, C], (26, 60)),
    (2, 0.12, [H, P], (22, 45)),
    (3, 0.74, [H, SP, C], (27, 58)),
    (3, 0.08, [H, C, C], (30, 56)),
    (3, 0.12, [H, SP, P], (24, 45)),
    (3, 0.06, [H, SP, GC], (52, 80)),
    (4, 0.56, [H, SP, C, C], (30, 56)),
    (4, 0.30, [H, SP, C, P], (28, 52)),
    (4, 0.08, [H, SP, GC, GC], (54, 80)),
    (4, 0.06, [H, SP, C, SIB], (24, 50)),
    (5, 0.55, [H, SP, C, C, P], (30, 54)),
    (5, 0.25, [H, SP, C, O, GC], (52, 76)),
    (5, 0.20, [H, SP, C, P, P], (26, 48)),
    (6, 0.35, [H, SP, C, O, GC, GC], (52, 76)),
    (6, 0.65, [H, SP, C, C, P, P], (30, 52)),
    (7, 0.60, [H, SP, C, O, GC, GC, P], (48, 64)),
    (7, 0.40, [H, SP, C, C, O, GC, P], (48, 64)),
]


def _pos(roles: list[str], role: str, nth: int = 1) -> int:
    seen = 0
    for i, r in enumerate(roles):
        if r == role:
            seen += 1
            if seen == nth:
                return i
    return -1


def _by_template(values: list, t: str = "tmpl") -> str:
    out = f"element_at(split('{','.join(str(v) for v in values)}', ','), {t} + 1)"
    if all(isinstance(v, bool) for v in values):
        return f"({out} = 'True')"
    return f"cast({out} as int)"


def add(df: DataFrame, cols: dict[str, str]) -> DataFrame:
    """Add (or replace) columns given as SQL text; they may not refer to each other."""
    keep = [f"`{c}`" for c in df.columns if c not in cols]
    return df.selectExpr(*keep, *[f"{sql} AS `{name}`" for name, sql in cols.items()])


class Population:
    """SQL recipes of one synthetic Dali (seed, scale, check date)."""

    def __init__(self, spark: SparkSession, cfg, scale: float, seed: int, as_of: dt.date,
                 settings: S.GenerateSettings):
        self.spark, self.cfg, self.scale, self.seed, self.D = spark, cfg, scale, seed, as_of
        self.st = settings
        self.B1, self.B2 = S.batch_dates(as_of, settings)
        self.H = S.family_households(scale)
        self.HC = S.collective_households(scale)
        self.n_dead = max(1, round(S.DEATHS * scale))
        self.n_moved = max(1, round(S.RESIDENTS * S.MOVED_OUT_SHARE * scale))
        self.parts = max(1, math.ceil(S.RESIDENTS * scale / 1_500_000))
        counties = [c for c in cfg.geo.counties if c in S.COUNTY_POPULATION]
        self.counties = counties
        self.county_w = [S.COUNTY_POPULATION[c] for c in counties]
        self.towns = {c: sorted(t for t, cc in cfg.geo.township_county.items() if cc == c) for c in counties}
        self.town_w = {c: [self._town_weight(cfg.geo.townships[t]) for t in self.towns[c]] for c in counties}

    @staticmethod
    def _town_weight(name: str) -> float:
        for suffix, w in S.TOWNSHIP_WEIGHT.items():
            if name.endswith(suffix):
                return w
        return 1.0

    # ------------------------------------------------------------------ helpers
    def u(self, salt: str, *cols: str) -> str:
        return U(self.seed, salt, *cols)

    def ri(self, salt: str, lo, hi, *cols: str) -> str:
        return RI(self.seed, salt, lo, hi, *cols)

    def county_of(self, key: str) -> str:
        return PICK(self.counties, self.county_w, self.u("county", key))

    def township_of(self, county: str, u: str) -> str:
        """u: a uniform column."""
        return CASE([(f"{county} = '{c}'", PICK(self.towns[c], self.town_w[c], u)) for c in self.counties], "NULL")

    def birth_date(self, age: str, key: str) -> str:
        """A birth date that makes the person exactly ``age`` on D."""
        return f"date_sub(add_months({LIT_DATE(self.D)}, cast(-12 * ({age}) as int)), {self.ri('bday', 0, 364, key)})"

    # ------------------------------------------------------------------ households
    def households(self, df: DataFrame | None = None) -> DataFrame:
        """Household attributes for a frame with an ``hh`` column (family households)."""
        if df is None:
            df = self.spark.range(0, self.H, 1, self.parts).withColumnRenamed("id", "hh")
        sizes = list(S.HOUSEHOLD_SIZES)
        df = add(df, {"_us": self.u("size", "hh"), "_uc": self.u("county", "hh"), "_ut": self.u("township", "hh"),
                      "_um": self.u("tmpl", "hh")})
        df = add(df, {"size": PICK(sizes, [S.HOUSEHOLD_SIZES[s] for s in sizes], "_us"),
                      "county": PICK(self.counties, self.county_w, "_uc")})
        branches = []
        for s in sizes:
            idx = [i for i, t in enumerate(TEMPLATES) if t[0] == s]
            branches.append((f"size = {s}", PICK(idx, [TEMPLATES[i][1] for i in idx], "_um")))
        band = PICK([0, 1, 2], [0.32, 0.38, 0.30], self.u("alone_band", "hh"))
        df = add(df, {"tmpl": CASE(branches, "0"),
                      "township": self.township_of("county", "_ut"),
                      "household_id": "concat(county, lpad(cast(hh as string), 10, '0'))",
                      "head_male": f"{self.u('head_male', 'hh')} < 0.55",
                      "_band": band})
        u_age = self.u("head_age", "hh")
        lo, hi = _by_template([x[3][0] for x in TEMPLATES]), _by_template([x[3][1] for x in TEMPLATES])
        a_lo = "(CASE _band WHEN 0 THEN 18 ELSE 35 END)"      # bands 0 and 1 (band 2: 60-95, below)
        a_hi = "(CASE _band WHEN 0 THEN 34 ELSE 59 END)"
        couple_old = f"{self.u('couple_band', 'hh')} < 0.48"
        # the old bands thin out with age (aged 80 and over: about 2.6% of residents)
        u_old = f"pow({u_age}, {OLD_AGE_SKEW})"
        head_age = CASE([("size = 1 AND _band = 2", f"60 + floor({u_old} * 36)"),
                         ("size = 1", f"{a_lo} + floor({u_age} * ({a_hi} - {a_lo} + 1))"),
                         (f"tmpl = 1 AND {couple_old}", f"58 + floor({u_old} * 30)"),
                         ("tmpl = 1", f"24 + floor({u_age} * 34)")],
                        f"{lo} + floor({u_age} * ({hi} - {lo} + 1))")
        df = add(df, {"head_age": f"cast({head_age} as int)"}).drop("_band", "_us", "_uc", "_ut", "_um")
        st = self.st
        gap = f"(22 + floor({self.u('gapC', 'hh')} * least(13, greatest(1, head_age - 21))))"
        tekun = f"size = 1 AND head_age >= 60 AND {self.u('tekun', 'hh')} < {st.tekun_rate}"
        u_c = self.u("class", "hh")
        r1, r2 = st.dibao_rate, st.dibao_rate + st.dibao_edge_rate
        r3 = r2 + st.history_rate
        cls = CASE([(tekun, "'TEKUN'"), (f"{u_c} < {r1}", "'DIBAO'"), (f"{u_c} < {r2}", "'DIBAO_EDGE'"),
                    (f"{u_c} < {r3}", "'HIST'")], "'NONE'")
        months_avail = (self.D.year - 2007) * 12 + self.D.month - 1 - 3
        mt_start = (f"date_add(add_months(DATE'2007-01-01', cast(floor(pow({self.u('mt_start', 'hh')}, 0.8) * {months_avail}) as int)),"
                    f" {self.ri('mt_day', 0, 27, 'hh')})")
        h_start = f"add_months(DATE'2007-01-01', cast(floor({self.u('h_start', 'hh')} * {(2018 - 2007) * 12}) as int))"
        h_end = f"least(date_sub(add_months({h_start}, {self.ri('h_len', 24, 160, 'hh')}), 1), {LIT_DATE(self.B1 - dt.timedelta(days=45))})"
        des = [(_pos(x[2], C) if _pos(x[2], C) >= 0 else _pos(x[2], GC)) for x in TEMPLATES]
        df = add(df, {
            "child_base": f"cast(greatest(0, head_age - {gap}) as int)",
            "cls": cls,
            "mt_start": mt_start,
            "h_start": h_start,
            "h_end": h_end,
            "edu_slot": _by_template(des),
            "spouse_slot": _by_template([_pos(x[2], SP) for x in TEMPLATES]),
            "fc_slot": _by_template([_pos(x[2], C) for x in TEMPLATES]),
            "other_slot": _by_template([_pos(x[2], O) for x in TEMPLATES]),
            "p1_slot": _by_template([_pos(x[2], P, 1) for x in TEMPLATES]),
            "p2_slot": _by_template([_pos(x[2], P, 2) for x in TEMPLATES]),
            "skipped_gen": _by_template([(C not in x[2] and GC in x[2]) for x in TEMPLATES]),
            "roles": f"split(element_at(split('{'|'.join(','.join(x[2]) for x in TEMPLATES)}', '[|]'), tmpl + 1), ',')",
        })
        # DIBAO households that came from DIBAO_EDGE: that spell ended the day before
        df = add(df, {
            "edge_prev": f"cls = 'DIBAO' AND {self.u('edge_prev', 'hh')} < 0.2 AND mt_start >= DATE'2009-01-01'",
            "edge_prev_start": f"greatest(DATE'2007-01-01', add_months(mt_start, -{self.ri('edge_len', 6, 24, 'hh')}))",
        })
        return df

    # ------------------------------------------------------------------ people
    def member_cols(self) -> dict[str, str]:
        k = "pk"
        two_parents = "p2_slot >= 0"
        u_s = self.u("sex", "pk")
        u_fc = self.u("sex", "hh * 8 + fc_slot")
        male = CASE([("role = 'HEAD'", "head_male"), ("role = 'SPOUSE'", "NOT head_male"),
                     ("role IN ('CHILD', 'GRANDCHILD')", f"{u_s} < 0.515"),
                     ("role = 'PARENT'", f"CASE WHEN {two_parents} THEN slot = p1_slot ELSE {u_s} < 0.40 END"),
                     ("role = 'OTHER'", f"NOT ({u_fc} < 0.515)")], f"{u_s} < 0.5")
        sp_gap = self.ri("sp_gap", 0, 6, k)
        spouse = f"CASE WHEN head_male THEN head_age - {sp_gap} ELSE head_age + {sp_gap} END"
        child = f"CASE WHEN slot = fc_slot THEN child_base ELSE greatest(0, child_base - {self.ri('sib_gap', 1, 6, k)}) END"
        gc_top = "CASE WHEN skipped_gen THEN least(17, head_age - 45) ELSE child_base - 20 END"
        grandchild = f"floor({self.u('gc_age', k)} * greatest(1, {gc_top} + 1))"
        age = CASE([("role = 'HEAD'", "head_age"), ("role = 'SPOUSE'", f"greatest(18, {spouse})"),
                    ("role = 'CHILD'", child), ("role = 'GRANDCHILD'", f"greatest(0, {grandchild})"),
                    ("role = 'PARENT'", f"least(99, head_age + {self.ri('p_gap', 22, 32, k)})"),
                    ("role = 'OTHER'", f"greatest(18, child_base + {self.ri('o_gap', -3, 3, k)})")],
                   f"greatest(16, head_age + {self.ri('s_gap', -8, 8, k)})")
        return {"male": male, "age": f"cast({age} as int)"}

    def family_members(self, hh: DataFrame) -> DataFrame:
        df = hh.selectExpr("*", "posexplode(roles) AS (slot, role)").drop("roles")
        df = add(df, {"pk": "hh * 8 + slot"})
        df = add(df, self.member_cols())
        df = add(df, {"birth_date": self.birth_date("age", "pk"), "kind": "'family'", "status": "'NORMAL'",
                      "status_date": "CAST(NULL AS DATE)"})
        return df

    def collective_members(self) -> DataFrame:
        n = self.HC * S.COLLECTIVE_SIZE
        df = self.spark.range(0, n, 1, max(1, self.parts // 4)).withColumnRenamed("id", "idx")
        df = add(df, {"hh": f"floor(idx / {S.COLLECTIVE_SIZE}) + {OFF_COLLECTIVE_HH}", "pk": f"idx + {OFF_COLLECTIVE}"})
        # schools, barracks, factories and temples, spread like the population
        df = add(df, {"_uc": self.u("county", "hh"), "_ut": self.u("township", "hh")})
        df = add(df, {"county": PICK(self.counties, self.county_w, "_uc")})
        ua = self.u("c_age", "pk")
        df = add(df, {
            "township": self.township_of("county", "_ut"),
            "household_id": f"concat(county, 'J', lpad(cast(hh - {OFF_COLLECTIVE_HH} as string), 9, '0'))",
            "slot": "-1", "role": "'OTHER'",
            "age": f"cast(CASE WHEN {ua} < 0.62 THEN 18 + floor({ua} / 0.62 * 5) ELSE 23 + floor(({ua} - 0.62) / 0.38 * 32) END as int)",
            "male": f"{self.u('c_sex', 'pk')} < 0.50",
            "kind": "'collective'", "status": "'NORMAL'", "status_date": "CAST(NULL AS DATE)", "cls": "'NONE'",
        })
        return add(df, {"birth_date": self.birth_date("age", "pk")}).drop("_uc", "_ut")

    def dead_people(self, hh: DataFrame) -> DataFrame:
        base = self.spark.range(0, self.n_dead, 1, max(1, self.parts // 4)).withColumnRenamed("id", "idx")
        base = add(base, {"pk": f"idx + {OFF_DEAD}"})
        base = add(base, {"hh": f"cast(floor({self.u('d_hh', 'pk')} * {self.H}) as long)"})
        df = base.join(hh.drop("roles"), "hh")
        days = (self.B1 - dt.date(2017, 1, 1)).days - 1
        ua = self.u("d_age", "pk")
        df = add(df, {
            "death_date": f"date_add(DATE'2017-01-01', {self.ri('d_date', 0, days, 'pk')})",
            "age_death": f"cast(CASE WHEN {ua} < 0.18 THEN 20 + floor({ua} / 0.18 * 40) ELSE 60 + floor(({ua} - 0.18) / 0.82 * 40) END as int)",
            "male": f"{self.u('d_sex', 'pk')} < 0.55",
            "slot": "-1",
            "role": f"CASE WHEN {self.u('d_rel', 'pk')} < 0.75 THEN 'PARENT' ELSE 'OTHER' END",
            "kind": "'dead'", "status": "'DECEASED'",
            "dead_dibao": f"{self.u('d_dibao', 'pk')} < 0.12",
        })
        df = add(df, {"birth_date": f"date_sub(add_months(death_date, -12 * age_death), {self.ri('d_bday', 0, 364, 'pk')})",
                      "status_date": "death_date"})
        return add(df, {"age": f"cast(floor(months_between({LIT_DATE(self.D)}, birth_date) / 12) as int)"})

    def moved_people(self, hh: DataFrame) -> DataFrame:
        base = self.spark.range(0, self.n_moved, 1, max(1, self.parts // 4)).withColumnRenamed("id", "idx")
        base = add(base, {"pk": f"idx + {OFF_MOVED}"})
        base = add(base, {"hh": f"cast(floor({self.u('m_hh', 'pk')} * {self.H}) as long)"})
        df = base.join(hh.drop("roles"), "hh")
        df = add(df, {"ex_spouse": f"{self.u('m_ex', 'pk')} < 0.3 AND head_age >= 30"})
        head_birth = self.birth_date("head_age", "hh * 8")
        df = add(df, {
            "role": "CASE WHEN ex_spouse THEN 'SPOUSE' ELSE 'CHILD' END",
            "slot": "-1",
            "age": f"cast(CASE WHEN ex_spouse THEN greatest(20, head_age + {self.ri('m_gap', -3, 3, 'pk')}) ELSE 18 + {self.ri('m_age', 0, 22, 'pk')} END as int)",
            "male": f"CASE WHEN ex_spouse THEN NOT head_male ELSE {self.u('m_sex', 'pk')} < 0.5 END",
            "ex_married": f"date_add(add_months({head_birth}, 240), {self.ri('m_m1', 0, 364, 'pk')})",
            "kind": "'moved'", "status": "'MOVED_OUT'", "cls": "'NONE'",
        })
        df = add(df, {"birth_date": self.birth_date("age", "pk"),
                      "ex_divorced": f"date_add(ex_married, {self.ri('m_d1', 180, 540, 'pk')})"})
        return add(df, {"status_date": f"CASE WHEN ex_spouse THEN date_add(ex_divorced, 30) ELSE date_sub({LIT_DATE(self.B1)}, {self.ri('m_when', 30, 3000, 'pk')}) END"})


PEOPLE_COLUMNS = {
    "pk": "long", "hh": "long", "slot": "int", "role": "string", "kind": "string", "county": "string",
    "township": "string", "household_id": "string", "age": "int", "male": "boolean",
    "birth_date": "date", "status": "string", "status_date": "date", "cls": "string", "size": "int",
    "tmpl": "int", "head_age": "int", "head_male": "boolean", "child_base": "int", "mt_start": "date",
    "edge_prev": "boolean", "edge_prev_start": "date", "h_start": "date", "h_end": "date",
    "edu_slot": "int", "spouse_slot": "int", "fc_slot": "int", "other_slot": "int", "p1_slot": "int",
    "p2_slot": "int", "skipped_gen": "boolean", "death_date": "date", "age_death": "int",
    "dead_dibao": "boolean", "ex_spouse": "boolean", "ex_married": "date", "ex_divorced": "date",
}


def _conform(df: DataFrame) -> DataFrame:
    present = set(df.columns)
    out = []
    for c, t in PEOPLE_COLUMNS.items():
        if c in present:
            out.append(f"CAST(`{c}` AS {t}) AS `{c}`")
        elif t == "boolean":
            out.append(f"false AS `{c}`")
        else:
            out.append(f"CAST(NULL AS {t}) AS `{c}`")
    return df.selectExpr(*out)


def build_people(pop: Population, path: str) -> DataFrame:
    """All background people with ID numbers, names and family links, written to ``path``."""
    seed = pop.seed
    pop.households().write.mode("overwrite").parquet(path + "_households")
    hh = pop.spark.read.parquet(path + "_households")
    df = None
    for f in (pop.family_members(hh), pop.collective_members(), pop.dead_people(hh), pop.moved_people(hh)):
        f = _conform(f)
        df = f if df is None else df.unionByName(f)
    # unique ID numbers: rank within (county, birth date, sex); odd sequence numbers are male
    df = add(df, {"_rank": "row_number() OVER (PARTITION BY county, birth_date, male ORDER BY pk) - 1"})
    off = RI(seed, "seq_off", 0, 40, "county", "birth_date")
    df = add(df, {"seq": f"cast(2 * (_rank + {off}) + CASE WHEN male THEN 1 ELSE 2 END as int)"}).drop("_rank")
    body = "concat(county, date_format(birth_date, 'yyyyMMdd'), lpad(cast(seq as string), 3, '0'))"
    df = add(df, {"_body": body})
    df = add(df, {"id": f"concat(_body, {ID_CHECK('_body')})"}).drop("_body")
    # names: children carry the father's surname
    df = add(df, {"_s_head": U(seed, "surname", "hh * 8"), "_s_own": U(seed, "surname", "pk"),
                  "_s_spouse": U(seed, "surname", "hh * 8 + spouse_slot"),
                  "_g1": U(seed, "name:g1", "pk"), "_g2": U(seed, "name:g2", "pk"), "_g3": U(seed, "name:g3", "pk"),
                  "_eth": U(seed, "eth", "CASE WHEN kind = 'family' THEN hh * 8 ELSE pk END")})
    sur_head = SURNAME("_s_head")
    sur_own = SURNAME("_s_own")
    sur_spouse = SURNAME("_s_spouse")
    paternal = f"CASE WHEN head_male OR spouse_slot < 0 THEN {sur_head} ELSE {sur_spouse} END"
    surname = CASE([("kind <> 'family'", sur_own), ("role = 'HEAD'", sur_head),
                    ("role IN ('CHILD', 'GRANDCHILD')", paternal),
                    ("role = 'PARENT' AND male", sur_head), ("role = 'SIBLING'", sur_head)], sur_own)
    fc_male = f"{U(seed, 'sex', 'hh * 8 + fc_slot')} < 0.515"
    p1_male = f"(p2_slot >= 0 OR {U(seed, 'sex', 'hh * 8 + p1_slot')} < 0.40)"
    father = CASE([("kind <> 'family'", "-1"),
                   ("role = 'CHILD'", "CASE WHEN head_male THEN 0 ELSE spouse_slot END"),
                   ("role = 'HEAD'", f"CASE WHEN p2_slot >= 0 THEN p1_slot WHEN p1_slot >= 0 AND {p1_male} THEN p1_slot ELSE -1 END"),
                   ("role = 'GRANDCHILD' AND NOT skipped_gen", f"CASE WHEN {fc_male} THEN fc_slot ELSE other_slot END")], "-1")
    mother = CASE([("kind <> 'family'", "-1"),
                   ("role = 'CHILD'", "CASE WHEN head_male THEN spouse_slot ELSE 0 END"),
                   ("role = 'HEAD'", f"CASE WHEN p2_slot >= 0 THEN p2_slot WHEN p1_slot >= 0 AND NOT {p1_male} THEN p1_slot ELSE -1 END"),
                   ("role = 'GRANDCHILD' AND NOT skipped_gen", f"CASE WHEN {fc_male} THEN other_slot ELSE fc_slot END")], "-1")
    df = add(df, {"name": NAME(f"({surname})", "male", "_g1", "_g2", "_g3"),
                  "ethnicity": PICK([e for e, _ in ETHNICITIES], [w for _, w in ETHNICITIES], "_eth"),
                  "father_slot": f"cast({father} as int)", "mother_slot": f"cast({mother} as int)"})
    # each household's ID numbers (one shuffle by household, then a stable order)
    df = df.drop("_s_head", "_s_own", "_s_spouse", "_g1", "_g2", "_g3", "_eth")
    df = df.repartition(pop.parts, "hh")
    # the IDs at the household's fixed slots (window aggregates, no lambdas)
    w = "OVER (PARTITION BY hh)"
    slots = {"_id_head": "0", "_id_sp": "spouse_slot", "_id_p1": "p1_slot", "_id_p2": "p2_slot",
             "_id_fc": "fc_slot", "_id_o": "other_slot"}
    df = add(df, {**{k: f"max(CASE WHEN slot >= 0 AND slot = {v} THEN id END) {w}" for k, v in slots.items()},
                  "head_name": f"max(CASE WHEN slot = 0 THEN name END) {w}"})

    def lookup(slot: str) -> str:
        return (f"CASE WHEN {slot} < 0 THEN NULL WHEN {slot} = 0 THEN _id_head WHEN {slot} = spouse_slot THEN _id_sp "
                f"WHEN {slot} = p1_slot THEN _id_p1 WHEN {slot} = p2_slot THEN _id_p2 WHEN {slot} = fc_slot THEN _id_fc "
                f"WHEN {slot} = other_slot THEN _id_o END")

    df = add(df, {"father_id": lookup("father_slot"), "mother_id": lookup("mother_slot"),
                  "head_id": "CASE WHEN kind <> 'collective' THEN _id_head END",
                  "spouse_id": "CASE WHEN kind = 'family' THEN _id_sp END",
                  "head_name": "CASE WHEN kind <> 'collective' THEN head_name END"})
    df = df.drop(*slots)
    df = df.sortWithinPartitions("hh", "pk")
    df.write.mode("overwrite").parquet(path)
    return pop.spark.read.parquet(path)
