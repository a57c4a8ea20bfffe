"""Configuration of the command: `--config FILE.toml`, `GATEPASS_*` winning over it, and
one-line errors (exit code 2, no traceback) that name the setting at fault.

The error cases are independent processes, so they run side by side once per module
and each test reads its own result.
"""

import asyncio
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gatepass.storage.sql.engine import create_engine
from gatepass.storage.sql.migrate import upgrade
from tests.cli.conftest import assert_one_line_error, run_gatepass


def test_settings_come_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "gatepass.toml").write_text('database_url = "sqlite:///from-file.db"\n')
    result = run_gatepass("--config", "gatepass.toml", "migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-file.db").exists()
    assert not (tmp_path / "gatepass.db").exists()


def test_environment_variables_win_over_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "gatepass.toml").write_text('database_url = "sqlite:///from-file.db"\n')
    result = run_gatepass(
        "--config",
        "gatepass.toml",
        "migrate",
        cwd=tmp_path,
        env={"GATEPASS_DATABASE_URL": "sqlite:///from-env.db"},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "from-file.db").exists()


@dataclass(frozen=True)
class Misconfiguration:
    """A command run with one wrong setting, and what its one error line must name."""

    args: tuple[str, ...]
    names: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    toml: str | None = None
    migrated: bool = False  # the default SQLite file is migrated beforehand


UNREACHABLE_POSTGRES = "postgresql://x@127.0.0.1:1/db"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"

CASES = {
    "an unknown setting in the config file is named with the file": Misconfiguration(
        ("--config", "gatepass.toml", "migrate"),
        ("gatepass.toml", "unknown setting", "databse_url"),
        toml='databse_url = "sqlite:///typo.db"\n',
    ),
    "a malformed config file is named as --config": Misconfiguration(
        ("--config", "gatepass.toml", "migrate"),
        ("--config", "not valid TOML"),
        toml="database_url = \n",
    ),
    "an unsupported database URL scheme names GATEPASS_DATABASE_URL": Misconfiguration(
        ("migrate",),
        ("GATEPASS_DATABASE_URL", "unsupported scheme"),
        env={"GATEPASS_DATABASE_URL": "mysql://root@127.0.0.1/gatepass"},
    ),
    "an unreachable PostgreSQL names GATEPASS_DATABASE_URL on migrate": Misconfiguration(
        ("migrate",),
        ("GATEPASS_DATABASE_URL", "cannot connect"),
        env={"GATEPASS_DATABASE_URL": UNREACHABLE_POSTGRES},
    ),
    "an unreachable PostgreSQL names GATEPASS_DATABASE_URL on serve": Misconfiguration(
        ("serve", "--port", "0"),
        ("GATEPASS_DATABASE_URL", "cannot connect"),
        env={"GATEPASS_DATABASE_URL": UNREACHABLE_POSTGRES},
    ),
    "an unreachable Redis names GATEPASS_REDIS_URL on migrate": Misconfiguration(
        ("migrate",),
        ("GATEPASS_REDIS_URL", "cannot connect"),
        env={"GATEPASS_REDIS_URL": UNREACHABLE_REDIS},
    ),
    "an unreachable Redis names GATEPASS_REDIS_URL on session list": Misconfiguration(
        ("session", "list", "--user", "ada@example.com"),
        ("GATEPASS_REDIS_URL", "cannot connect"),
        env={"GATEPASS_REDIS_URL": UNREACHABLE_REDIS},
        migrated=True,
    ),
}


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _run_case(root: Path, name: str, case: Misconfiguration) -> subprocess.CompletedProcess[str]:
    workdir = root / name.replace(" ", "-")
    workdir.mkdir()
    if case.toml is not None:
        (workdir / "gatepass.toml").write_text(case.toml)
    if case.migrated:
        asyncio.run(_migrate(f"sqlite:///{workdir}/gatepass.db"))
    return run_gatepass(*case.args, cwd=workdir, env=case.env)


@pytest.fixture(scope="module")
def outcomes(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("misconfigured")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run_case, root, name, case) for name, case in CASES.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_a_misconfiguration_fails_with_one_line_naming_the_setting(
    name: str, outcomes: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert_one_line_error(outcomes[name], *CASES[name].names)
