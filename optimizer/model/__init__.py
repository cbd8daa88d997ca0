"""The model stage: the scenario tree and the linear program built from validated data (no solving, no files).

`build` is the stage's one entry point: data in, a `Built` (data, tree, Pyomo model) out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyomo.core as pyo

from ..inputs.data import SourcingData
from .formulation import build_model
from .tree import ScenarioTree, build_tree


@dataclass
class SolveCache:
    """What the results work out once per model and reuse at every solve of it (a sweep's points).

    gather_plan: which variables the results read, and where their values go (solving.results._GatherPlan);
    columns, columns_handover: those variables' HiGHS columns, and the serial number of the hand-over that
    numbered them (solver.Primal.handover); input_hash: the input's fingerprint for the run information.
    """

    gather_plan: Any = None
    columns: list | None = None
    columns_handover: int | None = None
    input_hash: str | None = None


@dataclass
class Built:
    """A model ready to solve, with the data and tree it was built from, and what its solves reuse."""

    data: SourcingData
    tree: ScenarioTree
    model: pyo.ConcreteModel
    cache: SolveCache = field(default_factory=SolveCache, repr=False)


def build(data: SourcingData, factors=None, elastic: frozenset[str] = frozenset()) -> Built:
    """The scenario tree and the model; factors replace the disruptions (see tree.build_tree)."""
    tree = build_tree(data, factors)
    return Built(data, tree, build_model(data, tree, elastic))
