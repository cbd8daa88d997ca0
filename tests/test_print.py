"""The plan workbook on paper: long text wrapped in rows tall enough for it, text clear of the numbers beside it,
charts clear of their tables and of page breaks."""

from __future__ import annotations

import pandas as pd
import pytest

import optimizer as so
from conftest import make, supplier

#: One material, China capped at 50%: Lynas must supply the rest, so the cap and Lynas's capacity bind.
SMALL = dict(
    materials=[{"material": "Dy", "unit": "kg", "shortage_penalty": 1000, "holding_cost": 0}],
    demand=[{"material": "Dy", "period": "t1", "quantity": 100}],
    suppliers=[supplier("China", "contract", "China"), supplier("Lynas", "contract", "Malaysia")],
    offers=[{"supplier": "China", "material": "Dy", "price": 10},
            {"supplier": "Lynas", "material": "Dy", "price": 30}],
    origin_caps=[{"country": "China", "max_share": 0.5}],
)

#: A message of 400 characters: at any column width a person can read (at most 120 characters), 4 lines or more.
LONG = ("Planning for the average future signs contracts that break the rules in some scenario: " * 5).strip()


def column_of(sheet, header: str) -> int:
    return next(c.column for c in sheet[1] if c.value == header)


def test_the_meaning_of_each_shadow_price_is_wrapped_in_a_row_tall_enough(tmp_path):
    import openpyxl

    path = so.write_plan(so.solve(so.bundled_instance()), tmp_path / "plan.xlsx")
    sheet = openpyxl.load_workbook(path)["Shadow prices"]
    column = column_of(sheet, "Meaning")
    letter = sheet.cell(row=1, column=column).column_letter
    width = sheet.column_dimensions[letter].width
    assert 40 <= width <= 120  # readable, and not the whole page
    meanings = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    assert meanings and all(c.alignment.wrap_text for c in meanings)
    long = [c for c in meanings if c.value and len(c.value) > 1.3 * width]  # more than one line at any font
    assert long  # with the bundled CVaR weight a cap's meaning names the objective, the cap and the material
    for cell in long:
        assert sheet.row_dimensions[cell.row].height >= 30, cell.value


def test_the_vss_sheets_long_message_is_wrapped_and_its_row_shows_every_line(tmp_path):
    import openpyxl

    result = so.solve(so.from_frames(make(**SMALL)))
    information = pd.DataFrame({"measure": ["RP", "VSS = EEV - RP"], "value": [1.0, None],
                                "status": ["optimal", "infeasible"], "unit": ["USD", "USD"],
                                "meaning": ["optimal objective of the stochastic plan", LONG]})
    path = so.write_plan(result, tmp_path / "plan.xlsx", information)
    sheet = openpyxl.load_workbook(path)["VSS and EVPI"]
    column = column_of(sheet, "Meaning")
    width = sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width
    message = sheet.cell(row=3, column=column)
    assert message.value == LONG and message.alignment.wrap_text
    assert width <= 120
    # 400 characters in a column of at most 120: four lines or more, 15 points each
    assert sheet.row_dimensions[3].height >= 15 * 4
    assert sheet.row_dimensions[2].height in (None, 15)  # a short meaning keeps one line


def test_text_beside_a_number_is_indented_on_why_no_plan(tmp_path):
    """A right-aligned 'Relax to' percent otherwise touches its unit: '89.3%share of demand'."""
    import openpyxl

    data = so.from_frames(make(**dict(SMALL, origin_caps=[{"country": "China", "max_share": 0.0}],
                                      service_levels=[{"min_fill_rate": 1.0}],
                                      offers=[{"supplier": "China", "material": "Dy", "price": 10}])))
    result = so.solve(data)
    assert result.status == "infeasible"
    path = so.write_plan(result, tmp_path / "plan.xlsx")
    sheet = openpyxl.load_workbook(path)["Why no plan"]
    unit = sheet.cell(row=2, column=column_of(sheet, "Unit"))
    assert unit.value == "share of demand"
    # LibreOffice shows an indent only with a horizontal alignment
    assert unit.alignment.indent >= 1 and unit.alignment.horizontal == "left"
    assert sheet.cell(row=2, column=column_of(sheet, "Relax to")).number_format == "0.0%"


