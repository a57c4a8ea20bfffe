"""`gatepass audit list` shows the authentication events the app and the command record.

The audit log always lives in SQL, so these run on SQLite and PostgreSQL.
"""

import pytest

from gatepass.config import Settings
from gatepass.storage.backends import Backends
from tests.cli.conftest import Cli
from tests.support import log_in, post_form, sign_up, web_client

AGENT = "AuditTest/1.0"


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def browse(settings: Settings, backends: Backends) -> None:
    """Ada signs up, logs out, mistypes her password, logs in; Bob signs up."""
    async with web_client(settings, backends) as browser:
        browser.headers["User-Agent"] = AGENT
        assert (await sign_up(browser, "ada@example.com")).status_code == 303
        assert (await post_form(browser, "/logout", {}, page="/account")).status_code == 303
        assert (await log_in(browser, "ada@example.com", "not her password")).status_code == 200
        assert (await log_in(browser, "ada@example.com")).status_code == 303
    async with web_client(settings, backends, address="192.0.2.9") as other:
        assert (await sign_up(other, "bob@example.com")).status_code == 303


async def test_audit_list_json_shows_the_events_newest_first(
    cli: Cli, settings: Settings, backends: Backends
) -> None:
    await browse(settings, backends)
    await cli.ok("user", "disable", "bob@example.com")

    events = await cli.json("audit", "list")

    # A sign-up also mails the verification link (recorded once the page is out).
    assert [(e["type"], e["email"]) for e in events] == [
        ("user.disabled", "bob@example.com"),
        ("email.verification.sent", "bob@example.com"),
        ("signup", "bob@example.com"),
        ("login.succeeded", "ada@example.com"),
        ("login.failed", "ada@example.com"),
        ("logout", "ada@example.com"),
        ("email.verification.sent", "ada@example.com"),
        ("signup", "ada@example.com"),
    ]
    ada_events = [e for e in events if e["email"] == "ada@example.com"]
    assert {e["address"] for e in ada_events} == {"127.0.0.1"}
    assert {e["user_agent"] for e in ada_events} == {AGENT}
    assert events[0]["detail"] == "cli"
    assert events[2]["address"] == "192.0.2.9"
    assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_audit_list_for_one_user_shows_only_their_events(
    cli: Cli, settings: Settings, backends: Backends
) -> None:
    await browse(settings, backends)
    events = await cli.json("audit", "list", "--user", "bob@example.com", "--limit", "5")
    assert [(e["type"], e["email"]) for e in events] == [
        ("email.verification.sent", "bob@example.com"),
        ("signup", "bob@example.com"),
    ]
