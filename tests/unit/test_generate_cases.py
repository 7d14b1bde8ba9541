"""The generator's rule registries: every rule of conf/rules.yaml has one planted case
function and one truth in its category's module, and the cases agree with the truths (no Spark)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

import pytest

from jobs.errors import ConfigError
from jobs.generate import cases, oracle, settings as S
from jobs.generate.cases import registry
from jobs.generate.world import World, deliver

D = dt.date(2026, 10, 15)


def test_every_rule_has_one_case_and_one_truth_and_nothing_else_has(cfg):
    cases.check(cfg.rules)
    assert set(cases.PLANTED) == set(cfg.rules.rules) == set(cases.TRUTH)
    for rule_id, spec in cfg.rules.rules.items():
        for fn in (cases.PLANTED[rule_id], cases.TRUTH[rule_id]):
            assert fn.__module__ == f"jobs.generate.cases.{spec.category.lower()}", rule_id


def without(registry_: dict, rule_id: str) -> dict:
    return {k: v for k, v in registry_.items() if k != rule_id}


def test_a_rule_without_a_case_or_a_truth_is_named(cfg):
    with pytest.raises(ConfigError, match=r"rules\.rules\.VEHICLE: no planted case function .*cases/ineligible\.py"):
        cases.check(cfg.rules, cases=without(cases.PLANTED, "VEHICLE"))
    with pytest.raises(ConfigError, match=r"rules\.rules\.MEDICAL_BURDEN: no truth .*cases/proactive\.py"):
        cases.check(cfg.rules, truths=without(cases.TRUTH, "MEDICAL_BURDEN"))


def test_a_case_or_truth_without_a_rule_is_named(cfg):
    rules = dataclasses.replace(cfg.rules, rules=without(cfg.rules.rules, "DUPLICATE_PAYMENT"))
    with pytest.raises(ConfigError, match=r"rules\.rules\.DUPLICATE_PAYMENT: a planted case function without an entry"):
        cases.check(rules)
    with pytest.raises(ConfigError, match=r"rules\.rules\.DUPLICATE_PAYMENT: a truth without an entry"):
        cases.check(rules, cases=without(cases.PLANTED, "DUPLICATE_PAYMENT"))


def test_a_truth_outside_its_category_module_or_with_other_parameters_is_named(cfg):
    moved = dict(cfg.rules.rules, HIGH_INCOME=dataclasses.replace(cfg.rules.rules["HIGH_INCOME"], category="PROACTIVE"))
    with pytest.raises(ConfigError, match=r"rules\.rules\.HIGH_INCOME: its planted case function is in "
                                          r"jobs/generate/cases/ineligible\.py, not in jobs/generate/cases/proactive\.py"):
        cases.check(dataclasses.replace(cfg.rules, rules=moved))

    def high_income(o, threshold):   # a parameter name the rule does not have
        return {}

    high_income.__module__ = "jobs.generate.cases.ineligible"
    with pytest.raises(ConfigError, match=r"rules\.rules\.HIGH_INCOME: its truth takes \(threshold\), "
                                          r"the rule has \(income_threshold\)"):
        cases.check(cfg.rules, truths=dict(cases.TRUTH, HIGH_INCOME=high_income))


def test_a_second_registration_is_refused():
    with pytest.raises(ValueError, match="rule DECEASED: a second planted case function"):
        registry.planted("DECEASED")(lambda w, i, positive: [])
    with pytest.raises(ValueError, match="rule DECEASED: a second truth"):
        registry.truth("DECEASED")(lambda o: {})
    assert cases.PLANTED["DECEASED"].__name__ == "deceased"


def test_the_planted_cases_agree_with_their_truths(cfg):
    """Every rule's positives fire it, its near misses and every other case do not (as
    the generator checks before writing the truth file), here without Spark."""
    B1, _ = S.batch_dates(D, S.GenerateSettings())
    w = World(cfg, 5, D, B1, list(S.COUNTY_POPULATION), list(S.COUNTY_POPULATION.values()))
    planted = cases.build(w, list(cfg.rules.rules), 3, 3)
    kinds = Counter((rule, kind) for kind, rule, _, _ in planted)
    for rule in cfg.rules.rules:
        assert kinds[(rule, "POSITIVE")] >= 4 and kinds[(rule, "NEAR_MISS")] >= 4, rule
    delivered = deliver(w, cfg.contract, 5, 0.01, 0.05, set())
    fired = oracle.evaluate(oracle.ingest(delivered, cfg.contract, D), cfg.rules, D)
    assert set(fired) == {(rule, p.id) for kind, rule, p, _ in planted if kind == "POSITIVE"}


@pytest.mark.parametrize("as_of", [D, dt.date(2028, 2, 29), dt.date(2027, 3, 1)])
def test_many_cases_still_fire_only_their_own_rule(cfg, as_of):
    """At a larger scale the case index runs further (ages, dates cycle with it): still no
    case fires another rule (an old case's person reaching 80 would fire ELDERLY_ALLOWANCE_MISSING)."""
    B1, _ = S.batch_dates(as_of, S.GenerateSettings())
    w = World(cfg, 9, as_of, B1, list(S.COUNTY_POPULATION), list(S.COUNTY_POPULATION.values()))
    planted = cases.build(w, list(cfg.rules.rules), 60, 30)
    delivered = deliver(w, cfg.contract, 9, 0.01, 0.05, set())
    fired = oracle.evaluate(oracle.ingest(delivered, cfg.contract, as_of), cfg.rules, as_of)
    positives = {(rule, p.id) for kind, rule, p, _ in planted if kind == "POSITIVE"}
    assert not set(fired) - positives, Counter(rule for rule, _ in set(fired) - positives)
    assert not positives - set(fired), Counter(rule for rule, _ in positives - set(fired))
