"""PROACTIVE rules: MEDICAL_BURDEN, NEW_SEVERE_DISABILITY, DISABLED_WITHOUT_LIVING_SUBSIDY,
EDUCATION_BURDEN, RELEASED_PRISONER, COMMUNITY_CORRECTION, CHILD_UNSUPPORTED.

D = 2026-10-15. One detect() call covers every case (one person or household per case);
RULES.md worked examples 5 (MEDICAL_BURDEN, RELEASED_PRISONER windows), 6 (EDUCATION_BURDEN)
and 7 (CHILD_UNSUPPORTED) included.
"""
from __future__ import annotations

import datetime as dt

import pytest

from rules_fixtures import People, Scenario, Silver, fires_by_name

people = People()
P = people
RULE_IDS = ("MEDICAL_BURDEN", "NEW_SEVERE_DISABILITY", "DISABLED_WITHOUT_LIVING_SUBSIDY", "EDUCATION_BURDEN",
            "RELEASED_PRISONER", "COMMUNITY_CORRECTION", "CHILD_UNSUPPORTED")


def build(s: Silver) -> None:
    # ---- MEDICAL_BURDEN: settle_date in (2025-10-15, 2026-10-15], >= 20000 -----------
    p = P("med_window_edges")
    s.medical(p, "2025-10-16", "10000.00", settlement_id="S-1")
    s.medical(p, "2026-10-15", "10000.00", settlement_id="S-2")
    s.medical(p, "2026-10-16", "5000.00", settlement_id="S-3")
    p = P("med_first_day_out")
    s.medical(p, "2025-10-15", "10000.00")
    s.medical(p, "2026-10-15", "10000.00")
    p = P("med_one_cent_short")
    s.medical(p, "2026-01-10", "19999.99")
    p = P("med_covered")
    s.medical(p, "2026-01-10", "25000.00")
    s.enrollment(p, "DIBAO_EDGE", "2020-01-01")
    p = P("med_not_means_tested")
    s.medical(p, "2026-01-10", "25000.00")
    s.enrollment(p, "TEMP_AID", "2020-01-01")
    p = P("med_dead")
    s.medical(p, "2026-01-10", "25000.00")
    s.death(p, "2026-02-01")

    # ---- NEW_SEVERE_DISABILITY: issue_date in (2026-04-18, 2026-10-15] ------------------
    s.disability(P("nsd_level1_first_day"), 1, "2026-04-19", cert_no="C-NSD1")
    s.disability(P("nsd_day_before_window"), 1, "2026-04-18")
    s.disability(P("nsd_issued_on_d"), 2, "2026-10-15")
    s.disability(P("nsd_issued_after_d"), 1, "2026-10-16")
    s.disability(P("nsd_level3_mental"), 3, "2026-06-01", "MENTAL")
    s.disability(P("nsd_level4_intellectual"), 4, "2026-06-01", "INTELLECTUAL")
    s.disability(P("nsd_level3_physical"), 3, "2026-06-01", "PHYSICAL")
    s.disability(P("nsd_revoked"), 1, "2026-06-01", status="REVOKED")
    s.disability(P("nsd_status_null"), 1, "2026-06-01", status=None)
    p = P("nsd_has_care")
    s.disability(p, 1, "2026-06-01")
    s.enrollment(p, "DISABLED_CARE", "2026-07-01")
    p = P("nsd_tekun")
    s.disability(p, 1, "2026-06-01")
    s.enrollment(p, "TEKUN", "2010-07-01")
    p = P("nsd_care_ended")
    s.disability(p, 1, "2026-06-01")
    s.enrollment(p, "DISABLED_CARE", "2026-07-01", "2026-10-14")
    p = P("nsd_dead")
    s.disability(p, 1, "2026-06-01")
    s.funeral(p, "2026-09-01")

    # ---- DISABLED_WITHOUT_LIVING_SUBSIDY ----------------------------------------------
    def dibao(name: str, **kw) -> str:
        p = P(name)
        s.enrollment(p, "DIBAO", "2020-01-01", **kw)
        return p

    s.disability(dibao("dwls_fires"), 4, "2010-05-01", "HEARING", cert_no="C-DWLS")
    p = dibao("dwls_has_living")
    s.disability(p, 4, "2010-05-01")
    s.enrollment(p, "DISABLED_LIVING", "2015-01-01")
    s.disability(dibao("dwls_revoked"), 2, "2010-05-01", status="REVOKED")
    s.disability(dibao("dwls_status_null"), 2, "2010-05-01", status=None)
    s.disability(dibao("dwls_issued_after_d"), 2, "2026-10-16")
    p = P("dwls_tekun")
    s.enrollment(p, "TEKUN", "2020-01-01")
    s.disability(p, 2, "2010-05-01")
    p = dibao("dwls_dead")
    s.disability(p, 2, "2010-05-01")
    s.household(p, "H-DWLS-DEAD", status="DECEASED", status_date="2026-09-30")

    # ---- EDUCATION_BURDEN: academic year 2026-2027 ---------------------------------
    def household(hid: str, *members: tuple[str, str, str | None, str | None], **head_kw) -> str:
        """A household: its HEAD, and members (name, stage, academic_year, tuition) with records."""
        head = P(hid)
        s.household(head, hid, **head_kw)
        seen = {head}
        for i, (name, stage, year, tuition) in enumerate(members):
            q = head if name == "head" else P(f"{hid}-{name}")
            if q not in seen:
                seen.add(q)
                s.household(q, hid, relation="CHILD", status="MOVED_OUT" if name.startswith("moved") else "NORMAL")
            s.education(q, stage, year, tuition, record_id=f"R-{hid}-{i}")
        return head

    household("EDU-EX6", ("a", "SENIOR", "2026-2027", "3000.00"), ("b", "COLLEGE", "2026-2027", "5000.00"))
    household("EDU-EX6-LASTYEAR", ("a", "SENIOR", "2026-2027", None), ("b", "COLLEGE", "2025-2026", None))
    household("EDU-EX6-TUITION", ("a", "SENIOR", "2026-2027", "10000.00"), ("b", "COLLEGE", "2025-2026", None))
    household("EDU-TUITION-SHORT", ("a", "SENIOR", "2026-2027", "9999.99"), ("b", "COLLEGE", "2025-2026", None))
    household("EDU-TUITION-ALL-STAGES", ("a", "PRIMARY", "2026-2027", "6000.00"),
              ("b", "JUNIOR", "2026-2027", "4000.00"))
    household("EDU-HEAD-STUDIES", ("head", "COLLEGE", "2026-2027", None), ("a", "VOCATIONAL", "2026-2027", None))
    household("EDU-SAME-STUDENT", ("a", "SENIOR", "2026-2027", None), ("a", "VOCATIONAL", "2026-2027", None))
    household("EDU-MOVED-OUT", ("a", "SENIOR", "2026-2027", None), ("moved", "COLLEGE", "2026-2027", None))
    covered = household("EDU-COVERED", ("a", "SENIOR", "2026-2027", None), ("b", "COLLEGE", "2026-2027", None))
    s.enrollment(P("EDU-COVERED-a"), "DIBAO", "2020-01-01")
    household("EDU-HEAD-DEAD", ("a", "SENIOR", "2026-2027", None), ("b", "COLLEGE", "2026-2027", None))
    s.death(P("EDU-HEAD-DEAD"), "2026-01-01")
    household("EDU-HEAD-MOVED-OUT", ("a", "SENIOR", "2026-2027", None), ("b", "COLLEGE", "2026-2027", None),
              status="MOVED_OUT")
    household("EDU-LAST-YEAR-ONLY", ("a", "SENIOR", "2025-2026", None), ("b", "COLLEGE", "2025-2026", None))
    assert covered

    # ---- RELEASED_PRISONER: release_date in (2026-07-17, 2026-10-15] --------------------
    s.prison(P("rel_first_day"), "2020-01-01", "2026-07-18", record_id="PR-REL")
    s.prison(P("rel_day_before"), "2020-01-01", "2026-07-17")
    s.prison(P("rel_on_d"), "2020-01-01", "2026-10-15")
    s.prison(P("rel_after_d"), "2020-01-01", "2026-10-16")
    p = P("rel_covered")
    s.prison(p, "2020-01-01", "2026-08-01")
    s.enrollment(p, "TEKUN", "2026-09-01")
    p = P("rel_dead")
    s.prison(p, "2020-01-01", "2026-08-01")
    s.death(p, "2026-09-01")
    p = P("rel_back_inside")
    s.prison(p, "2020-01-01", "2026-08-01")
    s.prison(p, "2026-09-01")

    # ---- COMMUNITY_CORRECTION ------------------------------------------------------
    s.corrections(P("cc_open"), "COMMUNITY_CORRECTION", "2026-01-01", record_id="CC-1")
    s.corrections(P("cc_ends_on_d"), "COMMUNITY_CORRECTION", "2026-01-01", "2026-10-15")
    s.corrections(P("cc_ended_before_d"), "COMMUNITY_CORRECTION", "2026-01-01", "2026-10-14")
    s.corrections(P("cc_starts_after_d"), "COMMUNITY_CORRECTION", "2026-10-16")
    s.corrections(P("cc_rehab"), "DRUG_REHAB", "2026-01-01")
    p = P("cc_covered")
    s.corrections(p, "COMMUNITY_CORRECTION", "2026-01-01")
    s.enrollment(p, "DIBAO", "2026-01-01")
    p = P("cc_dead")
    s.corrections(p, "COMMUNITY_CORRECTION", "2026-01-01")
    s.death(p, "2026-03-01")

    # ---- CHILD_UNSUPPORTED (worked example 7) ----------------------------------------
    def child(name: str, born: str = "20160501", father=(), mother=(), programs=(), with_mother=True) -> str:
        """A child with both parents named; ``father``/``mother``: their hardships."""
        c, f, m = P(name, born=born), P(name + "_father"), P(name + "_mother")
        s.household(c, "H-" + name, relation="CHILD", father=f, mother=m if with_mother else None,
                    county="532923", name="child-" + name)
        for parent, hardships in ((f, father), (m, mother)):
            for hardship in hardships:
                hardship(parent)
        for program in programs:
            s.enrollment(c, program, "2020-01-01")
        return c

    def serving(pid):
        s.prison(pid, "2025-01-01", record_id="PR-" + pid)

    def released(pid):
        s.prison(pid, "2020-01-01", "2026-01-01")

    def custody(pid):
        s.corrections(pid, "DETENTION", "2026-10-01")

    def dead(pid):
        s.death(pid, "2024-01-01", report_id="DR-" + pid)

    def severe(pid):
        s.disability(pid, 2, "2015-01-01", "PHYSICAL", cert_no="DC-" + pid)

    def level3_physical(pid):
        s.disability(pid, 3, "2015-01-01", "PHYSICAL")

    def level3_mental(pid):
        s.disability(pid, 3, "2015-01-01", "MENTAL")

    child("ex7", father=[serving], mother=[severe])
    child("ex7_mother_level3_physical", father=[serving], mother=[level3_physical])
    child("ex7_mother_level3_mental", father=[serving], mother=[level3_mental])
    child("ex7_father_dead_mother_severe", father=[dead], mother=[severe])
    child("cu_custody_and_dead", father=[custody], mother=[dead])
    child("cu_both_serving", father=[serving], mother=[serving])
    child("cu_mother_fine", father=[serving], mother=[])
    child("cu_father_released", father=[released], mother=[severe])
    child("cu_mother_unnamed", father=[serving], mother=[severe], with_mother=False)
    child("cu_orphan", father=[serving], mother=[severe], programs=["ORPHAN"])
    child("cu_unsupported_child", father=[serving], mother=[severe], programs=["UNSUPPORTED_CHILD"])
    child("cu_covered_otherwise", father=[serving], mother=[severe], programs=["DIBAO"])
    child("cu_turns_18_on_d", born="20081015", father=[serving], mother=[severe])
    child("cu_turns_18_tomorrow", born="20081016", father=[serving], mother=[severe])
    dead_child = child("cu_child_dead", father=[serving], mother=[severe])
    s.death(dead_child, "2026-05-01")