@pytest.fixture(scope="module")
def bundled_plan(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "plan.xlsx"
    return so.write_plan(so.solve(so.bundled_instance()), path)


def chart_anchors(path, sheet_name: str) -> list[tuple[int, int, int, int]]:
    """Each chart's cells on a sheet, 0-based and inclusive: (first row, first column, last row, last column)."""
    import re
    import zipfile

    import openpyxl

    index = openpyxl.load_workbook(path, read_only=True).sheetnames.index(sheet_name) + 1
    with zipfile.ZipFile(path) as archive:
        rels = archive.read(f"xl/worksheets/_rels/sheet{index}.xml.rels").decode()
        drawing = re.search(r'Target="\.\./drawings/(drawing\d+\.xml)"', rels).group(1)
        xml = archive.read(f"xl/drawings/{drawing}").decode()
    anchors = []
    for block in re.findall(r"<xdr:twoCellAnchor.*?</xdr:twoCellAnchor>", xml, flags=re.S):
        (c1, r1), (c2, r2) = [(int(c), int(r)) for c, r in re.findall(
            r"<xdr:(?:from|to)><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>", block, flags=re.S)]
        anchors.append((r1, c1, r2, c2))
    return anchors


def test_the_charts_stand_clear_of_every_table_and_of_each_other(bundled_plan):
    import openpyxl

    sheet = openpyxl.load_workbook(bundled_plan)["Charts"]
    anchors = chart_anchors(bundled_plan, "Charts")
    assert len(anchors) == 4 + 2  # a supply chart per material, cost by scenario, share against the cap
    filled = {(c.row - 1, c.column - 1) for row in sheet.iter_rows() for c in row if c.value is not None}
    for r1, c1, r2, c2 in anchors:
        under = {(r, c) for (r, c) in filled if r1 <= r <= r2 and c1 <= c <= c2}
        assert not under, (r1, c1, r2, c2, sorted(under)[:3])
    for i, a in enumerate(anchors):
        for b in anchors[i + 1:]:
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (a, b)


def test_a_wrapped_header_on_the_charts_sheet_has_a_row_tall_enough(bundled_plan):
    """'Expected China share (any stage)' in a column 14 characters wide takes three lines, so its row must be
    taller than one line, or the header climbs over the table's title above it."""
    import openpyxl

    sheet = openpyxl.load_workbook(bundled_plan)["Charts"]
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "Expected China share (any stage)")
    width = sheet.column_dimensions[cell.column_letter].width
    assert width < len(cell.value) / 2  # at least two lines in any font
    assert (sheet.row_dimensions[cell.row].height or 15) >= 30
    makers = next(c for row in sheet.iter_rows() for c in row if c.value == "China magnet makers")
    assert sheet.column_dimensions[makers.column_letter].width < len(makers.value)
    assert (sheet.row_dimensions[makers.row].height or 15) >= 30


def test_no_page_break_cuts_a_chart_or_its_table(bundled_plan):
    import openpyxl

    sheet = openpyxl.load_workbook(bundled_plan)["Charts"]
    breaks = [b.id for b in sheet.row_breaks.brk]  # a page ends after 1-based row id: 0-based row id starts one
    assert breaks  # six charts and their tables do not fit one landscape page
    anchors = chart_anchors(bundled_plan, "Charts")
    for r1, _, r2, _ in anchors:
        assert not [b for b in breaks if r1 < b <= r2], (r1, r2, breaks)
    # a table: the rows with numbers under a header, never split across pages
    numbers = sorted({c.row - 1 for row in sheet.iter_rows() for c in row if isinstance(c.value, (int, float))})
    for b in breaks:
        assert not (b - 1 in numbers and b in numbers), b


