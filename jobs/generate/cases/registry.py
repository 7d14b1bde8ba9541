"""The generator's rule registries: each rule's planted cases and its truth, by rule id.

In the module of the rule's category (``jobs/generate/cases/<category>.py``, the
category of its conf/rules.yaml entry), side by side::

    @planted("PROVIDENT_FUND")
    def provident_fund(w: World, i: int, positive: bool) -> list[tuple]:
        ...

    @truth("PROVIDENT_FUND")
    def provident_fund_truth(o: Facts, pf_min_months: int, pf_window_months: int) -> dict:
        ...

A case function builds case ``i`` (a POSITIVE that fires the rule or a NEAR_MISS that
barely misses it) in the world and returns its ``(kind, rule_id, person, note)`` rows. A
truth takes the shared oracle facts and the rule's parameters (the names of its
conf/rules.yaml ``params``, as the Spark rule function in jobs/rules/catalogue.py) and
returns ``{person_id: amount_at_risk or None}``. :func:`check` holds the registries
against the configuration.
"""
from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Callable

from jobs.errors import ConfigError

if TYPE_CHECKING:
    from jobs.rules.registry import RulesConfig

CaseFunction = Callable[..., list]      # (World, i, positive) -> [(kind, rule_id, Person, note)]
TruthFunction = Callable[..., dict]     # (Facts, **params) -> {person_id: amount or None}
PLANTED: dict[str, CaseFunction] = {}
TRUTH: dict[str, TruthFunction] = {}
FOLDER = "jobs/generate/cases"


def _register(registry: dict[str, Any], what: str, rule_id: str) -> Callable:
    def register(fn: Callable) -> Callable:
        if rule_id in registry:
            raise ValueError(f"rule {rule_id}: a second {what} is registered")
        registry[rule_id] = fn
        fn.rule_id = rule_id  # type: ignore[attr-defined]
        return fn
    return register


def planted(rule_id: str) -> Callable[[CaseFunction], CaseFunction]:
    """Register the case function of ``rule_id`` (its key in conf/rules.yaml)."""
    return _register(PLANTED, "planted case function", rule_id)


def truth(rule_id: str) -> Callable[[TruthFunction], TruthFunction]:
    """Register the oracle predicate of ``rule_id`` (its key in conf/rules.yaml)."""
    return _register(TRUTH, "truth", rule_id)


def check(rules: RulesConfig, cases: dict[str, CaseFunction] | None = None,
          truths: dict[str, TruthFunction] | None = None) -> None:
    """Every rule of ``rules`` has one case function and one truth, both in the module of
    its category, the truth taking exactly the rule's parameters; nothing else has either.
    Else a :class:`ConfigError` naming the rule."""
    registries = {"planted case function": PLANTED if cases is None else cases,
                  "truth": TRUTH if truths is None else truths}
    for rule_id, spec in rules.rules.items():
        home = f"{FOLDER}/{spec.category.lower()}.py"
        for what, registry in registries.items():
            fn = registry.get(rule_id)
            if fn is None:
                raise ConfigError(f"rules.rules.{rule_id}: no {what} is registered under this id ({home})")
            module = fn.__module__.rsplit(".", 1)[-1]
            if module != spec.category.lower():
                raise ConfigError(f"rules.rules.{rule_id}: its {what} is in {FOLDER}/{module}.py, not in {home} "
                                  f"(category {spec.category})")
        names = list(inspect.signature(registries["truth"][rule_id]).parameters)[1:]
        if sorted(names) != sorted(spec.params):
            raise ConfigError(f"rules.rules.{rule_id}: its truth takes ({', '.join(names) or 'no parameters'}), "
                              f"the rule has ({', '.join(spec.params) or 'no parameters'})")
    for what, registry in registries.items():
        extra = sorted(set(registry) - set(rules.rules))
        if extra:
            raise ConfigError(f"rules.rules.{extra[0]}: a {what} without an entry in conf/rules.yaml")
