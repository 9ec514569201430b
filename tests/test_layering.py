"""Dependency rules of milo_voice, read from the source with `ast` (nothing is imported or run).

Every import counts, wherever it sits: at module level, inside a function, or under
`if TYPE_CHECKING:`. A lazy import is still an edge; only `milo_voice.cli`, the composition
entry, may reach `milo_voice.web`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "milo_voice"
MAX_LINES = 500
PERSISTENCE = ("sqlmodel", "sqlalchemy", "alembic")


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} (line {self.line})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (relative imports resolved against the importer)."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path) -> list[Edge]:
    """Every module `name` imports; `from pkg import sub` counts as importing `pkg.sub` too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    edges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            edges += [Edge(name, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(name, path.name == "__init__.py", node)
            edges.append(Edge(name, target, node.lineno))
            edges += [Edge(name, f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return edges


def within(module: str, *roots: str) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    found = [edge for name, path in modules().items() for edge in imports_of(name, path)]
    assert len(found) > 100, "expected to parse the whole package"
    return found


def forbidden(edges: list[Edge], importers: tuple[str, ...], targets: tuple[str, ...]) -> list[str]:
    return sorted({str(e) for e in edges if within(e.importer, *importers) and within(e.imported, *targets)})


# -- the parser itself ---------------------------------------------------------------------


def test_relative_and_from_imports_resolve_to_absolute_modules(tmp_path: Path) -> None:
    source = "from . import vad\nfrom ..dialogue import session\nimport sqlalchemy.orm\n"
    path = tmp_path / "x.py"
    path.write_text("def f():\n    from milo_voice import web\n" + source)
    targets = {e.imported for e in imports_of("milo_voice.media.x", path)}
    assert {
        "milo_voice.web",
        "milo_voice.media.vad",
        "milo_voice.dialogue.session",
        "sqlalchemy.orm",
    } <= targets


# -- the rules ---------------------------------------------------------------------------


def test_media_knows_nothing_of_interviews_storage_or_http(edges: list[Edge]) -> None:
    bad = forbidden(
        edges,
        ("milo_voice.media",),
        tuple(f"milo_voice.{m}" for m in ("dialogue", "scoring", "web", "store", "models", "db", "persist")),
    )
    assert bad == [], "media must not import these; move the shared type down into media"


def test_dialogue_stays_off_http_storage_and_the_simulated_transport(edges: list[Edge]) -> None:
    bad = forbidden(
        edges,
        ("milo_voice.dialogue",),
        (
            "milo_voice.web",
            "milo_voice.store",
            "milo_voice.models",
            "milo_voice.db",
            "milo_voice.media.file_transport",
            *PERSISTENCE,
        ),
    )
    assert bad == [], "dialogue emits events; web/persist store them, and it gets a Transport"


def test_only_cli_reaches_web(edges: list[Edge]) -> None:
    bad = sorted(
        str(e)
        for e in edges
        if within(e.imported, "milo_voice.web")
        and not within(e.importer, "milo_voice.web")
        and e.importer != "milo_voice.cli"
    )
    assert bad == [], "web is the composition root: nothing but cli may import it"


def test_only_the_storage_modules_import_the_orm(edges: list[Edge]) -> None:
    allowed = ("milo_voice.models", "milo_voice.store", "milo_voice.db", "milo_voice.migrations")
    allowed += ("milo_voice.phone_store",)  # the phone channel's repository (issue 3)
    allowed += ("milo_voice.scoring.store", "milo_voice.scoring.job_table")  # scoring repositories (issue 6)
    allowed += ("milo_voice.workspace",)  # workspace repositories (issue 5)
    bad = sorted(
        str(e) for e in edges if within(e.imported, *PERSISTENCE) and not within(e.importer, *allowed)
    )
    assert bad == [], "only models.py, store.py, db.py and migrations/ may import sqlmodel/sqlalchemy/alembic"


def test_no_module_is_over_500_lines() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    oversized = {name: lines for name, lines in sorted(sizes.items()) if lines > MAX_LINES}
    assert oversized == {}, f"split these modules (lines): {oversized}"
