"""Background rows of every source, derived from the people table without joins.

Each function returns the source's contract columns as strings (dates ``yyyy-MM-dd``,
months ``yyyy-MM``, amounts with 2 decimals) plus ``_rk``, a unique row key that the dirt
step hashes. The background is built so that it never fires a rule (RULES.md):

- programmes are decided per household: every member of a DIBAO/DIBAO_EDGE household is
  enrolled, TEKUN households are elderly people living alone, so "nobody covered" is a
  household property; "rich" attributes (public employment, CAR/TRUCK, controlling
  enterprise roles, provident fund, taxable income) go only to people in households with
  nobody covered, and spouses are registered only within one household (an ex-spouse who
  moved out is divorced);
- payments are exactly one per month of each enrollment, never after an enrollment ends
  or after a death month; the dead and the moved out hold no active enrollment;
- prisoners and people in custody are adults living alone who never had a programme and
  are nobody's parent; releases are more than 90 days before D (or after it);
- ongoing community correction only for people covered by DIBAO; other corrections ended;
- medical out-of-pocket: at most 40 claims of at most 480.00 per person (< 20000);
- at most one SENIOR/VOCATIONAL/COLLEGE student per uncovered household in the current
  academic year, tuition caps keep any household under 10000;
- every valid disability certificate of a DIBAO member comes with DISABLED_LIVING, every
  severe one (outside TEKUN) with DISABLED_CARE from its issue date; orphans are never
  disabled; dates of certificates are never after the bulk delivery;
- everyone aged 80 and over (living, NORMAL household row) holds ELDERLY_ALLOWANCE from the
  month of the 80th birthday, paid monthly like every programme;
- pensions of people in covered households are small (under 1000.00 a month, while tax
  income goes to uncovered households only), so no DIBAO family reaches its standard;
- an unemployment benefit in the last 3 months of D goes only to the covered, to members
  of a household whose head contributes every month, or to people whose own
  contributions resume inside those months (re-employed);
- rural monitoring rows of people not covered were all eliminated before the bulk
  delivery; a disaster in the last 90 days that collapsed a house or cost 30000.00 or more
  happens only to covered heads or to heads who received TEMP_AID after it.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame

from jobs.generate.common import CASE, LIT_DATE, PICK, RI, U, academic_year, month_from_index, month_index
from jobs.generate.population import OFF_DEAD, Population, add
from jobs.generate.profiles import Spread

SEV = "(dis_level <= 2 OR dis_type IN ('INTELLECTUAL', 'MENTAL'))"
PRISONS = ["云南省第一监狱", "云南省第二监狱", "云南省大理监狱", "云南省女子监狱", "云南省小龙潭监狱", "云南省第三监狱"]
FUNERAL_HOMES = ["大理市殡仪馆", "祥云县殡仪馆", "宾川县殡仪馆", "弥渡县殡仪馆", "巍山县殡仪馆", "鹤庆县殡仪馆"]
CAUSES = ["I21.9", "I63.9", "I64", "C34.9", "C22.0", "J44.9", "J18.9", "E11.9", "K74.6", "V89.2", "I10", "N18.9"]
HOSPITALS = ["州人民医院", "县人民医院", "县中医医院", "乡镇卫生院", "大理大学第一附属医院", "社区卫生服务中心", "村卫生室"]
EMPLOYERS = [("人民政府办公室", "GOV"), ("财政局", "GOV"), ("教育体育局", "GOV"), ("人民医院", "PUBLIC_INSTITUTION"),
             ("第一中学", "PUBLIC_INSTITUTION"), ("自来水公司", "SOE"), ("农村信用合作联社", "SOE"),
             ("公安局", "GOV"), ("疾病预防控制中心", "PUBLIC_INSTITUTION"), ("烟草公司", "SOE")]
PF_EMPLOYERS = ["大理啤酒有限公司", "云南大理药业股份有限公司", "大理州城市建设投资有限公司", "大理旅游集团有限责任公司",
                "中国移动大理分公司", "下关沱茶集团", "大理州人民医院", "祥云县教育体育局"]
SCHOOLS = {"PRESCHOOL": "幼儿园", "PRIMARY": "中心小学", "JUNIOR": "第一中学", "SENIOR": "第一中学",
           "VOCATIONAL": "职业高级中学", "COLLEGE": "大理大学"}
SI_EMPLOYERS = ["大理州人民医院", "大理大学", "大理啤酒有限公司", "下关沱茶（集团）股份有限公司", "云南大理药业股份有限公司",
                "红塔集团大理卷烟厂", "大理旅游集团有限责任公司", "大理州城市建设投资有限公司", "大理州交通运输投资集团",
                "洱源县邓川蝶泉乳业有限公司", "宾川县宏源果业有限公司", "鹤庆县新华银器工艺品有限公司", "剑川县木雕艺术有限公司",
                "祥云县财富工业园区管理委员会", "大理苍山饭店", "中国移动大理分公司", "大理供电局", "巍山县南诏食品有限公司",
                "弥渡县密祉花灯文化有限公司", "云龙县诺邓火腿有限公司", "大理海东开发建设有限公司", "漾濞县核桃产业有限公司"]
UB_TIERS = [1710, 1548, 1386]      # unemployment benefit a month (90% of Yunnan's minimum wage, by tier)
HAZARDS = [("EARTHQUAKE", 8), ("FLOOD", 24), ("LANDSLIDE", 22), ("FIRE", 16), ("DROUGHT", 14), ("ACCIDENT", 9), ("OTHER", 7)]
# earthquakes of Dali prefecture: an EARTHQUAKE record is dated on one of them (those before the delivery)
QUAKES = [dt.date(2013, 3, 3), dt.date(2013, 4, 17), dt.date(2016, 5, 18), dt.date(2017, 3, 27), dt.date(2021, 5, 21)]
WORDS = ["兴旺", "鑫源", "苍洱", "洱海", "金花", "宏达", "银桥", "白族", "三塔", "下关", "凤仪", "剑湖"]


def _date(expr: str) -> str:
    return f"date_format({expr}, 'yyyy-MM-dd')"


def _money(expr: str) -> str:
    return f"cast(cast({expr} as decimal(14,2)) as string)"


def _id_key(prefix: str, expr: str, width: int) -> str:
    return f"concat('{prefix}', lpad(cast({expr} as string), {width}, '0'))"


class Background:
    """The background rows of every source: one method per source, named after it (the
    generator calls the method of each source that has a profile in conf/generate/).

    ``people`` are the people the rows are about; ``spells`` the enrollment spells (of
    those people unless given), which enrollment and payments rows both derive from.
    """

    def __init__(self, pop: Population, people: DataFrame, spells: DataFrame | None = None):
        self.pop, self.seed, self.D, self.B1 = pop, pop.seed, pop.D, pop.B1
        self.st = pop.st
        self.people = people
        self.county_name = pop.cfg.geo.counties
        self._x = None
        self._spells = spells

    def spread(self, how: Spread, n: int) -> "Background":
        """The same background built from its input ``how.input`` (``people`` or ``spells``)
        in ``n`` partitions by ``how.key``, in a stable order (so a big source is written by
        n tasks into n files)."""
        if how.input == "people":
            return Background(self.pop, _spread(self.people, n, how.key))
        if how.input == "spells":
            return Background(self.pop, self.people, _spread(self.spells(), n, how.key))
        raise ValueError(f"unknown background input {how.input!r} (expected people or spells)")

    def u(self, salt: str, *cols: str) -> str:
        return U(self.seed, salt, *cols)

    def ri(self, salt: str, lo, hi, *cols: str) -> str:
        return RI(self.seed, salt, lo, hi, *cols)

    def county_name_sql(self, col: str = "county") -> str:
        return CASE([(f"{col} = '{c}'", f"'{n}'") for c, n in self.county_name.items()], "'大理州'")

    # ------------------------------------------------------------------ person flags
    def x(self) -> DataFrame:
        """People with the flags every source needs (prisoner, disability, programmes...)."""
        if self._x is not None:
            return self._x
        if "severe" in self.people.columns:   # materialised already
            self._x = self.people
            return self._x
        st, B1 = self.st, self.B1
        df = self.people
        loner = "kind = 'family' AND size = 1 AND cls = 'NONE' AND age BETWEEN 18 AND 60"
        u_pr = self.u("crime", "pk")
        df = add(df, {
            "alive": "kind IN ('family', 'collective')",
            "covered_hh": "cls IN ('DIBAO', 'DIBAO_EDGE', 'TEKUN')",
            "prisoner": f"{loner} AND {u_pr} < {st.prisoner_rate}",
            "custody": f"{loner} AND {u_pr} >= {st.prisoner_rate} AND {u_pr} < {st.prisoner_rate + st.custody_rate}",
            "orphan_prog": (f"CASE WHEN kind = 'family' AND role = 'GRANDCHILD' AND skipped_gen AND age < 18 THEN "
                            f"CASE WHEN {self.u('orph', 'pk')} < 0.02 THEN 'ORPHAN' "
                            f"WHEN {self.u('orph', 'pk')} < 0.07 THEN 'UNSUPPORTED_CHILD' END END"),
            "dis_level": PICK([1, 2, 3, 4], [10, 20, 30, 40], self.u("dis_level", "pk")),
            "dis_type": PICK(["PHYSICAL", "VISUAL", "HEARING", "SPEECH", "INTELLECTUAL", "MENTAL", "MULTIPLE"],
                             [45, 12, 15, 2, 8, 10, 8], self.u("dis_type", "pk")),
            "_u_dis": self.u("dis", "pk"),
            "rich_ok": ("kind IN ('family', 'collective') AND cls IN ('HIST', 'NONE') AND age BETWEEN 22 AND 60"),
        })
        age_factor = "CASE WHEN age < 15 THEN 0.35 WHEN age < 60 THEN 0.8 ELSE 2.2 END"
        days = (B1 - dt.date(2008, 1, 1)).days
        df = add(df, {
            "disabled": (f"kind = 'family' AND age >= 1 AND NOT prisoner AND NOT custody AND orphan_prog IS NULL"
                         f" AND _u_dis < {st.disability_rate} * {age_factor}"),
            "dis_issue": f"least({LIT_DATE(B1)}, greatest(date_add(birth_date, 60), date_add(DATE'2008-01-01', {self.ri('dis_issue', 0, days, 'pk')})))",
        })
        df = add(df, {"dis_revoked": f"disabled AND NOT {SEV} AND {self.u('dis_rev', 'pk')} < 0.04"})
        df = add(df, {"severe": f"disabled AND NOT dis_revoked AND {SEV}",
                      "dis_valid": "disabled AND NOT dis_revoked"}).drop("_u_dis")
        self._x = df
        return df

    # ------------------------------------------------------------------ horizontal
    def household(self) -> DataFrame:
        return self.people.selectExpr(
            "id AS person_id", "name", "CASE WHEN male THEN 'M' ELSE 'F' END AS gender",
            f"{_date('birth_date')} AS birth_date", "ethnicity", "county AS county_code",
            "township AS township_code", "household_id", "role AS relation_to_head",
            "father_id", "mother_id", "status", f"{_date('status_date')} AS status_date", "pk AS _rk")

    def deaths(self) -> DataFrame:
        dead = self.people.where("kind = 'dead'")
        return dead.selectExpr(
            f"concat('SW', county, lpad(cast(pk - {OFF_DEAD} as string), 9, '0')) AS report_id",
            "id AS person_id", "name", f"{_date('death_date')} AS death_date",
            f"{PICK(CAUSES, None, self.u('cause', 'pk'))} AS cause_code", "pk AS _rk")

    def funeral(self) -> DataFrame:
        dead = self.people.where(f"kind = 'dead' AND {self.u('cremated', 'pk')} < 0.9")
        return dead.selectExpr(
            f"concat('HZ', county, lpad(cast(pk - {OFF_DEAD} as string), 9, '0')) AS record_id",
            "id AS person_id", "name", f"{_date('death_date')} AS death_date",
            _date("date_add(death_date, " + self.ri("crem", 1, 3, "pk") + ")") + " AS cremation_date",
            f"{PICK(FUNERAL_HOMES, None, self.u('home', 'pk'))} AS funeral_home", "pk AS _rk")

    def prison(self) -> DataFrame:
        D = self.D
        df = self.x().where("prisoner")
        serving = f"{self.u('serving', 'pk')} < 0.4"
        adm_serving = f"date_sub({LIT_DATE(self.B1)}, {self.ri('adm1', 30, 8 * 365, 'pk')})"
        old_end = (D - dt.date(2008, 1, 1)).days - 3 * 365
        adm_old = f"date_add(DATE'2008-01-01', {self.ri('adm2', 0, old_end, 'pk')})"
        df = add(df, {"_serving": serving})
        df = add(df, {"_adm": f"CASE WHEN _serving THEN {adm_serving} ELSE {adm_old} END"})
        return df.selectExpr(
            _id_key("ZF", "pk", 12) + " AS record_id", "id AS person_id", "name",
            f"{_date('_adm')} AS admission_date",
            "CASE WHEN _serving THEN NULL ELSE " + _date("date_add(_adm, " + self.ri("stay", 180, 900, "pk") + ")") + " END AS release_date",
            f"{PICK(PRISONS, None, self.u('prison', 'pk'))} AS prison_name", "pk AS _rk")

    def corrections(self) -> DataFrame:
        D, B1 = self.D, self.B1
        df = self.x()
        community_now = f"alive AND cls = 'DIBAO' AND age BETWEEN 18 AND 65 AND {self.u('cc', 'pk')} < 0.004"
        ended = f"alive AND NOT prisoner AND NOT custody AND age BETWEEN 18 AND 70 AND {self.u('ce', 'pk')} < 0.002"
        old_days = (D - dt.date(2012, 1, 1)).days - 3 * 365
        recs = (
            f"(array("
            f"named_struct('j', 0, 'kind', CASE WHEN {self.u('ck', 'pk')} < 0.7 THEN 'DRUG_REHAB' ELSE 'DETENTION' END,"
            f" 's', date_sub({LIT_DATE(B1)}, {self.ri('cs0', 10, 700, 'pk')}), 'e', CAST(NULL AS DATE), 'ok', custody),"
            f"named_struct('j', 1, 'kind', 'COMMUNITY_CORRECTION', 's', date_sub({LIT_DATE(B1)}, {self.ri('cs1', 10, 1000, 'pk')}),"
            f" 'e', CAST(NULL AS DATE), 'ok', {community_now}),"
            f"named_struct('j', 2, 'kind', {PICK(['COMMUNITY_CORRECTION', 'DRUG_REHAB', 'DETENTION'], [60, 25, 15], self.u('ck2', 'pk'))},"
            f" 's', date_add(DATE'2012-01-01', {self.ri('cs2', 0, old_days, 'pk')}), 'e', CAST(NULL AS DATE), 'ok', {ended})"
            f"))")
        df = df.selectExpr("*", f"explode({recs}) AS r").where("r.ok")
        end = f"CASE WHEN r.j = 2 THEN date_add(r.s, {self.ri('ce2', 30, 700, 'pk')}) END"
        return df.selectExpr(
            _id_key("SJ", "pk * 4 + r.j", 14) + " AS record_id", "id AS person_id", "name", "r.kind AS kind",
            f"{_date('r.s')} AS start_date", f"{_date(end)} AS end_date", "pk * 4 + r.j AS _rk")

    def public_employees(self) -> DataFrame:
        df = self.x().where(f"rich_ok AND kind = 'family' AND NOT prisoner AND NOT custody AND {self.u('pe', 'pk')} < {self.st.public_employee_rate}")
        start = f"greatest(DATE'1995-01-01', date_add(add_months(birth_date, 264), {self.ri('pe_s', 0, 2000, 'pk')}))"
        ended = f"{self.u('pe_end', 'pk')} < 0.1 AND {start} < DATE'{(self.D - dt.timedelta(days=800)).isoformat()}'"
        emp = PICK(list(range(len(EMPLOYERS))), None, self.u("pe_emp", "pk"))
        df = add(df, {"_s": start, "_e": f"CASE WHEN {ended} THEN date_sub({LIT_DATE(self.D)}, {self.ri('pe_e', 400, 700, 'pk')}) END", "_emp": emp})
        names = ",".join(e for e, _ in EMPLOYERS)
        types = ",".join(t for _, t in EMPLOYERS)
        return df.selectExpr(
            _id_key("GZ", "pk", 12) + " AS record_id", "id AS person_id", "name",
            f"concat({self.county_name_sql()}, element_at(split('{names}', ','), _emp + 1)) AS employer",
            f"element_at(split('{types}', ','), _emp + 1) AS employer_type",
            f"{_date('_s')} AS start_date", f"{_date('_e')} AS end_date", "pk AS _rk")

    def provident_fund(self) -> DataFrame:
        mD = month_index(self.D)
        m_b1 = month_index(self.B1)
        df = self.x().where(f"rich_ok AND NOT prisoner AND NOT custody AND {self.u('pf', 'pk')} < {self.st.provident_rate}")
        df = add(df, {"_base": f"3000 + {self.ri('pf_base', 0, 90, 'pk')} * 100", "_first": f"{mD - 23} + {self.ri('pf_first', 0, 6, 'pk')}"})
        df = df.selectExpr("*", f"explode(sequence(_first, {m_b1})) AS m")
        month = "date_format(add_months(DATE'2000-01-01', m), 'yyyy-MM')"
        return df.selectExpr(
            _id_key("GJ", "pk * 512 + (m - 300)", 16) + " AS record_id", "id AS person_id",
            f"{PICK(PF_EMPLOYERS, None, self.u('pf_emp', 'pk'))} AS employer",
            f"{month} AS contribution_month", f"{_money('_base')} AS base_salary",
            f"{_money('round(_base * 0.24, 2)')} AS amount", "pk * 512 + (m - 300) AS _rk")

    def tax(self) -> DataFrame:
        mD = month_index(self.D)
        m_b1 = month_index(self.B1)
        df = self.x().where(f"rich_ok AND NOT prisoner AND NOT custody AND {self.u('tx', 'pk')} < {self.st.taxpayer_rate}")
        df = df.selectExpr("*", f"explode(sequence({mD - 23}, {m_b1})) AS m")
        income = f"(6000 + {self.ri('tx_inc', 0, 2400, 'pk', 'm')} * 10)"
        return df.selectExpr(
            _id_key("SS", "pk * 512 + (m - 300)", 16) + " AS record_id", "id AS person_id",
            "date_format(add_months(DATE'2000-01-01', m), 'yyyy-MM') AS tax_month",
            f"{_money(income)} AS income", f"{_money(f'round(({income} - 5000) * 0.03, 2)')} AS tax_paid",
            "pk * 512 + (m - 300) AS _rk")

    def medical(self) -> DataFrame:
        mx = self.st.medical_max_claims
        df = self.people.where("kind IN ('family', 'collective')")
        df = add(df, {"_n": f"cast(floor(pow({self.u('med_n', 'pk')}, CASE WHEN age >= 60 THEN 1.4 ELSE 2.2 END) * {mx + 1}) as int)"})
        df = df.where("_n > 0").selectExpr("pk", "id", "county", "_n", "explode(sequence(1, _n)) AS i")
        span = (self.B1 - self.D).days + 1095
        key = "pk * 64 + i"
        df = add(df, {"_uh": self.u("hosp", key)})
        oop = f"({self.ri('med_oop', 500, 48000, key)} / 100.0)"
        share = f"(0.25 + {self.u('med_share', key)} * 0.45)"
        return df.selectExpr(
            _id_key("YB", key, 17) + " AS settlement_id", "id AS person_id",
            _date(f"date_add({LIT_DATE(self.D - dt.timedelta(days=1095))}, " + self.ri("med_d", 0, span, key) + ")") + " AS settle_date",
            f"concat({self.county_name_sql()}, {PICK(HOSPITALS, None, '_uh')}) AS hospital",
            f"{_money(f'{oop} / {share}')} AS total_cost",
            f"{_money(f'cast({oop} / {share} as decimal(14,2)) - cast({oop} as decimal(14,2))')} AS fund_paid",
            f"{_money(oop)} AS out_of_pocket", f"{key} AS _rk")

    def disability(self) -> DataFrame:
        df = self.x().where("disabled")
        status = f"CASE WHEN dis_revoked THEN 'REVOKED' WHEN {self.u('dis_null', 'pk')} < 0.2 THEN NULL ELSE 'VALID' END"
        return df.selectExpr(
            _id_key("CJ", "pk", 12) + " AS cert_no", "id AS person_id", "name",
            "dis_type AS disability_type", "cast(dis_level as string) AS level",
            f"{_date('dis_issue')} AS issue_date", f"{status} AS status", "pk AS _rk")

    def education(self) -> DataFrame:
        y0 = int(academic_year(self.D)[:4])
        df = self.x().where("alive AND age BETWEEN 3 AND 24")
        df = df.selectExpr("*", "explode(sequence(0, 2)) AS j")
        df = add(df, {"_a": "age - j"})
        stage = CASE([("_a BETWEEN 3 AND 5", "'PRESCHOOL'"), ("_a BETWEEN 6 AND 11", "'PRIMARY'"),
                      ("_a BETWEEN 12 AND 14", "'JUNIOR'"),
                      ("_a BETWEEN 15 AND 17", f"CASE WHEN {self.u('voc', 'pk')} < 0.3 THEN 'VOCATIONAL' ELSE 'SENIOR' END"),
                      ("_a BETWEEN 18 AND 21", "'COLLEGE'")], "NULL")
        df = add(df, {"_stage": stage})
        part = CASE([("_stage = 'PRESCHOOL'", "0.85"), ("_stage IN ('PRIMARY', 'JUNIOR')", "0.99"),
                     ("_stage IN ('SENIOR', 'VOCATIONAL')", "0.8")], "0.45")
        restricted = "(kind = 'family' AND NOT covered_hh AND j = 0 AND _stage IN ('SENIOR', 'VOCATIONAL', 'COLLEGE') AND slot <> edu_slot)"
        df = df.where(f"_stage IS NOT NULL AND {self.u('edu_in', 'pk')} < {part} AND NOT {restricted}")
        tuition = CASE([("_stage = 'PRESCHOOL'", self.ri("tu_p", 300, 800, "pk", "j")),
                        ("_stage = 'SENIOR'", self.ri("tu_s", 800, 1800, "pk", "j")),
                        ("_stage = 'VOCATIONAL'", self.ri("tu_v", 0, 1800, "pk", "j")),
                        ("_stage = 'COLLEGE'", self.ri("tu_c", 3500, 5500, "pk", "j"))], "NULL")
        school_map = CASE([(f"_stage = '{k}'", f"'{v}'") for k, v in SCHOOLS.items()], "''")
        return df.selectExpr(
            _id_key("XJ", "pk * 4 + j", 14) + " AS record_id", "id AS person_id", "name",
            f"CASE WHEN _stage = 'COLLEGE' THEN {school_map} ELSE concat({self.county_name_sql()}, {school_map}) END AS school",
            "_stage AS stage", f"concat(cast({y0} - j as string), '-', cast({y0 + 1} - j as string)) AS academic_year",
            f"{_money(tuition)} AS tuition", "pk * 4 + j AS _rk")

    def vehicles(self) -> DataFrame:
        df = self.x().where("kind = 'family' AND role = 'HEAD' AND status = 'NORMAL'")
        rich = "NOT covered_hh"
        k = "pk * 8 + v.j"
        reg_days = (self.B1 - dt.date(2005, 1, 1)).days
        vs = (f"(array("
              f"named_struct('j', 0, 't', 'CAR', 'lo', 40000, 'hi', 300000, 'ok', {rich} AND {self.u('car', 'pk')} < 0.35),"
              f"named_struct('j', 1, 't', 'TRUCK', 'lo', 60000, 'hi', 250000, 'ok', {rich} AND {self.u('truck', 'pk')} < 0.05),"
              f"named_struct('j', 2, 't', 'MOTORCYCLE', 'lo', 3000, 'hi', 12000, 'ok', {self.u('moto', 'pk')} < 0.35),"
              f"named_struct('j', 3, 't', 'TRACTOR', 'lo', 5000, 'hi', 25000, 'ok', {self.u('tractor', 'pk')} < 0.05),"
              f"named_struct('j', 4, 't', 'DISABLED_MOBILITY', 'lo', 3000, 'hi', 9000, 'ok', disabled AND {self.u('dm', 'pk')} < 0.2)"
              f"))")
        df = df.selectExpr("*", f"explode({vs}) AS v").where("v.ok")
        reg = f"date_add(DATE'2005-01-01', {self.ri('v_reg', 0, reg_days, k)})"
        dereg = f"CASE WHEN {self.u('v_dereg', k)} < 0.08 AND {reg} < DATE'{(self.D - dt.timedelta(days=400)).isoformat()}' THEN date_sub({LIT_DATE(self.D)}, {self.ri('v_de', 30, 360, k)}) END"
        return df.selectExpr(
            f"concat('LV', upper(substring(sha2(cast({k} + {self.seed} * 1000003 as string), 256), 1, 15))) AS record_id",
            "id AS person_id", "v.t AS vehicle_type",
            _money("(v.lo + " + self.ri("v_price", 0, 1000, k) + " * (v.hi - v.lo) / 1000)") + " AS purchase_price",
            f"{_date(reg)} AS registration_date", f"{_date(dereg)} AS deregistration_date", f"{k} AS _rk")

    def business(self) -> DataFrame:
        df = self.x().where("alive AND age BETWEEN 22 AND 65 AND NOT prisoner AND NOT custody")
        rich = "NOT covered_hh"
        k = "pk * 4 + b.j"
        bs = (f"(array("
              f"named_struct('j', 0, 't', 'ENTERPRISE', 'r', 'LEGAL_REP', 'sh', CAST(NULL AS DOUBLE), 'ok', {rich} AND {self.u('b0', 'pk')} < 0.012),"
              f"named_struct('j', 1, 't', 'ENTERPRISE', 'r', 'SHAREHOLDER', 'sh', 5.0 + {self.u('b1s', 'pk')} * 95.0, 'ok', {rich} AND {self.u('b1', 'pk')} < 0.02),"
              f"named_struct('j', 2, 't', 'INDIVIDUAL', 'r', 'LEGAL_REP', 'sh', CAST(NULL AS DOUBLE), 'ok', {self.u('b2', 'pk')} < 0.04),"
              f"named_struct('j', 3, 't', 'ENTERPRISE', 'r', 'SHAREHOLDER', 'sh', 0.5 + {self.u('b3s', 'pk')} * 19.0, 'ok', covered_hh AND {self.u('b3', 'pk')} < 0.01)"
              f"))")
        df = df.selectExpr("*", f"explode({bs}) AS b").where("b.ok")
        reg_days = (self.B1 - dt.date(2000, 1, 1)).days
        reg = f"date_add(DATE'2000-01-01', {self.ri('b_reg', 0, reg_days, k)})"
        dereg = f"CASE WHEN {self.u('b_dereg', k)} < 0.1 AND {reg} < DATE'{(self.D - dt.timedelta(days=400)).isoformat()}' THEN date_sub({LIT_DATE(self.D)}, {self.ri('b_de', 30, 360, k)}) END"
        suffix = "CASE WHEN b.t = 'INDIVIDUAL' THEN '便利店' WHEN b.j = 3 THEN '种植专业合作社' ELSE '商贸有限公司' END"
        code = f"concat(CASE WHEN b.t = 'INDIVIDUAL' THEN '92' ELSE '91' END, county, upper(substring(sha2(cast({k} + {self.seed} * 7919 as string), 256), 1, 10)))"
        return df.selectExpr(
            _id_key("SC", k, 14) + " AS record_id", "id AS person_id", f"{code} AS business_id",
            f"concat({self.county_name_sql()}, {PICK(WORDS, None, self.u('b_w', k))}, {suffix}) AS business_name",
            "b.t AS business_type", "b.r AS role", f"{_money('round(b.sh, 2)')} AS share_pct",
            f"{_date(reg)} AS reg_date", f"{_date(dereg)} AS dereg_date", f"{k} AS _rk")

    def social_insurance(self) -> DataFrame:
        """Contributions, pensions and unemployment benefits: one row per person, item and
        month over the 36 months up to the bulk delivery.

        Heads of two or more who contribute (``_steady``) do so every month, so the members
        of their household may draw a benefit at any time; anyone else's benefit in the last
        3 months of D is the covered's, or is followed by contributions inside them.
        Pensions start at 60 (men) or 55 (women), stop with the death month and are not paid
        in prison or custody; in covered households they are under 1000.00 a month.
        """
        st = self.st
        m0, m_b1, m_d = month_index(self.D) - 35, month_index(self.B1), month_index(self.D)
        born = "((year(birth_date) - 2000) * 12 + month(birth_date) - 1)"
        retire = "CASE WHEN male THEN 60 ELSE 55 END"
        df = self.x().where("kind IN ('family', 'collective', 'dead')")
        df = add(df, {
            "_earner_hh": (f"kind = 'family' AND size >= 2 AND head_age BETWEEN 22 AND 59 AND cls <> 'TEKUN'"
                           f" AND {self.u('si_head', 'hh')} < {st.head_contributor_rate}"),
            "_work": "alive AND age BETWEEN 18 AND 59 AND NOT prisoner AND NOT custody",
            "_adult": f"{born} + 216",
        })
        df = add(df, {"_steady": "_earner_hh AND role = 'HEAD'"})
        df = add(df, {"_pension": (
            f"NOT _steady AND NOT prisoner AND NOT custody AND cls <> 'TEKUN' AND kind <> 'collective'"
            f" AND {self.u('si_p', 'pk')} < {st.pensioner_rate}"
            f" AND CASE WHEN kind = 'dead' THEN age_death >= {retire} AND death_date >= {LIT_DATE(month_from_index(m0))}"
            f" ELSE age >= {retire} END")})
        df = add(df, {"_unemp": (f"_work AND NOT _pension AND NOT _steady AND age >= 20"
                                 f" AND {self.u('si_u', 'pk')} < {st.unemployed_rate}")})
        df = add(df, {
            "_contrib": f"_steady OR (_work AND NOT _pension AND NOT _unemp AND {self.u('si_c', 'pk')} < {st.contributor_rate})",
            "_c_a": (f"greatest(_adult, CASE WHEN _steady THEN {m0} WHEN {self.u('si_cf', 'pk')} < 0.08"
                     f" THEN {m0} + {self.ri('si_cfm', 1, 34, 'pk')} ELSE {m0} END)"),
            "_c_b": (f"CASE WHEN _steady THEN {m_b1} WHEN {self.u('si_cl', 'pk')} < 0.06"
                     f" THEN {m_b1} - {self.ri('si_clm', 1, 30, 'pk')} ELSE {m_b1} END"),
            "_e": self.ri("si_ue", m0 + 2, m_b1, "pk"),
            "_n": self.ri("si_un", 3, 12, "pk"),
            "_protected": "covered_hh OR (kind = 'family' AND role <> 'HEAD' AND _earner_hh)",
            "_base": f"4000 + {self.ri('si_base', 0, 110, 'pk')} * 100",
            "_pbase": (f"CASE WHEN covered_hh THEN 500 + {self.ri('si_pl', 0, 35, 'pk')} * 10"
                       f" ELSE 1600 + {self.ri('si_ph', 0, 300, 'pk')} * 10 END"),
            "_ub": PICK(UB_TIERS, [3, 5, 4], self.u("si_ub", "pk")),
        })
        # a recent benefit of someone unprotected ends before the delivery month; work resumes after it
        df = add(df, {"_forced": f"_e >= {m_d - 2} AND NOT _protected", "_ub_s": f"greatest({m0}, _e - _n + 1)"})
        df = add(df, {"_ub_e": f"CASE WHEN _forced AND _e >= {m_b1} THEN {m_b1 - 1} ELSE _e END"})
        df = add(df, {"_resume": (f"CASE WHEN _forced THEN _ub_e + 1 WHEN {self.u('si_r', 'pk')} < 0.5"
                                  f" THEN _ub_e + 1 + {self.ri('si_rm', 0, 3, 'pk')} END")})

        def span(j: int, item: str, first: str, last: str, ok: str) -> str:
            return (f"named_struct('j', {j}, 'item', '{item}', 'a', cast({first} as int), 'b', cast({last} as int),"
                    f" 'ok', {ok})")

        death_m = "(year(death_date) - 2000) * 12 + month(death_date) - 1"
        spans = ",".join([
            span(0, "EMPLOYEE_CONTRIBUTION", "_c_a", "_c_b", "_contrib"),
            span(1, "EMPLOYEE_CONTRIBUTION", f"greatest({m0}, _adult)", "_ub_s - 1",
                 f"_unemp AND {self.u('si_pre', 'pk')} < 0.85"),
            span(2, "UNEMPLOYMENT_BENEFIT", "_ub_s", "_ub_e", "_unemp"),
            span(3, "EMPLOYEE_CONTRIBUTION", "_resume", str(m_b1), "_unemp AND _resume IS NOT NULL"),
            span(4, "PENSION", f"greatest({m0}, {born} + 12 * {retire})",
                 f"CASE WHEN kind = 'dead' THEN {death_m} ELSE {m_b1} END", "_pension"),
        ])
        df = df.selectExpr("*", f"explode(array({spans})) AS s").where("s.ok AND s.a <= s.b")
        df = df.selectExpr("*", "explode(sequence(s.a, s.b)) AS m")
        key = f"(pk * 512 + s.j * 64 + (m - {m0}))"
        amount = CASE([("s.item = 'EMPLOYEE_CONTRIBUTION'", "round(_base * 0.08, 2)"),
                       ("s.item = 'UNEMPLOYMENT_BENEFIT'", "_ub")],
                      f"round(_pbase * (1 + 0.025 * (floor(m / 12) - {m0 // 12})), 2)")
        employer = CASE([("s.j = 3", PICK(SI_EMPLOYERS, None, self.u("si_emp2", "pk"))),
                         ("s.j < 3", PICK(SI_EMPLOYERS, None, self.u("si_emp", "pk")))], "NULL")
        return df.selectExpr(
            _id_key("SB", key, 16) + " AS record_id", "id AS person_id", "name", "s.item AS item",
            "date_format(add_months(DATE'2000-01-01', m), 'yyyy-MM') AS month", f"{_money(amount)} AS amount",
            f"{employer} AS employer", "county AS county_code", f"{key} AS _rk")

    def rural_monitoring(self) -> DataFrame:
        """Whole households monitored against falling back into poverty since mid-2020; the
        monitoring of an uncovered household was eliminated before the bulk delivery."""
        st, B1 = self.st, self.B1
        rate = CASE([("covered_hh", str(st.monitored_covered_rate)), ("cls = 'HIST'", str(st.monitored_hist_rate))],
                    str(st.monitored_other_rate))
        first = dt.date(2020, 6, 1)
        days = max(0, (B1 - dt.timedelta(days=120) - first).days)
        df = self.x().where(f"kind = 'family' AND {self.u('rm', 'hh')} < {rate}")
        df = add(df, {"_ident": f"date_add({LIT_DATE(first)}, {self.ri('rm_id', 0, days, 'hh')})",
                      "_ongoing": f"covered_hh AND {self.u('rm_on', 'hh')} < 0.65"})
        elim = (f"CASE WHEN _ongoing THEN CAST(NULL AS DATE) ELSE least(date_add(_ident, {self.ri('rm_el', 90, 900, 'hh')}),"
                f" date_sub({LIT_DATE(B1)}, {self.ri('rm_el2', 0, 20, 'hh')})) END")
        df = add(df, {"_elim": elim}).where("birth_date <= _ident AND (_elim IS NULL OR _elim > _ident)")
        u = self.u("rm_type", "hh")
        mtype = CASE([("cls = 'NONE'", PICK(["MARGINAL", "SUDDEN_HARDSHIP"], [60, 40], u))],
                     PICK(["UNSTABLE", "MARGINAL", "SUDDEN_HARDSHIP"], [55, 30, 15], u))
        return df.selectExpr(
            _id_key("JC", "pk", 12) + " AS monitor_id", "id AS person_id", "name", f"{mtype} AS monitor_type",
            f"{_date('_ident')} AS identified_date", f"{_date('_elim')} AS eliminated_date",
            "county AS county_code", "township AS township_code", "pk AS _rk")

    def with_disasters(self, df: DataFrame) -> DataFrame:
        """``df`` (with the flags of :meth:`x`) with its household heads' disaster records:
        ``_dz<j>`` (there is a j-th record, j = 0, 1), its hazard ``_dzh<j>`` and date
        ``_dzd<j>`` (an EARTHQUAKE on one of Dali's earthquakes), and ``_relief``: the head of
        an uncovered household (not covered in the past either), neither in prison nor in
        custody, whose first record falls in the last 90 days of D and who received TEMP_AID
        after it (:meth:`enrollment_spells`)."""
        st, B1 = self.st, self.B1
        span = max(0, (B1 - dt.date(2014, 1, 1)).days)
        quakes = [q.isoformat() for q in QUAKES if q <= B1]
        cols, dates = {}, {}
        for j, rate in ((0, st.disaster_rate), (1, st.disaster_repeat_rate)):
            key = f"pk * 2 + {j}"
            cols[f"_dz{j}"] = f"kind = 'family' AND role = 'HEAD' AND {self.u('dz', key)} < {rate}"
            cols[f"_dzh{j}"] = PICK([h for h, _ in HAZARDS], [w for _, w in HAZARDS], self.u("dz_h", key))
            recent_first = f"date_sub({LIT_DATE(B1)}, cast(floor(pow({self.u('dz_d', key)}, 1.6) * {span}) as int))"
            dates[f"_dzd{j}"] = (recent_first if not quakes else
                                 f"CASE WHEN _dzh{j} = 'EARTHQUAKE' THEN to_date({PICK(quakes, None, self.u('dz_q', key))})"
                                 f" ELSE {recent_first} END")
        df = add(add(df, cols), dates)
        since = LIT_DATE(self.D - dt.timedelta(days=90))
        relief = (f"_dz0 AND _dzd0 > {since} AND cls = 'NONE' AND NOT prisoner AND NOT custody"
                  f" AND {self.u('dz_relief', 'pk')} < {st.disaster_relief_rate}")
        return add(df, {"_relief": relief})

    def disasters(self) -> DataFrame:
        """Household heads hit by a disaster since 2014 (recent years more often). In the last
        90 days of D, a collapsed house or a loss of 30000.00 or more only for covered heads
        and for those who received TEMP_AID; droughts damage crops, not houses."""
        since = LIT_DATE(self.D - dt.timedelta(days=90))
        df = self.with_disasters(self.x().where("kind = 'family' AND role = 'HEAD'"))
        recs = ("array(named_struct('j', 0, 'h', _dzh0, 'd', _dzd0, 'ok', _dz0, 'relief', _relief),"
                " named_struct('j', 1, 'h', _dzh1, 'd', _dzd1, 'ok', _dz1, 'relief', false))")
        df = df.selectExpr("*", f"explode({recs}) AS r").where("r.ok")
        key = "(pk * 2 + r.j)"
        df = add(df, {"_risky": f"r.d > {since} AND NOT covered_hh AND NOT r.relief",
                      "_ud": self.u("dz_dmg", key), "_ul": self.u("dz_loss", key), "_un": self.u("dz_null", key)})
        damage = CASE([("r.h = 'DROUGHT'", "'NONE'"),
                       ("r.relief", "CASE WHEN _ud < 0.6 THEN 'COLLAPSED' ELSE 'DAMAGED' END"),
                       ("_risky", "CASE WHEN _ud < 0.55 THEN 'NONE' ELSE 'DAMAGED' END")],
                      PICK(["NONE", "DAMAGED", "COLLAPSED"], [50, 38, 12], "_ud"))
        df = add(df, {"_damage": damage})
        lo_hi = CASE([("r.h = 'DROUGHT'", "array(500, 20000)"), ("_damage = 'NONE'", "array(200, 8000)"),
                      ("_damage = 'COLLAPSED'", "array(30000, 200000)"), ("r.relief", "array(30000, 80000)"),
                      ("_risky", "array(2000, 28000)")], "array(2000, 60000)")
        df = add(df, {"_lh": lo_hi})
        loss = ("CASE WHEN NOT r.relief AND _un < 0.08 THEN NULL"
                " ELSE (_lh[0] * 100 + floor(_ul * (_lh[1] - _lh[0]) * 100)) / 100 END")
        return df.selectExpr(
            _id_key("ZH", key, 14) + " AS record_id", "id AS person_id", "name", f"{_date('r.d')} AS event_date",
            "r.h AS hazard", "_damage AS house_damage", f"{_money(loss)} AS direct_loss", "county AS county_code",
            f"{key} AS _rk")

    # ------------------------------------------------------------------ backflow
    def spells(self) -> DataFrame:
        """The enrollment spells (built once per background)."""
        if self._spells is None:
            self._spells = self.enrollment_spells()
        return self._spells

    def enrollment_spells(self) -> DataFrame:
        """One row per enrollment with typed dates (the payments job explodes it)."""
        B1 = self.B1
        df = self.with_disasters(self.x().where("kind IN ('family', 'dead')"))
        b1 = LIT_DATE(B1)
        # from the month of the 80th birthday (applied for in advance): active on D for everyone 80 or over
        elderly_start = "greatest(DATE'2012-01-01', trunc(add_months(birth_date, 960), 'MM'))"
        relief_start = f"least(date_add(_dzd0, {self.ri('relief_s', 3, 20, 'pk')}), {b1})"
        dead = "kind = 'dead'"
        live = "kind = 'family'"
        mt_amount = CASE([("cls = 'TEKUN'", f"900 + {self.ri('a_tk', 0, 300, 'pk')}"),
                          ("cls = 'DIBAO_EDGE'", f"150 + {self.ri('a_de', 0, 100, 'pk')}")],
                         f"450 + {self.ri('a_db', 0, 350, 'pk')}")
        temp_m = f"add_months(DATE'2010-01-01', {self.ri('temp_m', 0, month_index(B1) - month_index(dt.date(2010, 1, 1)) - 2, 'pk')})"
        dd_hi = "greatest(0, cast(months_between(death_date, DATE'2007-01-01') as int) - 2)"
        dead_start = "add_months(DATE'2007-01-01', " + self.ri("dd_s", 0, dd_hi, "pk") + ")"
        nul = "CAST(NULL AS DATE)"

        def spell(k, program, start, end, amount, ok):
            return (f"named_struct('k', {k}, 'program', {program}, 's', {start}, 'e', {end}, "
                    f"'amt', cast({amount} as decimal(14,2)), 'ok', {ok})")

        spells = ",".join([
            spell(0, "cls", "greatest(mt_start, birth_date)", nul, mt_amount, f"{live} AND covered_hh"),
            spell(1, "'DIBAO_EDGE'", "edge_prev_start", "date_sub(mt_start, 1)", f"150 + {self.ri('a_dp', 0, 100, 'pk')}", f"{live} AND edge_prev AND birth_date <= edge_prev_start"),
            spell(2, "'DIBAO'", "h_start", "h_end", f"300 + {self.ri('a_h', 0, 300, 'pk')}", f"{live} AND cls = 'HIST' AND birth_date <= h_start"),
            spell(3, "'ELDERLY_ALLOWANCE'", elderly_start, f"CASE WHEN {dead} THEN death_date END",
                  "CASE WHEN age >= 90 THEN 100 ELSE 50 END",
                  f"({live} AND age >= 80) OR ({dead} AND age_death >= 80 AND {elderly_start} <= death_date)"),
            spell(4, "'DISABLED_LIVING'", "greatest(dis_issue, mt_start, DATE'2016-01-01')", nul, "80", f"{live} AND dis_valid AND cls = 'DIBAO'"),
            spell(5, "'DISABLED_CARE'", "greatest(dis_issue, DATE'2016-01-01')", nul, "90", f"{live} AND severe AND cls <> 'TEKUN'"),
            spell(6, "'TEMP_AID'", temp_m, f"last_day({temp_m})", f"500 + {self.ri('a_t', 0, 25, 'pk')} * 100",
                  f"{live} AND role = 'HEAD' AND cls IN ('DIBAO', 'DIBAO_EDGE', 'HIST') AND {self.u('temp', 'pk')} < 0.3"),
            spell(7, "orphan_prog", "greatest(DATE'2012-01-01', trunc(add_months(birth_date, 12), 'MM'))", nul,
                  f"1200 + {self.ri('a_o', 0, 300, 'pk')}", f"{live} AND orphan_prog IS NOT NULL"),
            spell(8, "'DIBAO'", dead_start, "death_date", f"300 + {self.ri('a_dd', 0, 300, 'pk')}",
                  f"{dead} AND dead_dibao AND {dead_start} < death_date"),
            spell(9, "'TEMP_AID'", relief_start, f"date_add({relief_start}, 180)",
                  f"1000 + {self.ri('a_r', 0, 20, 'pk')} * 100", f"{live} AND _relief"),
        ])
        df = df.selectExpr("pk", "id", "name", "county", "township", "household_id", f"explode(array({spells})) AS s").where("s.ok")
        return df.selectExpr("pk * 16 + s.k AS ek", "pk", "id", "name", "county", "township", "household_id",
                             "s.program AS program", "s.s AS start_date", "s.e AS end_date", "s.amt AS monthly_amount")

    def enrollment(self) -> DataFrame:
        return self.spells().selectExpr(
            _id_key("JZ", "ek", 14) + " AS enrollment_id", "id AS person_id", "name", "program",
            "county AS county_code", "township AS township_code", "household_id",
            f"{_date('start_date')} AS start_date", f"{_date('end_date')} AS end_date",
            "cast(monthly_amount as string) AS monthly_amount", "ek AS _rk")

    def payments(self) -> DataFrame:
        """Typed: amount decimal, paid_date date (written as native parquet)."""
        b1 = LIT_DATE(self.B1)
        df = self.spells().selectExpr("*", f"months_between(trunc(least(coalesce(end_date, {b1}), {b1}), 'MM'), trunc(start_date, 'MM')) AS _n")
        df = df.where("_n >= 0").selectExpr("*", "explode(sequence(0, cast(_n as int))) AS i")
        df = add(df, {"_m": "add_months(trunc(start_date, 'MM'), i)"})
        key = "(ek * 400 + (year(_m) - 2000) * 12 + month(_m))"
        return df.selectExpr(
            _id_key("FF", key, 18) + " AS payment_id", "id AS person_id", "name", "program",
            "county AS county_code", "date_format(_m, 'yyyy-MM') AS pay_month",
            "monthly_amount AS amount", f"least(date_add(_m, 9), {b1}) AS paid_date", f"{key} AS _rk")

    def marriage(self) -> DataFrame:
        B1 = LIT_DATE(self.B1)
        df = self.people.where("role = 'SPOUSE' AND ((kind = 'family' AND head_id IS NOT NULL) OR (kind = 'moved' AND ex_spouse))")
        head_birth = "to_date(substring(head_id, 7, 8), 'yyyyMMdd')"
        reg = f"date_add(add_months({head_birth}, 12 * (23 + {self.ri('mar_y', 0, 6, 'pk')})), {self.ri('mar_d', 0, 364, 'pk')})"
        recs = (f"(array("
                f"named_struct('j', 0, 'kind', 'MARRIAGE', 'd', {reg}, 'ok', kind = 'family'),"
                f"named_struct('j', 0, 'kind', 'MARRIAGE', 'd', ex_married, 'ok', kind = 'moved'),"
                f"named_struct('j', 1, 'kind', 'DIVORCE', 'd', ex_divorced, 'ok', kind = 'moved')"
                f"))")
        df = df.selectExpr("*", f"explode({recs}) AS r").where(f"r.ok AND r.d >= DATE'1990-01-01' AND r.d <= {B1}")
        # the ex-spouse's marriage record is kept only with its divorce
        df = df.where("kind = 'family' OR ex_divorced <= " + B1 + " AND ex_married >= DATE'1990-01-01'")
        head_is_a = "NOT male"
        return df.selectExpr(
            _id_key("HY", "pk * 2 + r.j", 14) + " AS registration_id",
            f"CASE WHEN {head_is_a} THEN head_id ELSE id END AS person_id_a",
            f"CASE WHEN {head_is_a} THEN head_name ELSE name END AS name_a",
            f"CASE WHEN {head_is_a} THEN id ELSE head_id END AS person_id_b",
            f"CASE WHEN {head_is_a} THEN name ELSE head_name END AS name_b",
            "r.kind AS kind", f"{_date('r.d')} AS reg_date", "county AS county_code", "pk * 2 + r.j AS _rk")


def _spread(df: DataFrame, n: int, key: str) -> DataFrame:
    """n partitions in a stable order (so a big source is written by n tasks into n files)."""
    if n <= 1:
        return df
    return df.repartition(n, key).sortWithinPartitions(key)
