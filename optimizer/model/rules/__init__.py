"""The policy rules, one module each, and the registry the other stages go through.

Add a rule: write its module (a `Rule` subclass, see base.py, and `RULE = ...`) and add it to RULES.
Validation, building, results, explanation, frontier and compare then call it through the interface;
none of them names a rule. The order of RULES is the order of building, of the explanation's
alternatives and of the shadow-price table.
"""

from __future__ import annotations

from . import budget, cvar, fill_rate_floors, origin_caps, single_country_caps, supplier_caps, take_or_pay
from .base import BuildContext, Relaxation, Rule, SweepKey

RULES: tuple[Rule, ...] = (
    origin_caps.RULE,
    single_country_caps.RULE,
    fill_rate_floors.RULE,
    supplier_caps.RULE,
    budget.RULE,
    cvar.RULE,
    take_or_pay.RULE,
)

#: The names of the rules that the elastic model may relax; physical balances and capacities stay hard.
POLICY_RULES: tuple[str, ...] = tuple(rule.name for rule in RULES)


def rule_named(name: str) -> Rule:
    """The registered rule of this name."""
    return next(rule for rule in RULES if rule.name == name)


__all__ = ["RULES", "POLICY_RULES", "BuildContext", "Relaxation", "Rule", "SweepKey", "rule_named"]
