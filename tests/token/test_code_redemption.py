"""A code is single-use, bound, and short-lived at the token endpoint (RFC 6749 §4.1.2,
§4.1.3; OAuth 2.1 §7.5.2; RFC 7636 §4.6; SECURITY.md R4, R7, R8, decision 2)."""

import asyncio
import time
from typing import Any

import httpx
import jwt as pyjwt
import pytest

from gatepass.clock import FixedClock
from gatepass.storage.backends import Backends
from tests.support import grant_revoked
from tests.token.conftest import VERIFIER, Exchange, IssueCode, MakeApp, assert_error


def grant_id_of(response: httpx.Response) -> str:
    token = response.json()["access_token"]
    gid: str = pyjwt.decode(token, options={"verify_signature": False})["gid"]
    return gid


async def test_reused_code_revokes_issued_tokens__rfc6749_4_1_2(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, backends: Backends
) -> None:
    app = await make_app()
    code = await issue_code(app)
    first = await exchange(app, code)
    assert first.status_code == 200, first.text
    gid = grant_id_of(first)
    assert not await grant_revoked(backends, gid, time.time())

    assert_error(await exchange(app, code), "invalid_grant")
    # Recorded durably (SQL) until every token the grant issued has expired.
    assert await grant_revoked(backends, gid, time.time())
    assert not await grant_revoked(backends, gid, time.time() + 3 * 3600)


@pytest.mark.parametrize(
    "replay",
    [
        {"code_verifier": "x" * 43},
        {"code_verifier": None},
        {"redirect_uri": "https://evil.example.com/cb"},
    ],
    ids=["a wrong code_verifier", "no code_verifier", "another redirect_uri"],
)
async def test_a_replay_with_invalid_parameters_revokes_nothing__oauth21_7_5_2(
    replay: dict[str, Any],
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    backends: Backends,
) -> None:
    app = await make_app()
    code = await issue_code(app)
    gid = grant_id_of(await exchange(app, code))
    assert_error(await exchange(app, code, **replay), "invalid_grant")
    assert not await grant_revoked(backends, gid, time.time())


async def test_a_replay_by_another_client_revokes_nothing__oauth21_7_5_2(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, backends: Backends
) -> None:
    app, thief = await make_app(), await make_app()
    code = await issue_code(app)
    gid = grant_id_of(await exchange(app, code))
    assert_error(await exchange(thief, code), "invalid_grant")
    assert not await grant_revoked(backends, gid, time.time())


async def test_of_twenty_concurrent_exchanges_exactly_one_succeeds__rfc6749_4_1_2(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app()
    code = await issue_code(app)
    responses = await asyncio.gather(*(exchange(app, code) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * 19
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}


@pytest.mark.parametrize(
    "changes",
    [
        {"redirect_uri": "https://app.example.com/cb/other"},
        {"redirect_uri": None},
        {"code_verifier": VERIFIER[:-1] + "A"},
        {"code_verifier": None},
        {"code": "not-a-code"},
        {"code": "A" * 43},
    ],
    ids=[
        "another redirect_uri",
        "no redirect_uri",
        "a wrong code_verifier",
        "no code_verifier",
        "a malformed code",
        "an unknown code",
    ],
)
async def test_a_code_is_bound_to_its_redirect_uri_and_pkce_challenge__rfc6749_4_1_3_rfc7636_4_6(
    changes: dict[str, Any], make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app()
    changes = dict(changes)  # the table is shared by every backend's run
    code = changes.pop("code", None) or await issue_code(app)
    assert_error(await exchange(app, code, **changes), "invalid_grant")


async def test_a_code_is_bound_to_its_client__rfc6749_4_1_3(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app, other = await make_app(), await make_app()
    code = await issue_code(app)
    assert_error(await exchange(other, code), "invalid_grant")
    # The code is spent by the failed attempt (single use), so the owner is refused too.
    assert_error(await exchange(app, code), "invalid_grant")


async def test_a_public_client_without_a_verifier_is_refused__oauth21_4_1_3(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app(public=True)
    code = await issue_code(app)
    assert_error(await exchange(app, code, auth="none", code_verifier=None), "invalid_grant")


async def test_an_expired_code_is_refused__rfc6749_4_1_2(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app()
    # Issued two minutes ago with a 60 s life: the app's own clock finds it expired.
    code = await issue_code(app, clock=FixedClock(time.time() - 120))
    assert_error(await exchange(app, code), "invalid_grant")


async def test_a_missing_code_is_an_invalid_request__rfc6749_4_1_3(
    make_app: MakeApp, exchange: Exchange
) -> None:
    app = await make_app()
    assert_error(await exchange(app, ""), "invalid_request")
