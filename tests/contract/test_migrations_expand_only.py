"""Migrations only expand the schema, so they are safe while older processes still serve.

A rolling upgrade runs `gatepass migrate` (or the first new process migrates) while
processes of the previous release keep serving on the same database. Their code must keep
working on the new schema, so a migration's `upgrade()` may add (tables, nullable columns
or columns with a server default, indexes) but never take away or tighten what the older
code reads and writes:

    refused                                   why older code breaks
    drop_table, drop_column                   it still reads and writes them
    rename_table, alter_column(new_column_name=...)   the old name is gone
    add_column NOT NULL without server_default     its INSERTs do not name the column
    alter_column(nullable=False / type_=...)  its writes may not fit any more
    new unique / check / foreign-key constraints on existing tables: likewise
    batch_alter_table(recreate="always")      SQLite copies the table under live traffic
    execute() of DROP, RENAME, SET NOT NULL, or of SQL that is not a literal
    anything else not known to be additive    (the list below is an allow-list)

Such a change is a contract step: it ships in a later release, once no serving code uses
what it removes (docs/operations.md, "Upgrades and migrations"). Revisions before
FIRST_EXPAND_ONLY were released before this rule (0008 dropped `revoked_grants`).
"""

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import gatepass.storage.sql as sql_package

VERSIONS = Path(sql_package.__file__).parent / "migrations" / "versions"
FIRST_EXPAND_ONLY = "0009"

# Operations (on `op` or a batch) that only add, or relax: allowed as they are.
ADDITIVE = {"create_table", "create_index", "drop_index", "f", "batch_alter_table"}
CHECKED = {"add_column", "alter_column", "execute"}  # allowed within the rules below
REMOVALS = {
    "drop_table": "drop_table: older code still reads and writes the table",
    "drop_column": "drop_column: older code still reads and writes the column",
    "rename_table": "rename_table: older code still uses the old name",
}
CONSTRAINTS = {"create_unique_constraint", "create_check_constraint", "create_foreign_key"}
CONTRACT_SQL = re.compile(r"\b(DROP|RENAME|TRUNCATE)\b|\bSET\s+NOT\s+NULL\b", re.IGNORECASE)


@dataclass(frozen=True)
class Violation:
    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def migrations() -> list[Path]:
    return sorted(VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def revision_of(tree: ast.Module) -> str:
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
            "revision"
        ]:
            assert isinstance(node.value, ast.Constant)
            return str(node.value.value)
    raise AssertionError("no revision")


def upgrade_of(tree: ast.Module) -> ast.FunctionDef:
    [upgrade] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"]
    return upgrade


def violations(source: str) -> list[Violation]:
    """What in the module's `upgrade()` could break older code still serving."""
    upgrade = upgrade_of(ast.parse(source))
    batches = _batch_names(upgrade)
    found: list[Violation] = []
    for call in (n for n in ast.walk(upgrade) if isinstance(n, ast.Call)):
        name = _operation(call, batches)
        if name is None or name in ADDITIVE - {"batch_alter_table"}:
            continue
        found += [Violation(call.lineno, what) for what in _judge(name, call)]
    return found


def _batch_names(upgrade: ast.FunctionDef) -> set[str]:
    """The names `with op.batch_alter_table(...) as NAME` binds."""
    return {
        item.optional_vars.id
        for node in ast.walk(upgrade)
        if isinstance(node, ast.With)
        for item in node.items
        if isinstance(item.optional_vars, ast.Name)
    }


def _operation(call: ast.Call, batches: set[str]) -> str | None:
    func = call.func
    on = func.value if isinstance(func, ast.Attribute) else None
    if isinstance(func, ast.Attribute) and isinstance(on, ast.Name):
        return func.attr if on.id == "op" or on.id in batches else None
    return None


