"""GATEPASS_KEY_REFRESH_SECONDS: how stale a process's view of the signing keys may be, and
so, with GATEPASS_JWKS_MAX_AGE, how far ahead a rotation is scheduled (keys/ring.py)."""

import asyncio
import json
from collections.abc import Callable
from datetime import datetime

import pytest

from gatepass.clock import FixedClock
from gatepass.config import Settings, load_settings
from gatepass.errors import ConfigError
from gatepass.storage.backends import Backends
from gatepass.web.app import build_key_ring
from tests.cli.conftest import (  # noqa: F401 - `cli` is the fixture
    Cli,
    assert_one_line_error,
    cli,
    run_gatepass,
)


@pytest.fixture(params=("sqlite",))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_processes_re_read_the_keys_every_minute_by_default() -> None:
    assert load_settings(environ={}).key_refresh_seconds == 60


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        pytest.param("1", 1, id="one second, the shortest"),
        pytest.param("2", 2, id="two seconds"),
        pytest.param("3600", 3600, id="an hour, the longest"),
    ],
)
def test_a_refresh_interval_within_its_bounds_is_accepted(value: str, parsed: int) -> None:
    settings = load_settings(environ={"GATEPASS_KEY_REFRESH_SECONDS": value})
    assert settings.key_refresh_seconds == parsed


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("GATEPASS_KEY_REFRESH_SECONDS", "0", id="no refresh interval"),
        pytest.param("GATEPASS_KEY_REFRESH_SECONDS", "-1", id="a negative refresh interval"),
        pytest.param("GATEPASS_KEY_REFRESH_SECONDS", "3601", id="a refresh over an hour"),
        # gatepass.resource refetches at most every 10 s: a shorter max-age would make the
        # rotation lead shorter than what its verifiers cache.
        pytest.param("GATEPASS_JWKS_MAX_AGE", "9", id="a jwks max-age under 10 s"),
    ],
)
def test_a_key_timing_outside_its_bounds_is_refused_naming_the_setting(
    name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=f"^{name}: .* outside the safe range"):
        load_settings(environ={name: value})


def test_a_refresh_interval_that_is_not_a_number_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_KEY_REFRESH_SECONDS: expected a whole"):
        load_settings(environ={"GATEPASS_KEY_REFRESH_SECONDS": "2s"})


def test_the_shortest_jwks_max_age_is_accepted() -> None:
    assert load_settings(environ={"GATEPASS_JWKS_MAX_AGE": "10"}).jwks_max_age == 10


async def test_the_server_key_ring_re_reads_and_schedules_by_the_settings(
    make_settings: Callable[..., Settings], backends: Backends, clock: FixedClock
) -> None:
    settings = make_settings(jwks_max_age=10, key_refresh_seconds=2)
    ring = build_key_ring(settings, backends, clock)
    assert ring.policy.refresh_seconds == 2
    assert ring.policy.publish_lead_seconds == 12
    await ring.start()
    new = await ring.rotate("ES256")
    assert new.active_at - new.published_at == 12


async def test_key_rotate_schedules_the_switch_from_the_command_s_own_settings(
    cli: Cli,  # noqa: F811
) -> None:
    env = {**cli.env, "GATEPASS_JWKS_MAX_AGE": "10", "GATEPASS_KEY_REFRESH_SECONDS": "5"}
    result = await asyncio.to_thread(
        run_gatepass, "key", "rotate", "--alg", "ES256", "--json", cwd=cli.cwd, env=env
    )
    assert result.returncode == 0, result.stderr
    rotated = json.loads(result.stdout)
    lead = _seconds(rotated["active_at"]) - _seconds(rotated["published_at"])
    assert lead == pytest.approx(10 + 5, abs=1)


async def test_key_rotate_with_a_bad_refresh_interval_is_one_line(cli: Cli) -> None:  # noqa: F811
    env = {**cli.env, "GATEPASS_KEY_REFRESH_SECONDS": "0"}
    result = await asyncio.to_thread(
        run_gatepass, "key", "rotate", "--alg", "ES256", cwd=cli.cwd, env=env
    )
    assert_one_line_error(result, "GATEPASS_KEY_REFRESH_SECONDS")
    assert await cli.json("key", "list") == []


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
