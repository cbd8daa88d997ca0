"""Hostile files for the upload tests (the app's page and its reader): each builder writes one and returns it
with the exact message the command line gives for it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import optimizer as so
from test_hardening_io import add_cells, rewrite_part

PREFIX = "Error: The input has a problem: "


def good_workbook(folder: Path, name: str = "good.xlsx") -> Path:
    return so.write_tables(so.read_tables(so.bundled_instance()), folder / name)


def zip_bomb(folder: Path) -> tuple[Path, str]:
    """A workbook with a part of 300 MiB of zeros (about 300 KiB compressed)."""
    bomb = good_workbook(folder, "bomb.xlsx")
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet99.xml", "w") as part:
            for _ in range(300):
                part.write(b"0" * 2**20)
    return bomb, PREFIX + "'bomb.xlsx' would unpack to 300 MiB, more than the limit of 256 MiB."


def entity_bomb(folder: Path) -> tuple[Path, str]:
    """Billion laughs in the first worksheet."""
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                        for i in range(1, 10))
              + ']><worksheet>&lol9;</worksheet>')
    source = good_workbook(folder)
    bomb = rewrite_part(source, folder / "entities.xlsx", None, laughs, part="xl/worksheets/sheet1.xml")
    return bomb, PREFIX + ("'entities.xlsx' has a part ('xl/worksheets/sheet1.xml') that declares XML entities; "
                           "it is refused.")


def far_away_cell(folder: Path) -> tuple[Path, str]:
    """One cell at XFD900000 in the periods sheet: a reader that allocated the extent would need gigabytes."""
    far = rewrite_part(good_workbook(folder), folder / "far.xlsx", "periods", lambda xml: add_cells(
        xml, '<row r="900000"><c r="XFD900000" t="inlineStr"><is><t>x</t></is></c></row>'))
    return far, PREFIX + ("sheet 'periods': its cells reach column XFD (column 16,384), beyond the limit of 1,000 "
                          "columns; delete anything far to the right of the table.")


def csv_zip(folder: Path, name: str = "instance.zip", inside: str = "rare_earths_2026/") -> Path:
    """The bundled instance's CSV files zipped (in a folder inside the archive, as zipping a folder does)."""
    target = folder / name
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(so.bundled_instance().glob("*.csv")):
            archive.write(file, inside + file.name)
    return target


def csv_zip_bomb(folder: Path) -> tuple[Path, str]:
    """A zip of CSV files one of which is 100 MiB of commas, compressed about 1000:1."""
    target = csv_zip(folder, "csvbomb.zip")
    with zipfile.ZipFile(target, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("rare_earths_2026/notes.csv", "w") as part:
            for _ in range(100):
                part.write(b"," * 2**20)
    return target, PREFIX + ("'csvbomb.zip' has a part ('rare_earths_2026/notes.csv') compressed more than 200:1, "
                             "as zip bombs are; it is refused.")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
