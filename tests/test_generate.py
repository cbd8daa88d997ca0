"""The instance generator at the small scale: valid, solvable, reproducible from its seed."""

from __future__ import annotations

import pandas as pd
import pytest

import optimizer as so
from optimizer.interfaces.cli import main
from optimizer.inputs.generate import SCALES, generate
from reference_lp import reference_objective


def test_small_instance_is_valid_solvable_and_matches_the_reference(tmp_path, capsys):
    folder = tmp_path / "small"
    assert main(["generate", "--scale", "small", "--seed", "3", str(folder)]) == 0
    assert capsys.readouterr().out == (f"Instance written to {folder}: 3 materials, 6 monthly periods, 8 scenarios "
                                       "(seed 3)\n")
    data = so.read_instance(folder)
    assert len(data.periods) == 6 and len(data.scenarios) == 8
    result = so.solve(data)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(reference_objective(data), rel=1e-7)


def test_same_seed_same_instance_other_seed_other_instance():
    first, again, other = generate("small", 5), generate("small", 5), generate("small", 6)
    for sheet in first:
        pd.testing.assert_frame_equal(first[sheet], again[sheet])
    assert any(not first[s].equals(other[s]) for s in first)


def test_scenarios_share_prefixes():
    """Scenarios sampled from the disruption model agree until their first disruption, so the tree has
    fewer nodes than scenarios x periods."""
    data = so.from_frames({k: v.astype(object).where(v.notna(), None) for k, v in generate("medium", 1).items()})
    from optimizer.model.tree import build_tree

    tree = build_tree(data)
    size = SCALES["medium"]
    assert tree.nodes.query("period_index == 0").shape[0] < size.scenarios
    assert len(tree.nodes) < size.scenarios * size.periods


def test_workbook_output(tmp_path):
    path = tmp_path / "small.xlsx"
    assert main(["generate", "--seed", "1", str(path)]) == 0
    assert so.solve(so.read_instance(path)).status == "optimal"


def test_unknown_scale_is_exit_2(tmp_path, capsys):
    assert main(["generate", "--scale", "huge", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err == ("Error: The input has a problem: unknown scale 'huge'; use one of small, "
                                       "medium, large, xl.\n")