SCENARIO = Scenario(build, *RULE_IDS)

found = SCENARIO.fixture()

fires = fires_by_name(P)


# ---- MEDICAL_BURDEN ----------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("med_window_edges", True), ("med_first_day_out", False), ("med_one_cent_short", False),
    ("med_covered", False), ("med_not_means_tested", True), ("med_dead", False),
])
def test_example_5_medical_burden_window(found, name, expected):
    assert fires(found, "MEDICAL_BURDEN", name) is expected


def test_medical_burden_evidence_is_the_claims_in_window(found):
    row = found.row("MEDICAL_BURDEN", P("med_window_edges"))
    assert found.keys("MEDICAL_BURDEN", P("med_window_edges")) == [("medical", "S-1"), ("medical", "S-2")]
    assert row.amount_at_risk is None and row.source_county is None and row.source_name is None


# ---- NEW_SEVERE_DISABILITY ---------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("nsd_level1_first_day", True), ("nsd_day_before_window", False), ("nsd_issued_on_d", True),
    ("nsd_issued_after_d", False), ("nsd_level3_mental", True), ("nsd_level4_intellectual", True),
    ("nsd_level3_physical", False), ("nsd_revoked", False), ("nsd_status_null", True),
    ("nsd_has_care", False), ("nsd_tekun", False), ("nsd_care_ended", True), ("nsd_dead", False),
])
def test_new_severe_disability(found, name, expected):
    assert fires(found, "NEW_SEVERE_DISABILITY", name) is expected


