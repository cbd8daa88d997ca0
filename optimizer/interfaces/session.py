"""What one browser session of the web app holds: its input, levers, saved cases, answers and jobs.

Each session has its own temporary folder (uploads and the files offered for download, nothing else is
written); it is removed, and the session's worker processes stopped, when the session ends or the
server stops. Nothing here computes: the library does, in the worker processes of `jobs`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import optimizer as so

from . import jobs

#: Environment variable through which `sourcing app INSTANCE` names the instance the app starts from.
INSTANCE_VARIABLE = "SOURCING_APP_INSTANCE"


def _clean_up(folder: str, running: list) -> None:
    for job in running:
        job.cancel()
    shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Session:
    """data: the validated input (None until one is read); source: its name for the page; base: its levers
    as the input sets them; levers: as the user set them; case: a case of the cases sheet applied on top;
    saved: lever settings saved as named cases; jobs: the running or last job of each kind; answers: the
    last finished job of each kind (its value)."""

    folder: Path
    data: object = None
    source: str = ""
    error: object = None
    base: object = None
    levers: object = None
    case: str | None = None
    saved: dict = field(default_factory=dict)
    jobs: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    revision: int = 0  # bumped when the input changes, so widgets keyed on it start from the new values
    _running: list = field(default_factory=list, repr=False)

    @classmethod
    def new(cls) -> Session:
        folder = Path(tempfile.mkdtemp(prefix="sourcing-app-"))
        session = cls(folder=folder)
        session._finalizer = weakref.finalize(session, _clean_up, str(folder), session._running)
        return session

    def close(self) -> None:
        self._finalizer()

    # ------------------------------------------------------------------ the input

    def use(self, data, source: str) -> None:
        """Start from a new input: levers back to its values, earlier answers dropped."""
        for job in list(self.jobs.values()):
            job.cancel()
        self.data, self.source, self.error = data, source, None
        self.base = so.Levers.of(data)
        self.levers = self.base.copy()
        self.case, self.saved, self.jobs, self.answers = None, {}, {}, {}
        self.revision += 1

    def load_default(self) -> None:
        path = os.environ.get(INSTANCE_VARIABLE) or so.bundled_instance()
        try:
            self.use(so.read_instance(path), shown_name(path))
        except so.InputError as error:
            self.error = error

    def upload(self, name: str, content: bytes) -> None:
        folder = self.folder / f"upload-{self.revision + 1}"
        shutil.rmtree(folder, ignore_errors=True)
        try:
            data = so.read_upload(name, content, folder)
        except so.InputError as error:
            self.error = error
            shutil.rmtree(folder, ignore_errors=True)
            return
        self.use(data, name)

    def reset_levers(self) -> None:
        self.levers = self.base.copy()
        self.case = None
        self.revision += 1

    def levered(self, levers=None, case: str | None = None):
        """The input with the levers (then the chosen case) applied; raises InputError. levers, case: other
        settings than the page's (a saved setting's), with its case or none."""
        if levers is None:
            levers, case = self.levers, self.case
        data = levers.apply(self.data, self.base)
        if case is not None:
            data = so.apply_case(data, case, so.case_edits(data)[case])
        return data

    def arguments(self) -> list[str]:
        """The `sourcing solve` options that give the same input."""
        extra = ["--case", self.case] if self.case is not None else []
        return self.levers.arguments(self.base) + extra

    def changes(self) -> list[str]:
        lines = self.levers.changes(self.base)
        if self.case is not None:
            lines.append(f"case: {self.case}")
        return lines

    # ------------------------------------------------------------------ jobs

    def start(self, kind: str, label: str, function, *args) -> jobs.Job:
        """Start a job; one of each kind at a time (a new one replaces the one running)."""
        old = self.jobs.get(kind)
        if old is not None:
            old.cancel()
        folder = self.folder / kind
        folder.mkdir(exist_ok=True)
        job = jobs.start(kind, label, function, *args, str(folder))
        self.jobs[kind] = job
        self._running[:] = [j for j in self._running if j.running] + [job]
        return job

    def poll(self) -> list[jobs.Job]:
        """Poll every job; a finished one's value becomes the answer of its kind. Returns those running."""
        running = []
        for kind, job in list(self.jobs.items()):
            if job.running and job.poll() == "done":
                self.answers[kind] = job.value
                if kind == "solve":
                    job.value["changes"] = getattr(job, "changes", [])
                    if job.value.get("base") is not None:
                        self.answers["base"] = job.value["base"]
            if job.running:
                running.append(job)
        return running


def shown_name(path) -> str:
    """What the page calls an input read from the server's disk: its name, never the server's folders."""
    name = Path(path).name
    return f"the bundled instance ({name})" if Path(path) == Path(so.bundled_instance()) else name
