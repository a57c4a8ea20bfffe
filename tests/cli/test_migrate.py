"""`gatepass migrate`: the default SQLite file in the working directory, PostgreSQL, reruns."""

import asyncio
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from alembic.script import ScriptDirectory

from gatepass.storage.sql.engine import create_engine
from gatepass.storage.sql.migrate import alembic_config, known_revisions, pending
from tests.cli.conftest import assert_one_line_error, clean_environ, run_gatepass

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_of(path: Path) -> tuple[str | None, set[str]]:
    """(Alembic revision, table names) of a SQLite file, read with the stdlib driver."""
    with closing(sqlite3.connect(path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        revision = None
        if "alembic_version" in tables:
            revision = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    return revision, tables


def test_migrate_creates_the_default_sqlite_file_in_the_working_directory_and_can_rerun(
    tmp_path: Path,
) -> None:
    first = run_gatepass("migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    revision, tables = schema_of(tmp_path / "gatepass.db")
    assert revision == HEAD
    assert {"users", "sessions", "throttle_hits", "audit_events"} <= tables

    again = run_gatepass("migrate", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert schema_of(tmp_path / "gatepass.db") == (revision, tables)


def test_migrate_on_an_up_to_date_postgresql_database_succeeds(
    tmp_path: Path, postgres_url: str
) -> None:
    result = run_gatepass("migrate", cwd=tmp_path, env={"GATEPASS_DATABASE_URL": postgres_url})
    assert result.returncode == 0, result.stderr

    async def lags() -> bool:
        engine = create_engine(postgres_url)
        try:
            return await pending(engine)
        finally:
            await engine.dispose()

    assert asyncio.run(lags()) is False
    assert not (tmp_path / "gatepass.db").exists()


def test_a_command_on_an_unmigrated_database_asks_for_migrate(tmp_path: Path) -> None:
    result = run_gatepass("user", "list", cwd=tmp_path)
    line = assert_one_line_error(result, "GATEPASS_DATABASE_URL")
    assert "gatepass migrate" in line


def test_a_schema_newer_than_this_gatepass_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A database a newer gatepass migrated (an upgrade rolled back): every command,
    migrate and serve included, says so in one line and changes nothing."""
    assert run_gatepass("migrate", cwd=tmp_path).returncode == 0
    with closing(sqlite3.connect(tmp_path / "gatepass.db")) as db, db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    for command in (("migrate",), ("user", "list")):
        line = assert_one_line_error(run_gatepass(*command, cwd=tmp_path), "newer than")
        assert "9999" in line, command
    served = run_gatepass("serve", "--port", "0", cwd=tmp_path)  # it logs its start first
    assert served.returncode == 2
    assert "Traceback" not in served.stderr
    assert "newer than" in served.stderr.splitlines()[-1]
    assert schema_of(tmp_path / "gatepass.db")[0] == "9999"


def test_the_revisions_known_by_file_name_are_alembics_own() -> None:
    """`pending` knows the revisions by the migration files' names, without Alembic: the
    same revisions, in the same line of descent, as Alembic reads from the scripts."""
    oldest_first = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())[::-1]
    known = known_revisions()
    assert known == tuple(revision.revision for revision in oldest_first)
    assert [revision.down_revision for revision in oldest_first] == [None, *known[:-1]]
    assert known[-1] == HEAD


def test_a_command_on_a_current_schema_does_not_load_alembic(tmp_path: Path) -> None:
    """Only migrating needs Alembic: opening the backends of a current schema (every
    command, every server worker) neither imports it nor parses the scripts."""
    assert run_gatepass("migrate", cwd=tmp_path).returncode == 0
    program = (
        "import asyncio, sys\n"
        "from gatepass.config import Settings\n"
        "from gatepass.storage.backends import open_backends\n"
        "async def main():\n"
        "    backends = await open_backends(Settings(database_url='sqlite:///gatepass.db',"
        " secret_key='dGVzdCBtYXN0ZXIga2V5IC0gbmV2ZXIgdXNlIGluIHByb2R1Y3Rpb24h'))\n"
        "    await backends.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
