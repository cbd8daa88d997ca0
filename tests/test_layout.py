"""The stages import in one direction: a lower stage never imports a higher one, and the
interfaces use only the public API (`optimizer` itself).

Read from the source with ast, so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "optimizer"
STAGES = ["inputs", "model", "solving", "analysis", "reports", "interfaces"]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module under optimizer) of every import in a module of the package."""
    here = path.relative_to(PACKAGE.parent).with_suffix("").parts  # ('optimizer', 'solving', 'results')
    package = here[:-1] if here[-1] != "__init__" else here[:-1]
    if path.name == "__init__.py":
        package = here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ((node.module,) if node.module else ()))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name == "optimizer" or name.startswith("optimizer.")]


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _stage(".".join(p.relative_to(PACKAGE.parent).parts)))


def test_every_module_belongs_to_a_stage():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert loose == [], f"modules outside the stage subpackages: {loose}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_flow_one_way(path):
    own = _stage(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
    wrong = []
    for line, module in _imports(path):
        target = _stage(module)
        if own == "interfaces":
            if module != "optimizer" and target != "interfaces":
                wrong.append(f"line {line}: {module} (interfaces use the public API)")
        elif target is None or STAGES.index(target) > STAGES.index(own):
            wrong.append(f"line {line}: {module}")
    assert wrong == [], f"{path.relative_to(PACKAGE)} ({own}) imports a higher stage: {wrong}"


def test_the_checker_sees_a_violation(tmp_path):
    """The test above can fail: a lower stage importing a higher one is found."""
    fake = PACKAGE / "inputs" / "_layout_probe.py"
    fake.write_text("from ..solving.results import Result\n")
    try:
        assert _imports(fake) == [(1, "optimizer.solving.results")]
    finally:
        fake.unlink()


def test_every_subpackage_is_installed():
    """A non-editable install (the README's first command) ships only the packages pyproject lists."""
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    present = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert present - listed == set(), f"add these packages to pyproject.toml: {sorted(present - listed)}"
