"""Driving the web app in tests: Streamlit's AppTest on the app script, and workbooks read back to compare."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import optimizer as so

APP = Path(so.__file__).parent / "interfaces" / "app.py"

#: Rows that say when and where a file was made, not what it holds (first cell of the row).
VOLATILE = ("Input", "input", "solved at (UTC)", "hand-over seconds (model to HiGHS)", "solve seconds (HiGHS)",
            "Seconds")

#: The bytes of every file a page offered for download, by Streamlit's file id (filled while a test runs).
SERVED: dict[str, bytes] = {}


def start(monkeypatch, instance: Path | None = None) -> AppTest:
    if instance is not None:
        monkeypatch.setenv("SOURCING_APP_INSTANCE", str(instance))
    else:
        monkeypatch.delenv("SOURCING_APP_INSTANCE", raising=False)
    _keep_served(monkeypatch)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _keep_served(monkeypatch) -> None:
    """Keep what each download button serves: AppTest's media store is gone once a run ends."""
    original = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        SERVED[file_id] = self._files_by_id[file_id].content
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)


def downloaded(at: AppTest, key: str, folder: Path) -> Path:
    """The file the download button with this key serves, written into folder as the browser would save it."""
    button = next(b for b in at.get("download_button") if b.proto.id.endswith(key))
    file_id = Path(button.proto.url).stem
    path = folder / f"downloaded-{key}{Path(button.proto.url).suffix}"
    path.write_bytes(SERVED[file_id])
    return path


def session(at: AppTest):
    return at.session_state["session"]


def wait(at: AppTest, timeout: float = 300) -> AppTest:
    """Run the script until no job of the session runs (the browser's timer does this in the app)."""
    deadline = time.monotonic() + timeout
    while any(job.running for job in session(at).jobs.values()):
        assert time.monotonic() < deadline, "a job did not finish"
        time.sleep(0.3)
        at.run()
    at.run()
    assert not at.exception, at.exception
    return at


def page(at: AppTest, name: str) -> AppTest:
    return at.sidebar.radio(key="page").set_value(name).run()


def texts(element_list) -> list[str]:
    return [element.value for element in element_list]


def read_back(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet's cells, without the rows that name the input's path or a time."""
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    return {name: frame[~frame.iloc[:, 0].isin(VOLATILE)].reset_index(drop=True) if len(frame.columns) else frame
            for name, frame in sheets.items()}


def assert_same_workbook(app_file: Path, cli_file: Path) -> None:
    mine, theirs = read_back(Path(app_file)), read_back(Path(cli_file))
    assert list(mine) == list(theirs), (list(mine), list(theirs))
    for sheet in theirs:
        pd.testing.assert_frame_equal(mine[sheet], theirs[sheet], obj=f"sheet {sheet}")
