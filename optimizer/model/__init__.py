"""The model stage: the scenario tree and the linear program built from validated data (no solving, no files).

`build` is the stage's one entry point: data in, a `Built` (data, tree, Pyomo model) out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyomo.environ as pyo

from ..inputs.data import SourcingData
from .formulation import build_model
from .tree import ScenarioTree, build_tree


@dataclass
class Built:
    """A model ready to solve, with the data and tree it was built from.

    cache: what `results` works out once per model and reuses at every solve of it (a sweep's points).
    """

    data: SourcingData
    tree: ScenarioTree
    model: pyo.ConcreteModel
    cache: dict = field(default_factory=dict, repr=False)


def build(data: SourcingData, factors=None, elastic: frozenset[str] = frozenset()) -> Built:
    """The scenario tree and the model; factors replace the disruptions (see tree.build_tree)."""
    tree = build_tree(data, factors)
    return Built(data, tree, build_model(data, tree, elastic))
