"""Borrow a contract suite: its tests and fixtures, collected again under this folder's
fixtures (conftest.py), so what holds on one Redis server is checked on a Redis Cluster
and behind Sentinel with the very same test functions."""

from types import ModuleType
from typing import Any

from _pytest.fixtures import FixtureFunctionDefinition


def borrowed(module: ModuleType) -> dict[str, Any]:
    """The module's tests and fixtures (one suite per module: fixture names repeat),
    leaving out the tests pinned to backends other than Redis."""
    return {
        name: value
        for name, value in vars(module).items()
        if (name.startswith("test_") and _on_redis(value))
        or isinstance(value, FixtureFunctionDefinition)
    }


def _on_redis(test: Any) -> bool:
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize" and mark.args[0] == "backend":
            return "redis" in mark.args[1]
    return True
