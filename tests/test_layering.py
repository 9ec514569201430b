"""Dependency rules of milo_voice, read from the source with `ast` (nothing is imported or run).

Every import counts, wherever it sits: at module level, inside a function, or under
`if TYPE_CHECKING:`. A lazy import is still an edge. The rooms, bottom to top:

    errors, log, settings   leaves: settings imports only errors
    observability           leaf: the process's Prometheus metrics; every room may count into it
    store                   engine, tables, migrations, the Repo base: imports only leaves
    media                   audio in and out: leaves only
    dialogue                one interview over one Transport: leaves and media's interfaces
    scoring                 rubrics, scorers, reports, webhooks: leaves and store
    outreach, intake        messages to candidates; candidates coming in (see MAY_IMPORT)
    stages                  stage specs, forms, the resume screen, SMS turns: store, dialogue, scoring
    workspace               the recruiter domain, no HTTP: leaves, store, dialogue, scoring
    calls                   a candidate onto a transport, a session run and persisted
    web                     Starlette handlers: anything below; nothing imports it

`cli` is the console script, the process entry above every room (it starts the server).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "milo_voice"
MAX_LINES = 400
MAX_FUNCTION_LINES = 60
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

ROOMS = ("store", "media", "dialogue", "scoring", "outreach", "intake", "stages", "workspace", "calls", "web")
LEAVES = ("errors", "log", "settings", "observability")  # observability: metrics any room reports (issue 21)
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "store": (),
    "media": (),
    "dialogue": ("media",),  # only its interfaces: see test_dialogue_sees_only_media_interfaces
    "scoring": ("store",),
    "outreach": ("store",),
    "intake": ("store", "scoring", "outreach"),
    "stages": ("store", "dialogue", "scoring"),
    "workspace": ("store", "dialogue", "scoring", "outreach", "intake", "stages"),
    "calls": ("store", "media", "dialogue", "scoring", "outreach", "intake", "stages", "workspace"),
    "web": ("store", "media", "dialogue", "scoring", "outreach", "intake", "stages", "workspace", "calls"),
}
MEDIA_INTERFACES = ("milo_voice.media.types",)
"""The media modules dialogue may import: frames, the Transport and engine Protocols."""


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def ours(edges: list[Edge]) -> list[Edge]:
    return [e for e in edges if within(e.imported, "milo_voice") and e.imported != "milo_voice"]


def test_the_package_root_holds_only_the_leaves_the_entry_and_the_rooms() -> None:
    root = {path.stem if path.is_file() else path.name for path in PACKAGE.iterdir()
            if path.name != "__pycache__" and (path.suffix == ".py" or (path / "__init__.py").exists())}
    assert root == {"__init__", "cli", *LEAVES, *ROOMS}


def test_each_room_imports_only_the_rooms_below_it(edges: list[Edge]) -> None:
    bad = []
    for e in ours(edges):
        src, dst = room(e.importer), room(e.imported)
        if src == dst or dst in ("errors", "log", "observability") or src in ("cli", ""):
            continue
        if src in LEAVES:
            if not (src == "settings" and dst == "errors"):
                bad.append(str(e))
        elif dst == "settings":
            continue
        elif dst not in MAY_IMPORT[src]:
            bad.append(str(e))
    assert sorted(set(bad)) == [], "imports run one way: see the table at the top of this file"


def test_nothing_imports_web(edges: list[Edge]) -> None:
    bad = sorted({str(e) for e in ours(edges) if within(e.imported, "milo_voice.web")
                  and not within(e.importer, "milo_voice.web") and e.importer != "milo_voice.cli"})
    assert bad == [], "web is the top: nothing in the package imports it"


def test_media_imports_nothing_of_the_rooms_above(edges: list[Edge]) -> None:
    rooms = ("dialogue", "calls", "scoring", "outreach", "intake", "stages", "workspace", "store", "web")
    above = tuple(f"milo_voice.{r}" for r in rooms)
    assert forbidden(edges, ("milo_voice.media",), above) == []


def closure(edges: list[Edge], start: str) -> set[str]:
    """Every module of ours reachable from the modules under `start`."""
    graph: dict[str, set[str]] = {}
    for e in ours(edges):
        graph.setdefault(e.importer, set()).add(e.imported)
    seen: set[str] = set()
    todo = [m for m in graph if within(m, start)]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += graph.get(module, ())
    return seen


def test_scoring_reaches_no_media_directly_or_through_settings(edges: list[Edge]) -> None:
    reached = sorted(m for m in closure(edges, "milo_voice.scoring") if within(m, "milo_voice.media"))
    assert reached == []


def test_dialogue_sees_only_media_interfaces(edges: list[Edge]) -> None:
    bad = sorted({str(e) for e in edges if within(e.importer, "milo_voice.dialogue")
                  and within(e.imported, "milo_voice.media") and e.imported != "milo_voice.media"
                  and not within(e.imported, *MEDIA_INTERFACES)})
    assert bad == [], "dialogue gets engines and a Transport through media's Protocols"


def test_dialogue_stays_off_storage(edges: list[Edge]) -> None:
    assert forbidden(edges, ("milo_voice.dialogue",), PERSISTENCE) == []


def test_only_store_and_repositories_import_the_orm(edges: list[Edge]) -> None:
    """The ORM is for the store room and the repositories (Repo subclasses) of the rooms above."""
    allowed = ("milo_voice.store", "milo_voice.calls", "milo_voice.scoring", "milo_voice.outreach",
               "milo_voice.intake", "milo_voice.workspace")
    bad = sorted(str(e) for e in edges
                 if within(e.imported, *PERSISTENCE) and not within(e.importer, *allowed))
    assert bad == [], "media, dialogue and web never touch the ORM"


def test_no_module_is_over_400_lines() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    oversized = {name: lines for name, lines in sorted(sizes.items()) if lines > MAX_LINES}
    assert oversized == {}, f"split these modules (lines): {oversized}"


def test_no_function_is_over_60_lines_outside_migrations() -> None:
    long = {}
    for name, path in modules().items():
        if within(name, "milo_voice.store.migrations"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{name}.{node.name}"] = lines
    assert long == {}, f"split these functions (lines): {long}"


def test_only_the_store_opens_database_sessions_and_every_repository_is_a_repo() -> None:
    """One unit-of-work boilerplate: `Session(...)` is opened in `store/` only, and every class that
    uses a unit of work (`self.unit()`) derives from `store.repo.Repo`."""
    opened, bases, repos = [], {}, set()
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Session"
                    and not within(name, "milo_voice.store")):
                opened.append(f"{name} line {node.lineno}")
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
                source = ast.unparse(node)
                if "self.unit()" in source and node.name != "Repo":
                    repos.add(node.name)

    def is_repo(cls: str, seen: frozenset[str] = frozenset()) -> bool:
        return cls == "Repo" or any(is_repo(b, seen | {cls}) for b in bases.get(cls, []) if b not in seen)

    assert opened == [], "open a unit of work with Repo.unit(), not a Session of your own"
    assert len(repos) >= 8, f"expected the package's repositories, found {sorted(repos)}"
    assert sorted(r for r in repos if not is_repo(r)) == []


def test_no_bench_module_shadows_a_test_folder() -> None:
    """Tests put bench/ on sys.path; a bench module named like a test folder without __init__.py
    (a namespace package) wins the import and breaks e.g. `from scorer.scoring_builders import`."""
    repo = Path(__file__).resolve().parents[1]
    folders = {p.name for p in (repo / "tests").iterdir() if p.is_dir()}
    modules = {p.stem for p in (repo / "bench").glob("*.py")}
    assert not folders & modules, f"rename these bench modules: {sorted(folders & modules)}"


SELF_IDENTIFICATION = (
    "milo_voice.store.tables.self_identification",
    "milo_voice.store.tables.SelfIdentification",
    "milo_voice.store.tables.Sex",
    "milo_voice.store.tables.RaceEthnicity",
    "milo_voice.workspace.self_identification",
)
"""The voluntary self-identification (issue 20 item 4): its table, its categories and its writer."""
READ_BY_THE_AUDIT_ONLY = (
    "milo_voice.store.tables",  # registers every table for Alembic
    "milo_voice.store.tables.self_identification",
    "milo_voice.workspace.self_identification",  # the writer
    "milo_voice.workspace.bias_audit",  # the aggregate audit
    # the candidate's own form on their thank-you page: writes through the writer, shows nothing back
    # (the admin page, web/workspace/bias_audit_pages.py, needs no entry: it reads the audit only)
    "milo_voice.web.self_id_candidate",
)


def test_only_the_audit_and_the_writer_import_self_identification(edges: list[Edge]) -> None:
    """Scorers, reviewer pages, exports and the API never see what a candidate self-identified."""
    bad = sorted({str(e) for e in edges if within(e.imported, *SELF_IDENTIFICATION)
                  and e.importer not in READ_BY_THE_AUDIT_ONLY})
    assert bad == [], "self-identification is for the bias audit only (docs/bias_audit.md)"
    assert forbidden(edges, ("milo_voice.scoring",), SELF_IDENTIFICATION) == []
    # nor indirectly: scoring reaches neither the writer nor the audit (the tables package registers the
    # table class for Alembic, which every importer of `milo_voice.store.tables` reaches by name only)
    readers = ("milo_voice.workspace.self_identification", "milo_voice.workspace.bias_audit")
    assert sorted(m for m in closure(edges, "milo_voice.scoring") if within(m, *readers)) == []


ACCOMMODATION = (
    "milo_voice.workspace.accommodations",
    "milo_voice.store.tables.Accommodation",
    "milo_voice.store.tables.AccommodationStatus",
    "milo_voice.store.tables.compliance.Accommodation",
    "milo_voice.store.tables.compliance.AccommodationStatus",
)
"""A candidate's accommodations (issue 20 item 5): its reader and writer, its table and statuses."""
JUDGES = (
    "milo_voice.scoring",
    "milo_voice.stages",
    "milo_voice.workspace.pipeline",
    "milo_voice.workspace.voice_stage",
    "milo_voice.workspace.resume_stage",
    "milo_voice.workspace.sms_stage",
    "milo_voice.workspace.stage_settings",
    "milo_voice.workspace.written_interview",  # the written path is judged as a form, blind to why
)
"""Every module that scores answers or judges a stage."""


def test_no_scorer_or_stage_judge_reads_accommodations(edges: list[Edge]) -> None:
    """Extra time and the written path reach the interview, never whoever judges it (docs/compliance.md)."""
    assert forbidden(edges, JUDGES, ACCOMMODATION) == []
    # nor indirectly (the tables package registers every table class for Alembic, so only the reader and
    # writer can be checked this way)
    reached = set().union(*(closure(edges, judge) for judge in JUDGES))
    assert sorted(m for m in reached if within(m, "milo_voice.workspace.accommodations")) == []
    # the rule guards something real: the call path reads the accommodation for the turn-taking
    assert any(e.importer == "milo_voice.calls.run" and e.imported in ACCOMMODATION for e in edges)
