"""The rule registry: one function per rule, and its entry of conf/rules.yaml, checked
against each other when the configuration loads.

A rule is declared once: its entry in ``conf/rules.yaml`` (category, base score, Chinese
name, switch and its own parameters) and one function registered under the same id::

    @rule("PROVIDENT_FUND")
    def provident_fund(f: Facts, pf_min_months: int, pf_window_months: int) -> Finding:
        ...

:func:`build_rules` validates the YAML against the functions: every configured rule
has a function and every function an entry, and the entry's ``params`` are exactly the
function's parameters after ``f``, each coerced to its annotation. A misspelt, missing
or badly typed parameter is a :class:`~jobs.errors.ConfigError` naming the rule (exit
status 2). Parameters of the shared definitions (the payment window) are ``shared``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from jobs.errors import ConfigError
from jobs.typed import build, call_parameters, expect

RuleFunction = Callable[..., Any]   # (Facts, **params) -> Finding
RULES: dict[str, RuleFunction] = {}


def rule(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function under ``rule_id`` (its key in conf/rules.yaml)."""
    def register(fn: RuleFunction) -> RuleFunction:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} is registered twice")
        RULES[rule_id] = fn
        fn.rule_id = rule_id  # type: ignore[attr-defined]
        return fn
    return register


@dataclass(frozen=True)
class SharedParams:
    """Parameters of RULES.md's shared definitions."""

    lookback_months: int = 24        # payments in window: M(D) - lookback + 1 .. M(D)


@dataclass(frozen=True)
class ScoreSettings:
    amount_step: Decimal = Decimal("500")
    amount_max_points: int = 20


@dataclass(frozen=True)
class RuleSpec:
    rule_id: str
    category: str
    name_zh: str
    base_score: int
    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)   # the rule function's keyword arguments


@dataclass(frozen=True)
class RulesConfig:
    shared: SharedParams
    score: ScoreSettings
    categories: dict[str, str]
    rules: dict[str, RuleSpec]

    @property
    def enabled(self) -> list[str]:
        return [r for r, spec in self.rules.items() if spec.enabled]

    def params(self, rule_id: str) -> dict[str, Any]:
        return dict(self.rules[rule_id].params)


def build_rules(raw: dict, functions: dict[str, RuleFunction]) -> RulesConfig:
    """conf/rules.yaml (merged with any overlay) as a validated :class:`RulesConfig`,
    against ``functions`` (rule id -> function: :data:`RULES` once the catalogue is
    imported, see :func:`jobs.rules.load_rules`)."""
    for key in raw:
        if key not in ("shared", "score", "categories", "rules"):
            raise ConfigError(f"rules.{key}: unknown key (expected shared, score, categories, rules)")
    categories = {str(k): str(v) for k, v in expect(dict, raw.get("categories", {}), "rules.categories").items()}
    rules: dict[str, RuleSpec] = {}
    for rule_id, spec in expect(dict, raw.get("rules", {}), "rules.rules").items():
        where = f"rules.rules.{rule_id}"
        spec = dict(expect(dict, spec, where))
        fn = functions.get(rule_id)
        if fn is None:
            raise ConfigError(f"{where}: no rule function is registered under this id (jobs/rules/catalogue.py)")
        params = call_parameters(fn, 1, spec.pop("params", None), f"{where}.params")
        rule_spec = build(RuleSpec, {"rule_id": rule_id, **spec}, where)
        if rule_spec.category not in categories:
            raise ConfigError(f"{where}.category: unknown category {rule_spec.category!r}")
        if not 0 <= rule_spec.base_score <= 100:
            raise ConfigError(f"{where}.base_score: must be within 0..100")
        rules[rule_id] = RuleSpec(**{**rule_spec.__dict__, "params": params})
    unconfigured = sorted(set(functions) - set(rules))
    if unconfigured:
        raise ConfigError(f"rules.rules.{unconfigured[0]}: a rule function without an entry in conf/rules.yaml")
    return RulesConfig(shared=build(SharedParams, raw.get("shared", {}), "rules.shared"),
                       score=build(ScoreSettings, raw.get("score", {}), "rules.score"),
                       categories=categories, rules=rules)