def test_new_severe_disability_evidence(found):
    assert found.evidence("NEW_SEVERE_DISABILITY", P("nsd_level1_first_day")) == [
        ("disability", "C-NSD1",
         {"disability_type": "PHYSICAL", "level": "1", "issue_date": "2026-04-19", "status": "VALID"})]


# ---- DISABLED_WITHOUT_LIVING_SUBSIDY -------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("dwls_fires", True), ("dwls_has_living", False), ("dwls_revoked", False), ("dwls_status_null", True),
    ("dwls_issued_after_d", False), ("dwls_tekun", False), ("dwls_dead", False),
])
def test_disabled_without_living_subsidy(found, name, expected):
    assert fires(found, "DISABLED_WITHOUT_LIVING_SUBSIDY", name) is expected


def test_disabled_without_living_subsidy_evidence(found):
    sources = [(src, key) for src, key in found.keys("DISABLED_WITHOUT_LIVING_SUBSIDY", P("dwls_fires"))]
    assert sources[0] == ("disability", "C-DWLS") and sources[1][0] == "enrollment" and len(sources) == 2


# ---- EDUCATION_BURDEN ----------------------------------------------------------------
@pytest.mark.parametrize("hid, expected", [
    ("EDU-EX6", True), ("EDU-EX6-LASTYEAR", False), ("EDU-EX6-TUITION", True), ("EDU-TUITION-SHORT", False),
    ("EDU-TUITION-ALL-STAGES", True), ("EDU-HEAD-STUDIES", True), ("EDU-SAME-STUDENT", False),
    ("EDU-MOVED-OUT", False), ("EDU-COVERED", False), ("EDU-HEAD-DEAD", False), ("EDU-HEAD-MOVED-OUT", False),
    ("EDU-LAST-YEAR-ONLY", False),
])
def test_example_6_education_burden(found, hid, expected):
    assert fires(found, "EDUCATION_BURDEN", hid) is expected


