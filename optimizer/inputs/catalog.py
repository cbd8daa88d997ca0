"""The instances shipped with the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_INSTANCE = "rare_earths_2026"


def bundled_instance(name: str = DEFAULT_INSTANCE) -> Path:
    """Folder of a bundled instance (the CSV files under instances/)."""
    try:
        folder = Path(str(resources.files("optimizer.bundled") / name))
    except (ModuleNotFoundError, TypeError):
        folder = None
    if folder is None or not folder.is_dir():  # an editable install or a source checkout
        folder = Path(__file__).resolve().parents[2] / "instances" / name
    return folder
