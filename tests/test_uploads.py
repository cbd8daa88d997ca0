"""Uploaded instances (the web app's input): the same tables as the files, the reader's checks, and bounds of
their own for a zip of CSV files; nothing is written outside the folder given."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

import optimizer as so
from hostile import PREFIX, csv_zip, csv_zip_bomb, entity_bomb, far_away_cell, good_workbook, zip_bomb, zip_bytes
from optimizer.inputs import reader, uploads


def error_of(name: str, content: bytes, folder: Path) -> str:
    with pytest.raises(so.InputError) as caught:
        so.read_upload(name, content, folder)
    return f"Error: {caught.value}"


def same_input(a, b) -> bool:
    return all(a.tables[s].equals(b.tables[s]) for s in b.tables) and set(a.tables) == set(b.tables)


def test_a_workbook_upload_reads_as_the_workbook(tmp_path):
    book = good_workbook(tmp_path)
    data = so.read_upload("good.xlsx", book.read_bytes(), tmp_path / "session")
    assert same_input(data, so.read_instance(book))
    assert data.source.startswith(str(tmp_path / "session"))


@pytest.mark.parametrize("inside", ["", "rare_earths_2026/", "a/b/"])
def test_a_zip_of_csv_files_reads_as_the_folder(tmp_path, inside):
    archive = csv_zip(tmp_path, inside=inside)
    data = so.read_upload("instance.zip", archive.read_bytes(), tmp_path / "session")
    assert same_input(data, so.read_instance(so.bundled_instance()))


@pytest.mark.parametrize("build", [zip_bomb, entity_bomb, far_away_cell, csv_zip_bomb])
def test_hostile_uploads_are_refused_with_the_command_lines_words(tmp_path, build):
    path, message = build(tmp_path)
    assert error_of(path.name, path.read_bytes(), tmp_path / "session") == message


def test_a_zip_that_claims_too_much_is_refused_before_unpacking(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UNCOMPRESSED_BYTES", 1000)  # the count while unpacking
    monkeypatch.setattr(reader, "MAX_UNCOMPRESSED_BYTES", 1000)   # the claim checked before, shared with workbooks
    archive = csv_zip(tmp_path)
    total = sum(i.file_size for i in zipfile.ZipFile(archive).infolist())
    assert error_of("instance.zip", archive.read_bytes(), tmp_path / "s") == (
        PREFIX + f"'instance.zip' would unpack to {total / 2**20:,.0f} MiB, more than the limit of 0 MiB.")
    assert not any((tmp_path / "s").rglob("*.csv"))


def test_an_upload_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 2**20)
    assert error_of("big.xlsx", b"x" * (2**20 + 1), tmp_path) == (
        PREFIX + "'big.xlsx' is 1.0 MiB, more than the upload limit of 1 MiB.")
    assert list(tmp_path.iterdir()) == []


def test_names_with_folders_write_only_inside_the_target(tmp_path):
    content = zip_bytes({"../../periods.csv": b"period\nt1\n", "/etc/offers.csv": b"x\n"})
    target = tmp_path / "deep" / "session"
    with pytest.raises(so.InputError):
        so.read_upload("../../evil name?.zip", content, target)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["deep/session/upload/evil name_.zip", "deep/session/upload/evil name_/offers.csv",
                       "deep/session/upload/evil name_/periods.csv"]


def test_links_and_duplicate_names_in_a_zip_are_refused(tmp_path):
    link = zipfile.ZipInfo("periods.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(link, "/etc/passwd")
    assert error_of("links.zip", archive.read_bytes(), tmp_path / "s") == (
        PREFIX + "'links.zip' has a link ('periods.csv'); zip the CSV files themselves.")
    twice = zip_bytes({"a/periods.csv": b"period\n", "b/periods.csv": b"period\n"})
    assert error_of("twice.zip", twice, tmp_path / "t") == (
        PREFIX + "'twice.zip' has two files named 'periods.csv' ('a/periods.csv' and 'b/periods.csv'); keep one of "
                 "them.")


@pytest.mark.parametrize("name, content, why", [
    ("notes.txt", b"hello", "is neither an .xlsx workbook nor a .zip archive of CSV files."),
    ("fake.zip", b"not a zip", "is not a zip archive; zip the folder of CSV files, or upload an .xlsx workbook."),
    ("empty.zip", zip_bytes({"readme.md": b"#"}), "holds no .csv files."),
    ("fake.xlsx", b"PK not really", "is not an .xlsx workbook (an .xlsx file is a zip archive); save it from Excel "
                                    "as .xlsx, or use a folder of CSV files."),
])
def test_uploads_that_are_not_instances(tmp_path, name, content, why):
    assert error_of(name, content, tmp_path) == PREFIX + f"'{name}' {why}"


def test_a_bad_table_in_a_zip_is_named_by_sheet_row_and_column(tmp_path):
    folder = so.bundled_instance()
    members = {f.name: f.read_bytes() for f in folder.glob("*.csv")}
    members["demand.csv"] = members["demand.csv"].replace(b"\n", b"\nNdPr oxide,2026Q1,-5\n", 1)
    message = error_of("bad.zip", zip_bytes(members), tmp_path)
    assert "sheet 'demand', row 2, column 'quantity'" in message


@pytest.mark.parametrize("build", [zip_bomb, entity_bomb, far_away_cell, csv_zip_bomb])
def test_hostile_uploads_are_refused_in_the_page(tmp_path, build, monkeypatch):
    """Each hostile file uploaded through the Input page's uploader: the page shows the command line's
    message, keeps the input it had, and leaves nothing of the upload in the session's folder."""
    from appdriver import page, session, start

    at = start(monkeypatch)
    try:
        page(at, "Input")
        before = session(at).source
        path, message = build(tmp_path)
        mime = "application/zip" if path.suffix == ".zip" else \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        at.get("file_uploader")[0].set_value((path.name, path.read_bytes(), mime)).run()
        assert not at.exception, at.exception
        assert [c.value for c in at.code if c.value.startswith("Error: ")] == [message]
        assert session(at).source == before
        assert not [p for p in session(at).folder.glob("upload-*/**/*") if p.is_file()]
    finally:
        session(at).close()
