"""Every table has one writer: the module below that owns its rows. Read from the source with `ast`.

A module *writes* a table when it constructs a row (`Table(...)`), calls `update(Table)`,
`delete(Table)` or `insert(Table)`, deletes a row it holds (`session.delete(row)`), or assigns
attributes on a row it holds (`row.x = ...`, `setattr(row, ...)`). It *holds* a row when it got
it from `session.get(Table, ...)` or any call given the table class (`get_row(session, Table, id)`),
selected it (`session.exec(select(Table)...)`, then `.first()`, a loop, `list(...)`), or took it
as a parameter annotated with the table class. Everything else goes through the writer (its
methods, or its session-level functions when one transaction spans two owners). Migrations and
the table definitions themselves are not writers. Nothing is imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "milo_voice"
TABLES = PACKAGE / "store" / "tables"
NOT_WRITERS = ("milo_voice.store.migrations", "milo_voice.store.tables")

WORKSPACE = "milo_voice.workspace"
WRITERS: dict[str, str] = {
    # the recruiter's domain: interviews, questions (with their rubrics), candidates, accounts
    "interview": f"{WORKSPACE}.interviews",
    "question": f"{WORKSPACE}.interviews",
    "interview_stage": f"{WORKSPACE}.interview_stages",
    "candidate_stage": f"{WORKSPACE}.pipeline",
    "candidate": f"{WORKSPACE}.candidates",
    "candidate_note": f"{WORKSPACE}.candidate_feedback",
    "candidate_rating": f"{WORKSPACE}.candidate_feedback",
    "app_user": f"{WORKSPACE}.accounts",
    "invite": f"{WORKSPACE}.accounts",
    "api_key": f"{WORKSPACE}.accounts",
    "app_secret": f"{WORKSPACE}.accounts",
    "user_session": f"{WORKSPACE}.user_sessions",
    "audit_event": f"{WORKSPACE}.audit",
    "self_identification": f"{WORKSPACE}.self_identification",
    "compliance_settings": f"{WORKSPACE}.retention_store",
    "privacy_notice": f"{WORKSPACE}.consent",
    "consent_record": f"{WORKSPACE}.consent",
    # erasure (issue 20 item 3): requests and tombstones. The eraser also deletes rows of every table that
    # holds a candidate's data, through SQLAlchemy Core over Table.metadata (no table class), so this map
    # does not see it: the one sanctioned exception (workspace/erasure.py, workspace/personal_data.py).
    "erasure_request": f"{WORKSPACE}.erasure_requests",
    "accommodation": f"{WORKSPACE}.accommodations",
    "erasure_tombstone": f"{WORKSPACE}.erasure",
    # what a call stores as it runs
    "interview_session": "milo_voice.calls.session_store",
    "turn": "milo_voice.calls.session_store",
    "timing_event": "milo_voice.calls.session_store",
    "phone_number": "milo_voice.calls.phone.numbers",
    "phone_access_code": "milo_voice.calls.phone.numbers",
    "phone_call": "milo_voice.calls.phone.numbers",
    # several nodes on one database (issue 21): heartbeats and the node each live call is on
    "serve_node": "milo_voice.calls.cluster",
    "live_call": "milo_voice.calls.cluster",
    # scoring: results, the job queue, webhooks and public report links
    "score": "milo_voice.scoring.store",
    "job": "milo_voice.scoring.job_table",
    "webhook_endpoint": "milo_voice.scoring.store",
    "webhook_delivery": "milo_voice.scoring.store",
    "report_link": "milo_voice.scoring.store",
    # outreach: the outbox writes messages and their events; contacts hold opt-outs and replies
    "outreach_message": "milo_voice.outreach.outbox",
    "outreach_event": "milo_voice.outreach.outbox",
    "candidate_contact": "milo_voice.outreach.contacts",
    "inbound_message": "milo_voice.outreach.contacts",
    "outreach_template": "milo_voice.outreach.template_store",
    "interview_outreach": "milo_voice.outreach.settings_store",
    "outreach_settings": "milo_voice.outreach.settings_store",
    # intake: upload batches and their items, resumes, ATS orders, the inbound webhook's secrets
    "intake_batch": "milo_voice.intake.batches",
    "intake_item": "milo_voice.intake.batches",
    "candidate_resume": "milo_voice.intake.resumes",
    "ats_order": "milo_voice.intake.ats_orders",
    "intake_hook": "milo_voice.intake.hooks",
}
"""Table name -> the one module that writes it."""

ROW_TAKERS = ("update", "delete", "insert")
"""Calls that write the table (or held row) given as their first argument."""
PASS_THROUGH = ("list", "tuple", "sorted", "reversed", "iter", "next", "set")
"""Builtins whose result holds the rows of their first argument."""

Rows = frozenset[str]
"""The tables whose rows an expression may hold."""


# -- reading the tables ------------------------------------------------------------------------


def table_classes(directory: Path = TABLES) -> dict[str, str]:
    """Class name -> table name, for every `class X(Table, table=True)` under `directory`."""
    found = {}
    for path in sorted(directory.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.ClassDef):
                continue
            if not any(k.arg == "table" and _is_true(k.value) for k in node.keywords):
                continue
            found[node.name] = _tablename(node)
    return found


def _is_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _tablename(node: ast.ClassDef) -> str:
    for item in node.body:
        if isinstance(item, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__tablename__" for t in item.targets
        ):
            assert isinstance(item.value, ast.Constant)
            return str(item.value.value)
    raise AssertionError(f"table class {node.name} has no __tablename__")


# -- finding writes in one module ----------------------------------------------------------------


class Finder:
    """The tables one module's source writes, with the line of each write."""

    def __init__(self, source: str, classes: dict[str, str]) -> None:
        self.tree = ast.parse(source)
        self.classes = classes
        self.names: dict[str, str] = {}
        """Local name -> table name, from `from milo_voice.store.tables import X [as Y]`."""
        self.modules: set[str] = set()
        """Local names bound to the tables package itself."""
        self.writes: dict[str, set[int]] = {}
        self._read_imports()

    def _read_imports(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("milo_voice.store"):
                for alias in node.names:
                    local = alias.asname or alias.name
                    if node.module == "milo_voice.store" and alias.name == "tables":
                        self.modules.add(local)
                    elif alias.name in self.classes and "tables" in (node.module or ""):
                        self.names[local] = self.classes[alias.name]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("milo_voice.store.tables") and alias.asname:
                        self.modules.add(alias.asname)

    def table(self, node: ast.expr) -> str | None:
        """The table a bare class reference names (`Candidate`, `tables.Candidate`), else None."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return self.classes.get(node.attr) if node.value.id in self.modules else None
        return None

    def run(self) -> dict[str, set[int]]:
        self._scope(self.tree.body, {})
        return self.writes

    # scopes: module, functions (with their annotated parameters), nested functions

    def _scope(self, body: list[ast.stmt], outer: dict[str, Rows]) -> None:
        env = dict(outer)
        for _ in range(4):  # flow-insensitive: assignments after a use inside a loop count too
            before = dict(env)
            for node in _walk_scope(body):
                self._bind(node, env)
            if env == before:
                break
        for node in _walk_scope(body):
            self._record(node, env)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = dict(env)
                for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                    if arg.annotation is not None:
                        held = self._annotated(arg.annotation)
                        if held:
                            inner[arg.arg] = held
                self._scope(node.body, inner)

    def _annotated(self, node: ast.expr) -> Rows:
        """`Interview`, `"Interview"`, `Interview | None`, `list[Interview]` hold Interview rows."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return frozenset()
        found = {self.table(n) for n in ast.walk(node) if isinstance(n, ast.Name | ast.Attribute)}
        return frozenset(t for t in found if t is not None)

    def _bind(self, node: ast.AST, env: dict[str, Rows]) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._assign(target, node.value, env, each=False)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._assign(node.target, node.value, env, each=False)
        elif isinstance(node, ast.For | ast.AsyncFor):
            self._assign(node.target, node.iter, env, each=True)

    def _assign(self, target: ast.expr, value: ast.expr, env: dict[str, Rows], *, each: bool) -> None:
        """Bind `target` to the rows `value` holds; a tuple target gets them by position when it can."""
        if isinstance(target, ast.Name):
            held = self.rows(value, env)
            if held:
                env[target.id] = env.get(target.id, frozenset()) | held
            return
        if isinstance(target, ast.Tuple | ast.List):
            ordered = self._ordered(value, env) if each else []
            for i, element in enumerate(target.elts):
                if len(ordered) == len(target.elts):
                    if isinstance(element, ast.Name):
                        env[element.id] = env.get(element.id, frozenset()) | frozenset([ordered[i]])
                elif isinstance(element, ast.Name) and self.rows(value, env):
                    env[element.id] = env.get(element.id, frozenset()) | self.rows(value, env)

    def _ordered(self, value: ast.expr, env: dict[str, Rows]) -> list[str]:
        """For `session.exec(select(A, B))`-like iterables: the tables of each tuple position."""
        for node in ast.walk(value):
            if isinstance(node, ast.Call) and _name(node.func) == "select":
                tables = [self.table(a) for a in node.args]
                if tables and all(tables):
                    return [t for t in tables if t is not None]
            if isinstance(node, ast.Name) and node.id in env and len(env[node.id]) > 1:
                return []
        return []

    def rows(self, node: ast.expr, env: dict[str, Rows]) -> Rows:
        """The tables whose rows (or row queries) `node` may hold."""
        if isinstance(node, ast.Name):
            return env.get(node.id, frozenset())
        if isinstance(node, ast.Call):
            given = frozenset(t for t in (self.table(a) for a in node.args) if t is not None)
            if given:  # session.get(T, ...), get_row(session, T, ...), select(T, ...)
                return given
            if isinstance(node.func, ast.Attribute):  # a query chain or a method of held rows
                held = self.rows(node.func.value, env)
                if held:
                    return held
                if node.func.attr in ("exec", "execute", "scalars") and node.args:
                    return self.rows(node.args[0], env)
            if isinstance(node.func, ast.Name) and node.func.id in PASS_THROUGH and node.args:
                return self.rows(node.args[0], env)
            return frozenset()
        if isinstance(node, ast.Subscript):
            return self.rows(node.value, env)
        if isinstance(node, ast.IfExp):
            return self.rows(node.body, env) | self.rows(node.orelse, env)
        if isinstance(node, ast.BoolOp):
            return frozenset().union(*(self.rows(v, env) for v in node.values))
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self._comprehension(node, env)
        return frozenset()

    def _comprehension(
        self, node: ast.ListComp | ast.GeneratorExp | ast.SetComp, env: dict[str, Rows]
    ) -> Rows:
        """`[r for r in rows]` (optionally filtered) holds what `rows` holds; `[f(r) ...]` does not."""
        inner = dict(env)
        for generator in node.generators:
            self._assign(generator.target, generator.iter, inner, each=True)
        if isinstance(node.elt, ast.Name):
            return inner.get(node.elt.id, frozenset())
        return frozenset()

    def _record(self, node: ast.AST, env: dict[str, Rows]) -> None:
        if isinstance(node, ast.Call):
            built = self.table(node.func)
            if built is not None:
                self._write(built, node)
            name = _name(node.func)
            if name in ROW_TAKERS and node.args:
                first = node.args[0]
                taken = self.table(first)
                for table in [taken] if taken is not None else self.rows(first, env):
                    self._write(table, node)
            if name == "setattr" and node.args:
                for table in self.rows(node.args[0], env):
                    self._write(table, node)
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in _flatten(targets):
            if isinstance(target, ast.Attribute):
                for table in self.rows(target.value, env):
                    self._write(table, node)

    def _write(self, table: str, node: ast.AST) -> None:
        self.writes.setdefault(table, set()).add(getattr(node, "lineno", 0))


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _flatten(targets: Iterable[ast.expr]) -> Iterator[ast.expr]:
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List):
            yield from _flatten(target.elts)
        else:
            yield target