def _judge(name: str, call: ast.Call) -> Iterator[str]:
    keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
    if name == "batch_alter_table":
        if _constant(keywords.get("recreate")) == "always":
            yield 'batch_alter_table(recreate="always") copies the table under live traffic'
    elif name == "add_column":
        yield from _judge_new_column(call)
    elif name == "alter_column":
        if "new_column_name" in keywords:
            yield "alter_column renames a column older code still uses"
        if _constant(keywords.get("nullable")) is False:
            yield "alter_column makes a column NOT NULL: older code's writes may omit it"
        if "type_" in keywords:
            yield "alter_column changes a type older code writes"
    elif name == "execute":
        sql = _constant(call.args[0]) if call.args else None
        if not isinstance(sql, str):
            yield "execute() of SQL that is not a literal cannot be checked"
        elif CONTRACT_SQL.search(sql):
            yield f"execute() of contract SQL: {sql.strip()[:60]!r}"
    elif name in REMOVALS:
        yield REMOVALS[name]
    elif name in CONSTRAINTS:
        yield f"{name} on an existing table: older code's writes may break it"
    else:
        yield f"{name} is not known to be additive"


def _judge_new_column(call: ast.Call) -> Iterator[str]:
    # op.add_column(table, column); a batch's add_column(column)
    column = call.args[-1] if call.args else None
    if not isinstance(column, ast.Call):
        yield "add_column of a column that is not written out here cannot be checked"
        return
    keywords = {k.arg: k.value for k in column.keywords if k.arg is not None}
    required = _constant(keywords.get("nullable")) is False or (
        _constant(keywords.get("primary_key")) is True
    )
    if required and "server_default" not in keywords:
        yield "add_column NOT NULL without server_default: older code's INSERTs omit it"


def _constant(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def expand_only_migrations() -> list[Path]:
    return [
        path
        for path in migrations()
        if revision_of(ast.parse(path.read_text())) >= FIRST_EXPAND_ONLY
    ]


def test_the_cut_off_is_a_shipped_revision() -> None:
    revisions = [revision_of(ast.parse(p.read_text())) for p in migrations()]
    assert FIRST_EXPAND_ONLY in revisions
    assert revisions == sorted(revisions)  # numbered in order: the comparison above holds


@pytest.mark.parametrize("path", expand_only_migrations(), ids=lambda p: p.stem)
def test_migration_only_expands_the_schema(path: Path) -> None:
    assert [str(v) for v in violations(path.read_text())] == []


UPGRADE = "from alembic import op\nimport sqlalchemy as sa\n\ndef upgrade() -> None:\n{}\n"
CONTRACT_STEPS = {
    "dropping a table": 'op.drop_table("users")',
    "dropping a column": 'op.drop_column("users", "name")',
    "dropping a column in a batch": (
        'with op.batch_alter_table("users") as b:\n        b.drop_column("name")'
    ),
    "renaming a table": 'op.rename_table("users", "people")',
    "renaming a column": 'op.alter_column("users", "name", new_column_name="full_name")',
    "adding a NOT NULL column without default": (
        'op.add_column("users", sa.Column("age", sa.Integer(), nullable=False))'
    ),
    "making a column NOT NULL": 'op.alter_column("users", "name", nullable=False)',
    "changing a column's type": 'op.alter_column("users", "name", type_=sa.String(10))',
    "adding a unique constraint": 'op.create_unique_constraint("uq", "users", ["name"])',
    "recreating a table in a batch": (
        'with op.batch_alter_table("users", recreate="always") as b:\n        b.f("x")'
    ),
    "executing a DROP": 'op.execute("DROP TABLE users")',
    "executing SQL built at run time": 'op.execute(" ".join(["DROP", "TABLE", "users"]))',
    "an operation of unknown effect": "op.bulk_insert(table, [])",
}
EXPAND_STEPS = {
    "creating a table": 'op.create_table("t", sa.Column("id", sa.Integer(), nullable=False))',
    "adding a nullable column": 'op.add_column("users", sa.Column("age", sa.Integer()))',
    "adding a NOT NULL column with a server default": (
        'op.add_column("users", sa.Column("n", sa.Integer(), nullable=False, server_default="0"))'
    ),
    "relaxing NOT NULL": 'op.alter_column("users", "name", nullable=True)',
    "adding an index": 'op.create_index("ix", "users", ["name"])',
    "executing an UPDATE": "op.execute(\"UPDATE users SET name = ''\")",
}


@pytest.mark.parametrize("step", CONTRACT_STEPS.values(), ids=CONTRACT_STEPS.keys())
def test_a_contract_step_is_caught(step: str) -> None:
    assert violations(UPGRADE.format("    " + step))


@pytest.mark.parametrize("step", EXPAND_STEPS.values(), ids=EXPAND_STEPS.keys())
def test_an_expand_step_passes(step: str) -> None:
    assert violations(UPGRADE.format("    " + step)) == []
