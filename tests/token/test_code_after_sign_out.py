"""A code outlives nothing it came from (every backend): a logout of the session that
approved it, or a "log out everywhere" of its user, before the exchange refuses it."""

import time

from gatepass.accounts.model import User
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.storage.backends import Backends
from gatepass.web.app import build_revocations
from tests.token.conftest import SID, Exchange, IssueCode, MakeApp, assert_error


async def test_a_code_from_a_session_ended_since_is_refused(
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    settings: Settings,
    backends: Backends,
) -> None:
    app = await make_app()
    code, other = await issue_code(app), await issue_code(app)
    assert (await exchange(app, other)).status_code == 200  # the session was alive then
    revocations = build_revocations(settings, backends, SystemClock())
    assert await revocations.revoke_session(SID, until=time.time() + 3600)
    assert_error(await exchange(app, code), "invalid_grant")


async def test_a_code_issued_before_log_out_everywhere_is_refused_one_after_is_not(
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    settings: Settings,
    backends: Backends,
    user: User,
) -> None:
    app = await make_app()
    before = await issue_code(app)
    await build_revocations(settings, backends, SystemClock()).revoke_subject(user.id)
    assert_error(await exchange(app, before), "invalid_grant")
    after = await issue_code(app)
    assert (await exchange(app, after)).status_code == 200