def test_example_6_fires_for_the_head_only(found):
    assert not fires(found, "EDUCATION_BURDEN", "EDU-EX6-a")
    assert found.keys("EDUCATION_BURDEN", P("EDU-EX6")) == [
        ("education", "R-EDU-EX6-0"), ("education", "R-EDU-EX6-1"), ("household", P("EDU-EX6"))]
    assert found.row("EDUCATION_BURDEN", P("EDU-EX6")).source_county == "532901"


def test_example_6_academic_year_before_september(spark, cfg):
    """On 2026-08-31 the academic year is 2025-2026."""
    found = SCENARIO_AUGUST.found(spark, cfg, dt.date(2026, 8, 31))
    assert fires(found, "EDUCATION_BURDEN", "EDU-LAST-YEAR-ONLY")
    assert not fires(found, "EDUCATION_BURDEN", "EDU-EX6")


# ---- RELEASED_PRISONER ---------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("rel_first_day", True), ("rel_day_before", False), ("rel_on_d", True), ("rel_after_d", False),
    ("rel_covered", False), ("rel_dead", False), ("rel_back_inside", False),
])
def test_example_5_released_prisoner_window(found, name, expected):
    assert fires(found, "RELEASED_PRISONER", name) is expected


def test_released_prisoner_evidence(found):
    assert found.evidence("RELEASED_PRISONER", P("rel_first_day")) == [
        ("prison", "PR-REL", {"admission_date": "2020-01-01", "release_date": "2026-07-18"})]


