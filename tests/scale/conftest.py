"""Three `gatepass serve` processes acting as one (tests/scale/processes.py), started once
for the package: a start costs seconds, and every test here uses accounts of its own."""

from collections.abc import Iterator

import pytest

from tests.scale.processes import (
    JWKS_MAX_AGE,
    KEY_REFRESH_SECONDS,
    LOGIN_ACCOUNT_LIMIT,
    LOGIN_WINDOW_SECONDS,
    Processes,
    processes,
)


@pytest.fixture(scope="package")
def three(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    settings = {
        "GATEPASS_JWKS_MAX_AGE": str(JWKS_MAX_AGE),
        "GATEPASS_KEY_REFRESH_SECONDS": str(KEY_REFRESH_SECONDS),
        "GATEPASS_LOGIN_ACCOUNT_LIMIT": str(LOGIN_ACCOUNT_LIMIT),
        "GATEPASS_LOGIN_WINDOW_SECONDS": str(LOGIN_WINDOW_SECONDS),
        # Every request comes from 127.0.0.1: the per-address limit is kept out of the way,
        # so the throttle tests count each account's counter alone.
        "GATEPASS_LOGIN_ADDRESS_LIMIT": "100000",
    }
    with processes(tmp_path_factory, 3, settings) as running:
        yield running
