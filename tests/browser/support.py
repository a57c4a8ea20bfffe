"""Types shared by the browser fixtures and tests (conftest modules are not imported)."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page


@dataclass(frozen=True)
class Server:
    """A running `gatepass serve`: its base URL and its log file."""

    url: str
    log: Path


# Opens a new browser context (its own cookies: another device) and returns its page.
NewDevice = Callable[[str], Page]
