"""Building blocks the formulation and the policy rules share: linear sums of (coefficient, variable)
pairs, inflows grouped for the rules' lookups, and keys along each scenario's path of nodes.

Owns no rule and no component of the model; reads only what it is given.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from .tree import ScenarioTree


def linear_sum(terms) -> LinearExpression | float:
    """sum of coefficient * variable over (coefficient, variable) pairs, built as one LinearExpression
    (Pyomo's operators would build it term by term)."""
    args = [var if coefficient == 1 else MonomialTermExpression((coefficient, var)) for coefficient, var in terms]
    return LinearExpression(args) if args else 0.0


def records(frame, *columns) -> list[tuple]:
    """Rows of a frame as plain tuples (iterating pandas columns element by element is slow)."""
    return list(zip(*(as_list(frame[c]) for c in columns)))


def as_list(column) -> list:
    """A column's values as a list, one shared Python object per distinct value: pandas makes a new str
    (or int, or float) for every element, and the model keeps hundreds of thousands of keys made of them
    (at the large scale 25 MiB of the model's 220 MiB)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return np.array(uniques.tolist(), dtype=object).take(codes).tolist()


def inflows_by_offer(model: pyo.ConcreteModel) -> dict[tuple, dict[tuple, list]]:
    """Keys of inflow grouped by (supplier, material), then by (node,): what the cap rules look up."""
    grouped: dict[tuple, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
    for key in model.inflow:
        grouped[(key[0], key[1])][(key[2],)].append(key)
    return grouped


def inflows_of(by_offer: dict, suppliers, material: str) -> dict[tuple, list]:
    """Keys of inflow for these suppliers and this material, grouped by (node,)."""
    at: dict[tuple, list] = defaultdict(list)
    for supplier in sorted(suppliers):
        for node, keys in by_offer.get((supplier, material), {}).items():
            at[node].extend(keys)
    return at


def path_keys(tree: ScenarioTree, keys_at: dict, group: tuple) -> dict[str, list]:
    """For each scenario, the keys found along its path of nodes for one group (e.g. a material)."""
    out = {}
    for w, scenario in enumerate(tree.scenarios):
        out[scenario] = [k for n in tree.node_of[w] for k in keys_at.get(group + (int(n),), ())]
    return out