def test_on_paper_each_chart_is_on_the_page_of_its_table(bundled_plan, tmp_path):
    """Converted by LibreOffice: on every page, each supply chart's title comes with its table's title, the
    table's last period and the chart's axis (its first periods in a row); before, the last chart's axis and
    half its table fell on the next page, and wrapped headers overprinted the table titles."""
    import re
    import shutil
    import subprocess

    assert shutil.which("soffice") and shutil.which("pdftotext"), "LibreOffice and poppler are needed"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(bundled_plan)], check=True, capture_output=True,
                   timeout=300)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "plan.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = [page for page in text.split("\f") if page.strip().startswith("Charts")]
    materials = ["NdPr oxide", "Dy oxide", "Tb oxide", "NdFeB magnets"]  # the bundled instance's
    seen = []
    for page in pages:
        for material in materials:
            if f"{material}: expected supply by supplier" in page:
                seen.append(material)
                assert f"{material}: expected supply (kg per period)" in page, material
                table = page.split(f"{material}: expected supply (kg per period)")[1]
                assert re.search(r"^2028Q4\s", table, flags=re.M), material
        axes = len(re.findall(r"2026Q1 +2026Q2 +2026Q3", page))
        assert axes == sum(f"{m}: expected supply by supplier" in page for m in materials)
    assert sorted(seen) == sorted(materials)


def test_the_input_sheets_wrap_their_source_notes(bundled_plan):
    """The bundled offers cite their sources in notes of up to 300 characters; unwrapped they ran on past the
    table and the printed sheet shrank to unreadable type."""
    import openpyxl

    sheet = openpyxl.load_workbook(bundled_plan)["In offers"]
    column = column_of(sheet, "source")
    width = sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width
    assert width <= 120
    notes = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    long = [c for c in notes if c.value and len(c.value) > 2.6 * width]  # three lines or more in any font
    assert long
    for cell in long:
        assert cell.alignment.wrap_text and cell.alignment.horizontal == "left" and cell.alignment.indent >= 1
        assert sheet.row_dimensions[cell.row].height >= 45, cell.value


@pytest.mark.parametrize("sheet_name", ["Plan", "Shadow prices"])
def test_the_note_on_rows_worth_nothing_is_in_the_page_header_and_off_the_print_area(tmp_path, sheet_name):
    """The note beside the first row worth nothing would widen the printed page: on paper it is the page
    header's, and the print area ends at the table's last column."""
    import openpyxl

    path = so.write_plan(so.solve(so.bundled_instance()), tmp_path / "plan.xlsx")
    sheet = openpyxl.load_workbook(path)[sheet_name]
    headers = [c.value for c in sheet[1] if c.value is not None]
    notes = [c for row in sheet.iter_rows(min_row=2) for c in row
             if isinstance(c.value, str) and c.value.startswith("From here:")]
    assert len(notes) == 1 and notes[0].column == len(headers) + 1
    last = sheet.cell(row=1, column=len(headers)).column_letter
    assert sheet.print_area == [f"'{sheet_name}'!$A$1:${last}${sheet.max_row}"] or \
        str(sheet.print_area).endswith(f"$A$1:${last}${sheet.max_row}")
    assert f"from row {notes[0].row}," in sheet.oddHeader.left.text


def test_every_indented_cell_of_the_summary_and_why_sheets_is_left_aligned(tmp_path):
    """LibreOffice drops an indent without a horizontal alignment: '65.1%highest 68.4% against a cap'."""
    import openpyxl

    data = so.bundled_instance()
    result = so.solve(data)
    why = so.why_these_suppliers(result.data, result.variables)
    book = openpyxl.load_workbook(so.write_plan(result, tmp_path / "plan.xlsx", why=why))
    indented = [cell for name in ("Summary", "Why") for row in book[name].iter_rows() for cell in row
                if cell.value is not None and cell.alignment.indent]
    assert len(indented) > 10
    assert {cell.alignment.horizontal for cell in indented} == {"left"}
    summary = book["Summary"]
    words = next(c for row in summary.iter_rows() for c in row if str(c.value).startswith("highest "))
    assert words.alignment.indent >= 1
