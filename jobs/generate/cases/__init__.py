"""Planted cases and the truth, one module per rule category.

``jobs/generate/cases/<category>.py`` (the categories of conf/rules.yaml, lower case)
holds, for each rule of its category, the case function registered with
``@planted("RULE_ID")`` and, beside it, the rule's oracle predicate registered with
``@truth("RULE_ID")`` (:mod:`jobs.generate.cases.registry`). Every module of this package
is imported here, so a new rule is its conf/rules.yaml entry, its Spark function and,
in its category's module, its case and its truth; :func:`check` refuses a rule that
lacks either and a case or truth without a rule.

:func:`build` runs the case functions of the rules in configuration order;
:func:`jobs.generate.oracle.evaluate` runs the truths.
"""
from __future__ import annotations

import importlib
import pkgutil

from jobs.generate.cases.registry import PLANTED, TRUTH, check, planted, truth
from jobs.generate.world import Person, World

__all__ = ["PLANTED", "TRUTH", "build", "check", "planted", "truth"]

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "registry":
        importlib.import_module(f"{__name__}.{_module.name}")   # registers its cases and truths


def build(w: World, rules: list[str], n_pos: int, n_nm: int) -> list[tuple[str, str, Person, str]]:
    """The cases of ``rules`` in that order (the world draws its random numbers in it): at
    least 4 positives and 4 near misses each, so that every variant occurs."""
    cases = []
    for rule in rules:
        fn = PLANTED[rule]
        for i in range(max(4, n_pos)):
            cases += fn(w, i, True)
        for i in range(max(4, n_nm)):
            cases += fn(w, i, False)
    return cases
