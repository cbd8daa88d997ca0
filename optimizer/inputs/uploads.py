"""Read an instance that arrives as bytes (a web upload): a workbook, or a zip archive of CSV files.

Owns only turning the upload into files in a folder the caller owns, with the same bounds as the reader:
the upload's size, and for a zip of CSV files the archive's parts, unpacked size and compression ratio
(counted while unpacking, not taken from the archive's own claims). Only the file names are kept (no
folders, no absolute paths, no links), so nothing is written outside the folder. The files are then read
by `read_instance`, so a workbook gets every check the command line's reader makes.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from .data import SourcingData
from .errors import InputError, Problem
from .reader import check_archive_size
from .schema import MAX_ARCHIVE_PARTS, MAX_COMPRESSION_RATIO, MAX_UNCOMPRESSED_BYTES

#: Largest upload accepted (the app's upload widget is set to the same limit).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

#: Bytes unpacked at a time from a zip archive.
_CHUNK = 1 << 20


def _refuse(name: str, why: str) -> InputError:
    return InputError([Problem(None, None, None, f"'{name}' {why}")])


def safe_file_name(name: str) -> str:
    """The last part of an uploaded file's name, with characters a file name should not hold replaced."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    base = re.sub(r"[^\w .()+-]", "_", base).strip(" .")
    return base[:120] or "upload"


def read_upload(name: str, content: bytes, folder: str | Path) -> SourcingData:
    """Validated data from an uploaded .xlsx workbook or .zip archive of CSV files, written under folder.

    Raises InputError (with the reader's own wording for a bad workbook) for anything refused.
    """
    from . import read_instance

    folder = Path(folder)
    file_name = safe_file_name(name)
    if len(content) > MAX_UPLOAD_BYTES:
        raise _refuse(file_name, f"is {len(content) / 2**20:,.1f} MiB, more than the upload limit of "
                                 f"{MAX_UPLOAD_BYTES / 2**20:,.0f} MiB.")
    suffix = Path(file_name).suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".zip"):
        raise _refuse(file_name, "is neither an .xlsx workbook nor a .zip archive of CSV files.")
    upload = folder / "upload"
    upload.mkdir(parents=True, exist_ok=True)
    if suffix == ".zip":
        archive = upload / file_name
        archive.write_bytes(content)
        instance = unpack_csv_archive(archive, upload / Path(file_name).stem)
    else:
        instance = upload / file_name
        instance.write_bytes(content)
    return read_instance(instance)


def unpack_csv_archive(archive: str | Path, target: str | Path) -> Path:
    """Unpack the .csv files of a zip archive into the folder target (created; file names only).

    Refused: a file that is not a zip archive, more than MAX_ARCHIVE_PARTS parts, more than
    MAX_UNCOMPRESSED_BYTES unpacked, a part compressed more than MAX_COMPRESSION_RATIO:1 (zip bombs),
    links, encrypted parts, two parts with one file name, and an archive with no .csv file.
    """
    archive, target = Path(archive), Path(target)
    name = archive.name
    if not zipfile.is_zipfile(archive):
        raise _refuse(name, "is not a zip archive; zip the folder of CSV files, or upload an .xlsx workbook.")
    target.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as source:
            parts = source.infolist()
            check_archive_size(parts, name)
            wanted: dict[str, zipfile.ZipInfo] = {}
            for part in parts:
                if part.is_dir():
                    continue
                base = PurePosixPath(part.filename.replace("\\", "/")).name
                if base.startswith(".") or "__MACOSX" in part.filename or not base.lower().endswith(".csv"):
                    continue  # notes, pictures and the Finder's extras are not sheets
                if stat.S_ISLNK(part.external_attr >> 16):
                    raise _refuse(name, f"has a link ('{part.filename}'); zip the CSV files themselves.")
                if part.flag_bits & 0x1:
                    raise _refuse(name, f"has an encrypted part ('{part.filename}'); zip it without a password.")
                if safe_file_name(base) != base:
                    raise _refuse(name, f"has a file name that cannot be used ('{part.filename}'); rename it to "
                                        "<sheet>.csv.")
                if base in wanted:
                    raise _refuse(name, f"has two files named '{base}' ('{wanted[base].filename}' and "
                                        f"'{part.filename}'); keep one of them.")
                wanted[base] = part
            if not wanted:
                raise _refuse(name, "holds no .csv files.")
            unpacked = 0
            for base, part in wanted.items():
                written = 0
                with source.open(part) as stream, open(target / base, "wb") as out:
                    while chunk := stream.read(_CHUNK):
                        written += len(chunk)
                        unpacked += len(chunk)
                        if unpacked > MAX_UNCOMPRESSED_BYTES:
                            raise _refuse(name, f"unpacks to more than the limit of "
                                                f"{MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MiB.")
                        if written > 2**20 and written > MAX_COMPRESSION_RATIO * max(part.compress_size, 1):
                            raise _refuse(name, f"has a part ('{part.filename}') compressed more than "
                                                f"{MAX_COMPRESSION_RATIO}:1, as zip bombs are; it is refused.")
                        out.write(chunk)
    except zipfile.BadZipFile as exc:
        raise _refuse(name, f"is a damaged zip archive ({exc}).") from None
    return target
