"""`gatepass client create --require-mfa` and `gatepass client require-mfa` (docs/mfa.md):
the client field round-trips through the SQL store on SQLite and PostgreSQL."""

import json

import pytest

from gatepass.config import Settings
from gatepass.storage.backends import Backends
from tests.web.conftest import run_cli


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def test_require_mfa_is_set_at_creation_and_changed_later(
    settings: Settings,
    backends: Backends,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("client", "create", "Payroll", "--redirect-uri", "https://payroll.example/cb")
    assert await run_cli(settings, monkeypatch, *args, "--require-mfa", "on", "--json") == 0
    created = json.loads(capsys.readouterr().out)
    assert created["require_mfa"] is True
    client_id = created["client_id"]
    stored = await backends.clients.get(client_id)
    assert stored is not None
    assert stored.require_mfa is True
    for setting, expected in (("off", False), ("default", None), ("on", True)):
        code = await run_cli(settings, monkeypatch, "client", "require-mfa", client_id, setting)
        assert code == 0
        capsys.readouterr()
        changed = await backends.clients.get(client_id)
        assert changed is not None
        assert changed.require_mfa is expected


async def test_without_the_flag_the_server_setting_applies(
    settings: Settings,
    backends: Backends,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("client", "create", "Photos", "--redirect-uri", "https://photos.example/cb", "--json")
    assert await run_cli(settings, monkeypatch, *args) == 0
    assert json.loads(capsys.readouterr().out)["require_mfa"] is None


async def test_require_mfa_of_an_unknown_client_or_setting_fails(
    settings: Settings, backends: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = ("client", "require-mfa", "gp_nosuchclient", "on")
    assert await run_cli(settings, monkeypatch, *unknown) != 0
    with pytest.raises(SystemExit):
        await run_cli(settings, monkeypatch, "client", "require-mfa", "gp_x", "maybe")