# ---- COMMUNITY_CORRECTION -----------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("cc_open", True), ("cc_ends_on_d", True), ("cc_ended_before_d", False), ("cc_starts_after_d", False),
    ("cc_rehab", False), ("cc_covered", False), ("cc_dead", False),
])
def test_community_correction(found, name, expected):
    assert fires(found, "COMMUNITY_CORRECTION", name) is expected


# ---- CHILD_UNSUPPORTED ----------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("ex7", True), ("ex7_mother_level3_physical", False), ("ex7_mother_level3_mental", True),
    ("ex7_father_dead_mother_severe", False), ("cu_custody_and_dead", True), ("cu_both_serving", True),
    ("cu_mother_fine", False), ("cu_father_released", False), ("cu_mother_unnamed", False),
    ("cu_orphan", False), ("cu_unsupported_child", False), ("cu_covered_otherwise", True),
    ("cu_turns_18_on_d", False), ("cu_turns_18_tomorrow", True), ("cu_child_dead", False),
])
def test_example_7_child_unsupported(found, name, expected):
    assert fires(found, "CHILD_UNSUPPORTED", name) is expected


def test_example_7_evidence_is_the_child_row_and_the_parents_rows(found):
    c, f, m = P("ex7"), P("ex7_father"), P("ex7_mother")
    evidence = found.evidence("CHILD_UNSUPPORTED", c)
    assert [(src, key) for src, key, _ in evidence] == [
        ("disability", "DC-" + m), ("household", c), ("prison", "PR-" + f)]
    assert evidence[0][2]["person_id"] == m and evidence[2][2]["person_id"] == f
    assert evidence[1][2]["father_id"] == f and evidence[1][2]["mother_id"] == m
    row = found.row("CHILD_UNSUPPORTED", c)
    assert (row.source_county, row.source_name) == ("532923", "child-ex7")


def test_parents_do_not_fire_child_unsupported(found):
    assert not fires(found, "CHILD_UNSUPPORTED", "ex7_father")


SCENARIO_AUGUST = Scenario(build, "EDUCATION_BURDEN")
