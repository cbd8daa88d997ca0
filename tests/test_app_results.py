"""The Results page shows the plan with the report module's figures, the binding shadow prices most valuable
first, and serves the one-page PDF that `sourcing solve --pdf` writes."""

from __future__ import annotations

import re

import pytest

import optimizer as so
from appdriver import downloaded, session, start, wait
from optimizer.interfaces.cli import main


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