def _walk_scope(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of this scope, not descending into nested functions or classes (they are yielded)."""
    todo: list[ast.AST] = list(reversed(body))
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            if isinstance(node, ast.ClassDef):
                todo.extend(reversed(node.body))
            continue
        todo.extend(reversed(list(ast.iter_child_nodes(node))))


# -- the package ---------------------------------------------------------------------------------


def package_sources() -> dict[str, str]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if not any(name == n or name.startswith(n + ".") for n in NOT_WRITERS):
            out[name] = path.read_text(encoding="utf-8")
    return out


def writers(sources: dict[str, str], classes: dict[str, str]) -> dict[str, dict[str, set[int]]]:
    """Table -> {module -> lines where it writes the table}."""
    found: dict[str, dict[str, set[int]]] = {}
    for module, source in sources.items():
        for table, lines in Finder(source, classes).run().items():
            found.setdefault(table, {})[module] = lines
    return found


def problems(found: dict[str, dict[str, set[int]]], declared: dict[str, str]) -> list[str]:
    """What breaks the map: a table written outside its writer, or a writer that never writes it."""
    out = []
    for table, writer in sorted(declared.items()):
        modules = found.get(table, {})
        out += [
            f"{table}: written by {module} (lines {sorted(lines)}); its writer is {writer}"
            for module, lines in sorted(modules.items())
            if module != writer
        ]
        if writer not in modules:
            out.append(f"{table}: its declared writer {writer} never writes it")
    out += [f"{t}: written but has no declared writer" for t in sorted(set(found) - set(declared))]
    return out


# -- the rules -----------------------------------------------------------------------------------


def test_every_table_has_a_declared_writer() -> None:
    classes = table_classes()
    assert len(classes) >= 20, "expected to parse every table"
    assert sorted(set(classes.values())) == sorted(WRITERS)


def test_each_table_is_written_by_its_writer_only() -> None:
    found = writers(package_sources(), table_classes())
    assert problems(found, WRITERS) == [], "route the write through the table's writer (see WRITERS)"


def test_a_second_writer_fails_the_check() -> None:
    sneaky = (
        "from milo_voice.store.tables import Candidate\n"
        "def mark(session, candidate_id):\n"
        "    session.get(Candidate, candidate_id).status = 'dismissed'\n"
    )
    sources = {**package_sources(), "milo_voice.web.sneaky": sneaky}
    found = writers(sources, table_classes())
    assert problems(found, WRITERS) == [
        "candidate: written by milo_voice.web.sneaky (lines [3]); "
        "its writer is milo_voice.workspace.candidates"
    ]


# -- the finder itself ---------------------------------------------------------------------------

CLASSES = {"Candidate": "candidate", "Interview": "interview", "Job": "job", "Question": "question"}


def found(body: str) -> dict[str, set[int]]:
    header = "from milo_voice.store.tables import Candidate, Interview, Job\n"
    header += "from milo_voice.store.tables import Question as QuestionRow\n"
    return Finder(header + body, CLASSES).run()


def test_constructing_updating_deleting_and_inserting_are_writes() -> None:
    assert found("def f(s):\n    s.add(Candidate(name='a'))\n") == {"candidate": {4}}
    assert found("def f(s):\n    s.execute(update(Job).values(a=1))\n") == {"job": {4}}
    assert found("def f(s):\n    s.exec(delete(QuestionRow).where(x))\n") == {"question": {4}}
    assert found("def f(s, rows):\n    s.execute(sa.insert(Job), rows)\n") == {"job": {4}}


def test_changing_a_row_held_from_get_select_or_a_parameter_is_a_write() -> None:
    assert found("def f(s):\n    row = s.get(Candidate, 1)\n    row.status = 'x'\n") == {"candidate": {5}}
    assert found("def f(s):\n    get_row(s, Job, 1).attempts += 1\n") == {"job": {4}}
    loop = "def f(s):\n    for q in s.exec(select(QuestionRow).where(w)):\n        s.delete(q)\n"
    assert found(loop) == {"question": {5}}
    listed = (
        "def f(s):\n    rows = list(s.exec(select(Interview)))\n"
        "    for row in rows:\n        setattr(row, 'archived', True)\n"
    )
    assert found(listed) == {"interview": {6}}
    assert found("def f(row: Interview, t):\n    row.title = t\n") == {"interview": {4}}
    first = "def f(s):\n    c = s.exec(select(Candidate).where(w)).first()\n    if c:\n        c.name = 'n'\n"
    assert found(first) == {"candidate": {6}}


def test_a_joined_select_holds_each_table_by_position() -> None:
    body = "def f(s):\n    for c, i in s.exec(select(Candidate, Interview)):\n        i.title = 'x'\n"
    assert found(body) == {"interview": {5}}


def test_reads_and_wrapped_rows_are_not_writes() -> None:
    reads = (
        "def f(s, q):\n"
        "    ids = s.exec(select(Candidate.id)).all()\n"
        "    rows = [Wrapper(c, i) for c, i in s.exec(select(Candidate, Interview))]\n"
        "    for row in rows:\n"
        "        row.stars = 3\n"
        "    q.status = 'x'\n"
        "    return s.get(Job, 1)\n"
    )
    assert found(reads) == {}
