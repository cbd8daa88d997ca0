"""The Results page shows the plan with the report module's figures, the binding shadow prices most valuable
first, and serves the one-page PDF that `sourcing solve --pdf` writes."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import optimizer as so
from appdriver import downloaded, session, start, wait
from optimizer.interfaces.cli import main
from optimizer.interfaces.views.common import money


@pytest.fixture
def app(monkeypatch):
    at = start(monkeypatch)
    yield at
    session(at).close()


def pages_of(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def without_dates(pdf: bytes) -> bytes:
    return re.sub(rb"/CreationDate \(D:[^)]*\)", b"", pdf)


def test_results_show_the_report_figures_the_binding_prices_and_serve_the_clis_pdf(app, tmp_path):
    app.sidebar.button(key="solve").click().run()
    wait(app)
    # three matplotlib figures (supply, cost by scenario, China share), drawn by the reports module
    assert len(app.get("image")) == 3
    prices = next(frame.value for frame in app.dataframe if "rule" in frame.value.columns
                  and "meaning" in frame.value.columns)
    assert (prices["value"].abs() > 1e-9).all() and len(prices) > 0
    assert list(prices["value"].abs()) == sorted(prices["value"].abs(), reverse=True)
    pdf = downloaded(app, "pdf-download", tmp_path).read_bytes()
    assert pdf.startswith(b"%PDF") and pages_of(pdf) == 1
    assert main(["solve", "--pdf", str(tmp_path / "cli.pdf"), "-o", str(tmp_path / "cli.xlsx")]) == 0
    assert without_dates(pdf) == without_dates((tmp_path / "cli.pdf").read_bytes())


def test_the_cards_show_the_objective_and_the_cap_table_marks_the_caps_that_bind(app):
    app.sidebar.button(key="solve").click().run()
    wait(app)
    result = session(app).answers["solve"]["result"]
    settings = pd.read_csv(Path(so.bundled_instance()) / "settings.csv").set_index("key")["value"]
    weight = float(settings["cvar_weight"])
    assert weight > 0  # the bundled instance weighs the tail: the objective is not the expected cost
    cards = {metric.label: metric.value for metric in app.metric}
    # what HiGHS minimised, worked out from the two cards it is made of
    probability = pd.read_csv(Path(so.bundled_instance()) / "scenarios.csv").set_index("scenario")["probability"]
    costs = result.scenario_costs.set_index("scenario")["cost"]
    expected = float(sum(probability[s] * costs[s] for s in probability.index))
    assert cards["Objective"] == money(expected + weight * result.headline["cvar"], "USD")
    assert cards["Expected cost"] == money(expected, "USD")
    assert len(cards) == 6
    # with five scenarios the worst 5% of probability lies in the worst one, and the page says so
    assert cards["Worst\\-scenario cost"] == cards["CVaR 95%"]
    assert any("equals the worst scenario's cost" in caption.value for caption in app.caption)

    table = next(frame.value for frame in app.dataframe if "binds" in frame.value.columns)
    raw = pd.read_csv(Path(so.bundled_instance()) / "origin_caps.csv")
    assert list(table["cap_share"]) == [pytest.approx(100 * raw["max_share"].iloc[0])] * len(table)
    at_cap = (table["highest_share"] - table["cap_share"]).abs() < 1e-4
    assert (table["highest_share"] <= table["cap_share"] + 1e-4).all()
    assert list(table["binds"] == "at the cap") == list(at_cap)
    assert at_cap.any() and not at_cap.all()  # Dy, Tb and magnets reach 90%, NdPr oxide does not


def test_the_input_page_names_the_instance_and_shows_empty_cells_empty(app):
    shown = " ".join(t.value for t in app.text)
    assert f"the bundled instance ({Path(so.bundled_instance()).name}): 4 materials" in shown
    assert str(Path(so.bundled_instance()).parent) not in shown  # the server's folders are its own
    cases = next(frame.value for frame in app.dataframe if "action" in frame.value.columns)
    raw = pd.read_csv(Path(so.bundled_instance()) / "cases.csv")
    empty = raw["value"].isna()
    assert empty.any()
    assert list(cases.loc[empty.values, "value"]) == [""] * int(empty.sum())
