"""Browser fixtures: a real `gatepass serve` on SQLite and Debian's Chromium via Playwright.

The sync API is used: these tests are plain functions, so no asyncio loop is running
in them. Playwright is module-scoped (not session-scoped) so its private event loop
is closed before the async tests of other modules run.

On failure, every page the test opened is saved under artifacts/browser/.
"""

import re
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.browser.support import NewDevice, Server
from tests.live_server import live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
TIMEOUT_MS = 10_000  # generous: CI machines are shared
FAILED = pytest.StashKey[bool]()

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`gatepass serve` on a free port with its own SQLite file, stopped at the end."""
    with live_server(tmp_path_factory.mktemp("gatepass-server")) as running:
        yield Server(url=running.url, log=running.log)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember a failed setup or call, so the fixtures' teardown can take screenshots."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def new_device(
    browser: Browser, server: Server, request: pytest.FixtureRequest
) -> Iterator[NewDevice]:
    """Open a fresh browser context (a separate device, own cookies) with its own user agent."""
    opened: list[tuple[str, BrowserContext, Page]] = []

    def open_device(name: str) -> Page:
        context = browser.new_context(base_url=server.url, user_agent=f"gatepass-test {name}")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        opened.append((name, context, page))
        return page

    yield open_device
    for name, context, page in opened:
        if request.node.stash.get(FAILED, False):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            target = ARTIFACTS / re.sub(r"[^\w.-]", "_", f"{request.node.name}-{name}.png")
            try:
                page.screenshot(path=str(target), full_page=True)
            except Exception as exc:  # a crashed page must not hide the test's own failure
                sys.stderr.write(f"screenshot {target} failed: {exc}\n")
        context.close()


@pytest.fixture
def page(new_device: NewDevice) -> Page:
    return new_device("device-a")
