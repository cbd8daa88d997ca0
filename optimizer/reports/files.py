"""Writing files: where an output may go, and writing it so that a failure never leaves a half-written one.

Owns the output paths: `check_outputs` refuses, before any work is done, an output that is one of the
inputs, that is not a regular file (a folder, a FIFO, a device), whose folder cannot exist, or whose
extension does not match what is written; `atomic_write` writes through a temporary file in the target's
folder and renames it. It never decides what goes into a file.

A symlink as an output is followed: the file it points to is replaced atomically (the temporary file and
the rename are in the target's folder) and the link stays a link.
"""

from __future__ import annotations

import os
import secrets
import signal
import stat
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from ..inputs.reader import file_kind


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


#: Permissions of a new file as the user's umask has them (the temporary files are created private).
NEW_FILE_MODE = _default_mode()

#: Leading characters that make a spreadsheet read a CSV cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: What a temporary file's name says between the target's name and its random tail, so that one left by a
#: killed process (kill -9 cannot be caught) is recognisable: `.plan.xlsx.sourcing-unfinished-1a2b3c.tmp`.
TEMPORARY_MARK = ".sourcing-unfinished-"

#: Extensions matplotlib writes (the figure's format is chosen by the extension).
FIGURE_FORMATS = (".png", ".pdf", ".svg", ".svgz", ".eps", ".ps", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


class OutputPathError(ValueError):
    """An output path that cannot or must not be written; the message names the path as the user gave it."""


@dataclass(frozen=True)
class Output:
    """One file or folder a command will write.

    kind: "workbook" (.xlsx), "figure" (a matplotlib format by extension), "pdf" (.pdf), "csv folder" (one CSV per table)
    or "instance" (a folder of CSV files, or a workbook when the name ends in .xlsx).
    option: how the user named it on the command line ("-o/--output", "--png", "OUTPUT"), for messages.
    replace: whether an existing file may be replaced (the template refuses unless --force).
    """

    path: Path
    kind: str
    option: str = ""
    replace: bool = True


def check_outputs(outputs: Iterable[Output], inputs: Iterable[str | Path] = ()) -> None:
    """Refuse every output that cannot be written as asked, before anything is solved or written.

    inputs: the files and folders the command reads; a CSV folder counts with every CSV file in it.
    Raises OutputPathError listing every refused output.
    """
    outputs = list(outputs)
    protected = _input_files(inputs)
    problems = []
    for output in outputs:
        problem = _check_one(output, protected)
        if problem:
            problems.append(f"{_label(output)}: {problem}")
    seen: dict[tuple[int, int] | str, Output] = {}
    for output in outputs:
        key = _identity(output.path)
        if key in seen:
            problems.append(f"{_label(output)} and {_label(seen[key])} are the same path; give each its own.")
        seen[key] = output
    if problems:
        raise OutputPathError("\n".join(problems) if len(problems) == 1 else
                              "cannot write the outputs:\n" + "\n".join(f"  - {p}" for p in problems))


def _label(output: Output) -> str:
    return f"{output.option} '{output.path}'" if output.option else f"'{output.path}'"


def _identity(path: Path) -> tuple[int, int] | str:
    try:
        info = os.stat(path)
        return (info.st_dev, info.st_ino)
    except OSError:
        return os.path.realpath(path)


def _input_files(inputs: Iterable[str | Path]) -> dict[tuple[int, int] | str, Path]:
    """Each input (and each CSV file of an input folder) by its identity, to compare outputs against."""
    protected: dict[tuple[int, int] | str, Path] = {}
    for item in inputs:
        path = Path(item)
        protected[_identity(path)] = path
        if path.is_dir():
            with suppress(OSError):
                for file in path.iterdir():
                    if file.suffix.lower() == ".csv":
                        protected[_identity(file)] = file
    return protected


def _check_one(output: Output, protected: dict) -> str | None:
    path = output.path
    suffix = path.suffix.lower()
    key = _identity(path)
    if key in protected:
        source = protected[key]
        how = "" if os.path.abspath(source) == os.path.abspath(path) else " (the same file under another name)"
        return f"it is the input '{source}'{how}; write to another path so that the input is kept."
    folder_output = output.kind == "csv folder" or (output.kind == "instance" and suffix != ".xlsx")
    if folder_output:
        clash = next((f for f in protected.values() if _identity(f.parent) == key), None)
        if clash is not None:
            return f"it is the folder of the input '{clash}'; write the tables to another folder."
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # the folder check below says which part is missing
        info = None
    except OSError as exc:
        return f"cannot write there ({exc.strerror})."
    if info is not None and stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(path)
        except FileNotFoundError:  # a dangling link: its target is created
            info = None
        except OSError as exc:
            return f"it is a symbolic link that cannot be followed ({exc.strerror})."
    if info is not None:
        if folder_output:
            if not stat.S_ISDIR(info.st_mode):
                return "it exists and is not a folder; give a folder for the CSV files."
        elif not stat.S_ISREG(info.st_mode):
            return f"it is {file_kind(info.st_mode)}, not a regular file; give a file name."
    if output.kind == "workbook" and suffix != ".xlsx":
        return "a workbook's name must end in .xlsx; add the extension."
    if output.kind == "pdf" and suffix != ".pdf":
        return "a PDF's name must end in .pdf; add the extension."
    if output.kind == "figure" and suffix not in FIGURE_FORMATS:
        return (f"a figure's name must end in one of {', '.join(FIGURE_FORMATS)} (the extension chooses "
                "the format); add one.")
    if info is not None and not folder_output and not output.replace:
        return "the file exists; add --force to replace it."
    return _check_folder(path if folder_output else path.parent)


def _check_folder(folder: Path) -> str | None:
    """The folder a file goes into must be a folder (or creatable as one) that the user may write in."""
    folder = folder if str(folder) else Path(".")
    existing = folder
    while not os.path.lexists(existing):
        if existing.parent == existing:
            break
        existing = existing.parent
    try:
        info = os.stat(existing)
    except OSError as exc:
        return f"cannot write there: '{existing}' cannot be used ({exc.strerror})."
    if not stat.S_ISDIR(info.st_mode):
        return f"cannot write there: '{existing}' is a file, not a folder."
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write there: no permission to write in '{existing}'."
    return None


def check_target(path: str | Path) -> Path:
    """The file a write to path replaces: path itself, or what it links to. Refuses a non-regular target."""
    path = Path(path)
    if os.path.islink(path):
        path = Path(os.path.realpath(path))
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise OutputPathError(f"cannot write '{path}': {exc.strerror}.") from None
    if not stat.S_ISREG(info.st_mode):
        raise OutputPathError(f"cannot write '{path}': it is {file_kind(info.st_mode)}, not a regular file.")
    return path


@contextmanager
def _termination_raises():
    """SIGTERM raises SystemExit while a file is written, so that the temporary file is removed as on
    Ctrl-C (KeyboardInterrupt); signal handlers can only be set from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):  # somebody else handles it (a web server): leave theirs
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call write(temporary path) in the target folder, then rename onto path.

    If write raises, or the process is interrupted (Ctrl-C, SIGTERM), the temporary file is removed and
    any earlier file at path is untouched. A symlink is followed: its target is replaced.
    """
    path = Path(path)
    target = check_target(path)
    folder = target.parent if str(target.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    with _termination_raises():
        temporary = _create_temporary(folder, target.name)
        try:
            write(temporary)
            os.chmod(temporary, target.stat().st_mode & 0o777 if target.exists() else NEW_FILE_MODE)
            os.replace(temporary, target)
        except BaseException:
            with suppress(FileNotFoundError):
                temporary.unlink()
            raise
    return path


def _create_temporary(folder: Path, name: str) -> Path:
    for _ in range(100):
        candidate = folder / f".{name}{TEMPORARY_MARK}{secrets.token_hex(3)}.tmp"
        try:
            handle = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.close(handle)
        return candidate
    raise FileExistsError(f"no free temporary name in '{folder}'")


def neutralise(text: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(text, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
