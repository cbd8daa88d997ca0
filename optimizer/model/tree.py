"""Scenario factors and the scenario tree.

Applies the disruptions to every offer (availability and price multiplier per
scenario and period) and groups scenarios into tree nodes: two scenarios share
the node of period t while every offer's factors agree in periods 1..t, so the
model cannot decide differently in scenarios it cannot yet tell apart
(non-anticipativity, docs/model.md, "Scenario tree").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..inputs.data import SourcingData, disruption_matches, offer_columns, offer_countries


@dataclass
class ScenarioTree:
    """Nodes of the scenario tree and the offer data at each node.

    node_of: scenarios x periods array of node numbers.
    nodes: index node; period, parent (-1 at the root), probability, scenarios (names).
    offer_nodes: one row per offered (supplier, material, period) and node of that period:
        node, kind, price, capacity, min_quantity, availability, price_multiplier.
    """

    scenarios: list[str]
    periods: list[str]
    probability: np.ndarray
    node_of: np.ndarray
    nodes: pd.DataFrame
    offer_nodes: pd.DataFrame

    def scenario_nodes(self) -> pd.DataFrame:
        """Long table scenario, period, node."""
        frame = pd.DataFrame(self.node_of, index=pd.Index(self.scenarios, name="scenario"),
                             columns=pd.Index(self.periods, name="period"))
        return frame.stack().rename("node").reset_index()


def offer_factors(data: SourcingData) -> tuple[np.ndarray, np.ndarray]:
    """Availability and price multiplier, arrays of scenarios x offers (rows of data.offers).

    Each disruption row multiplies the factors of the offers that match all its filters,
    in its scenario and its periods start..end.
    """
    offers = data.offers.reset_index()
    scenarios = list(data.scenarios.index)
    position = {p: i for i, p in enumerate(data.periods)}
    period_index = offers["period"].map(position).to_numpy()
    availability = np.ones((len(scenarios), len(offers)))
    multiplier = np.ones((len(scenarios), len(offers)))
    countries = offer_countries(data, offers)
    scenario_index = {s: i for i, s in enumerate(scenarios)}
    columns, matched = offer_columns(offers), {}
    for d in data.disruptions.itertuples():
        match = disruption_matches(d, columns, countries, data.stages, period_index, position, matched)
        w = scenario_index[d.scenario]
        availability[w, match] *= d.availability
        multiplier[w, match] *= d.price_multiplier
    return availability, multiplier


def build_tree(data: SourcingData, factors: tuple[np.ndarray, np.ndarray] | None = None) -> ScenarioTree:
    """Group scenarios into nodes by the history of offer factors they share.

    factors: availability and price multiplier (scenarios x offers) to use instead of the disruptions.
    """
    availability, multiplier = factors if factors is not None else offer_factors(data)
    offers = data.offers.reset_index()
    scenarios = list(data.scenarios.index)
    probability = data.scenarios["probability"].to_numpy(dtype=float)
    n_scenarios, n_periods = len(scenarios), len(data.periods)
    node_of = np.zeros((n_scenarios, n_periods), dtype=np.int64)
    columns_at = offers.groupby("period", sort=False).indices
    previous = np.full(n_scenarios, -1, dtype=np.int64)
    next_node = 0
    node_rows = []
    for t, period in enumerate(data.periods):
        cols = columns_at.get(period, np.array([], dtype=int))
        # Rounded (to 1e-9) so that products taken in another order still compare equal.
        key = np.column_stack([previous, np.round(availability[:, cols], 9),
                               np.round(multiplier[:, cols], 9)])
        _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(first)  # number nodes in the order of their first scenario
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        node_of[:, t] = next_node + rank[inverse]
        # each group's scenarios in scenario order, found by one sort rather than one scan per group
        groups = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
        for k in order:
            members = groups[k]
            node_rows.append((next_node + rank[k], period, t, int(previous[members[0]]),
                              float(probability[members].sum()), tuple(scenarios[i] for i in members),
                              int(members[0])))
        next_node += len(order)
        previous = node_of[:, t]
    nodes = pd.DataFrame(node_rows, columns=["node", "period", "period_index", "parent", "probability",
                                             "scenarios", "representative"]).set_index("node").sort_index()

    # every offer of a period at every node of that period, taken from the offers in one go
    rep = nodes["representative"].to_numpy()
    at_period = nodes.groupby("period", sort=False).indices
    rows, node = [], []
    for period, cols in columns_at.items():
        at = nodes.index.to_numpy()[at_period.get(period, np.array([], dtype=int))]
        rows.append(np.repeat(cols, len(at)))
        node.append(np.tile(at, len(cols)))
    if rows:
        rows, node = np.concatenate(rows), np.concatenate(node)
        offer_nodes = offers.iloc[rows].reset_index(drop=True)
        offer_nodes["node"] = node
        offer_nodes["availability"] = availability[rep[node], rows]
        offer_nodes["price_multiplier"] = multiplier[rep[node], rows]
    else:
        offer_nodes = offers.assign(node=pd.Series(dtype=int), availability=pd.Series(dtype=float),
                                    price_multiplier=pd.Series(dtype=float))
    offer_nodes = offer_nodes.sort_values(["node", "supplier", "material"]).reset_index(drop=True)
    return ScenarioTree(scenarios=scenarios, periods=list(data.periods), probability=probability,
                        node_of=node_of, nodes=nodes.drop(columns="representative"), offer_nodes=offer_nodes)
